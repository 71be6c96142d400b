"""The eval's pure parts: statistics, arm overlays, the task format, the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusion_tui.evals.arms import ArmError, build_arms, deep_merge, read_base
from fusion_tui.evals.report import build_report, markdown
from fusion_tui.evals.runner import RunResult, RunStore
from fusion_tui.evals.stats import exact_mcnemar, median, paired, wilson
from fusion_tui.evals.tasks import STARTER_SUITE, TaskError, load_tasks


def test_wilson_matches_known_values():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 12)[0] == 0.0 and wilson(0, 12)[1] == pytest.approx(0.2425, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_exact_mcnemar_is_a_two_sided_sign_test():
    assert exact_mcnemar(0, 0) == 1.0
    assert exact_mcnemar(0, 6) == pytest.approx(2 / 64)
    assert exact_mcnemar(1, 9) == pytest.approx(2 * 11 / 1024)
    assert exact_mcnemar(5, 5) == 1.0


def test_paired_counts_flips_on_shared_keys_only():
    result = paired({"a#1": True, "b#1": False, "c#1": False, "d#1": True},
                    {"a#1": False, "b#1": True, "c#1": True, "e#1": True})
    assert result.pairs == 3
    assert result.only_baseline == ["a#1"] and result.only_arm == ["b#1", "c#1"]
    assert median([3.0, 1.0, 2.0, 10.0]) == 2.5 and median([]) is None


def test_arms_are_overlays_and_self_samples_the_actor(tmp_path: Path):
    base = read_base(None)
    arms = {a.name: a for a in build_arms(["solo", "council", "council-nojudge", "self"], base,
                                          {}, tmp_path, self_n=4)}
    assert arms["solo"].config["council"]["enabled"] is False
    assert arms["council"].config["council"]["trigger"] == "always"
    assert arms["council"].config["council"].get("synthesize", True) is True
    assert arms["council-nojudge"].config["council"]["synthesize"] is False
    assert arms["council-nojudge"].config["pools"] == base["pools"]
    selfish = arms["self"].config
    assert selfish["council"]["self_consistency"] == {
        "upstream": "actor", "samples": 4, "temperatures": [0.2, 0.6, 1.0]}
    assert selfish["upstreams"] == base["upstreams"] and selfish["pools"] == base["pools"]
    for arm in arms.values():
        assert arm.config["server"]["port"] == 0
        assert arm.config["sessions"]["dir"] == str(tmp_path / arm.name)


def test_bad_arms_say_why(tmp_path: Path):
    base = read_base(None)
    with pytest.raises(ArmError, match="alloy"):
        build_arms(["alloy"], base, {}, tmp_path)
    with pytest.raises(ArmError, match="unknown arm 'nope'"):
        build_arms(["nope"], base, {}, tmp_path)
    with pytest.raises(ArmError, match=r"(?s)arm 'bad'.*council\.trigger"):
        build_arms(["bad"], base, {"bad": {"council": {"trigger": "sometimes"}}}, tmp_path)
    custom = build_arms(["judge-off"], base,
                        {"judge-off": {"council": {"synthesize": False, "trigger": "always"}}},
                        tmp_path)
    assert custom[0].config["council"]["synthesize"] is False


def test_deep_merge_appends_only_add_upstreams():
    merged = deep_merge({"a": {"b": 1, "c": [1]}, "upstreams": [{"id": "x"}]},
                        {"a": {"c": [2]}, "add_upstreams": [{"id": "y"}]})
    assert merged == {"a": {"b": 1, "c": [2]}, "upstreams": [{"id": "x"}, {"id": "y"}]}


def test_starter_suite_shape():
    tasks = load_tasks(STARTER_SUITE)
    assert len(tasks) == 12
    assert {t.language for t in tasks} == {"python", "javascript"}
    assert {"failing-test", "hidden-test", "feature-from-docstring", "refactor", "concurrency",
            "read-three-files"} <= {t.kind for t in tasks}
    assert all(t.prompt and t.check and t.time_limit_s > 0 for t in tasks)


def test_task_errors_name_the_problem(tmp_path: Path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "task.yaml").write_text("time_limit_s: 5\n")
    with pytest.raises(TaskError, match="`check`"):
        load_tasks(tmp_path)
    (tmp_path / "t" / "task.yaml").write_text("check: 'true'\ntime_limit_s: -1\n")
    with pytest.raises(TaskError, match="a prompt is required"):
        load_tasks(tmp_path)
    (tmp_path / "t" / "prompt.md").write_text("fix it\n")
    with pytest.raises(TaskError, match="no repo/ folder"):
        load_tasks(tmp_path)
    (tmp_path / "t" / "repo").mkdir()
    with pytest.raises(TaskError, match="time_limit_s must be a positive"):
        load_tasks(tmp_path)
    with pytest.raises(TaskError, match="no task named zzz"):
        load_tasks(STARTER_SUITE, ["zzz"])


def _run(task: str, arm: str, passed: bool, cost: float, councils: int = 0) -> RunResult:
    return RunResult(task=task, arm=arm, repeat=1, status="passed" if passed else "failed",
                     passed=passed, agent_rc=0, agent_timed_out=False, wall_s=10.0,
                     check_rc=0 if passed else 1, check_output="", session_ids=[],
                     recordings=[], usage={"roles": {
                         "advisors": {"input_tokens": 100, "output_tokens": 10,
                                      "cost_usd": cost / 2},
                         "judge": {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
                         "actor": {"input_tokens": 50, "output_tokens": 5,
                                   "cost_usd": cost / 2}},
                         "councils": councils, "cost_usd": cost})


def test_report_pairs_costs_and_renders(tmp_path: Path):
    results = [_run("a", "solo", False, 1.0), _run("b", "solo", True, 1.0),
               _run("c", "solo", False, 1.0),
               _run("a", "council", True, 3.0, 2), _run("b", "council", True, 3.0, 2),
               _run("c", "council", True, 3.0, 1)]
    report = build_report(results, ["solo", "council"], ["a", "b", "c"], 1, "claude")
    council = report["arms"]["council"]
    assert council["passes"] == 3 and council["councils"] == 5
    assert council["cost_usd"]["advisors"] == pytest.approx(4.5)
    vs = council["vs_baseline"]
    assert vs["flipped_to_pass"] == ["a#1", "c#1"] and vs["flipped_to_fail"] == []
    assert vs["cost_per_extra_pass_usd"] == pytest.approx(3.0)
    assert vs["mcnemar_exact_p"] == pytest.approx(0.5)
    text = markdown(report)
    assert "| council | 3/3 (100%) |" in text and "a#1, c#1" in text


def test_run_store_skips_a_torn_last_line(tmp_path: Path):
    store = RunStore(tmp_path)
    store.add(_run("a", "solo", True, 0.5))
    with (tmp_path / "runs.jsonl").open("a") as fh:
        fh.write('{"task": "b", "arm"')
    again = RunStore(tmp_path)
    assert list(again.results) == [("a", "solo", 1)] and again.skipped == 1
    assert again.spent_usd == pytest.approx(0.5)
