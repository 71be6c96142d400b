"""The report: per-arm pass rate with a 95% Wilson interval, the paired comparison against
the baseline arm (flipped tasks, exact McNemar), median wall time, tokens and dollars split by
advisors / judge / actor, councils convened, and the cost of each extra pass. As plain data
(JSON) and as markdown; the terminal table lives in `render`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fusion_tui.evals.runner import RunResult
from fusion_tui.evals.stats import median, paired, wilson
from fusion_tui.evals.usage import ROLES, RunUsage

REPORT_VERSION = 1


def _key(r: RunResult) -> str:
    return f"{r.task}#{r.repeat}"


def arm_summary(results: Sequence[RunResult]) -> dict[str, Any]:
    """One arm's numbers."""
    n = len(results)
    passes = sum(1 for r in results if r.passed)
    low, high = wilson(passes, n)
    roles: dict[str, dict[str, float]] = {
        role: {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0} for role in ROLES}
    councils = 0
    notes: list[str] = []
    for r in results:
        usage = RunUsage.from_dict(r.usage)
        councils += usage.councils
        for role, spend in usage.roles.items():
            roles[role]["input_tokens"] += spend.input_tokens
            roles[role]["output_tokens"] += spend.output_tokens
            roles[role]["cost_usd"] += spend.cost_usd
        notes += [f"{_key(r)}: {note}" for note in usage.notes]
    cost = sum(v["cost_usd"] for v in roles.values())
    return {"runs": n, "passes": passes, "pass_rate": passes / n if n else None,
            "ci95": [low, high], "median_wall_s": median([r.wall_s for r in results]),
            "agent_timeouts": sum(1 for r in results if r.agent_timed_out),
            "tokens": {role: {"input": int(v["input_tokens"]), "output": int(v["output_tokens"])}
                       for role, v in roles.items()},
            "cost_usd": {**{role: v["cost_usd"] for role, v in roles.items()}, "total": cost},
            "councils": councils, "notes": notes}


def comparison(base: Sequence[RunResult], arm: Sequence[RunResult]) -> dict[str, Any]:
    """The arm against the baseline on the (task, repeat) pairs both ran."""
    base_by = {_key(r): r for r in base}
    arm_by = {_key(r): r for r in arm}
    result = paired({k: r.passed for k, r in base_by.items()},
                    {k: r.passed for k, r in arm_by.items()})
    shared = base_by.keys() & arm_by.keys()
    extra_passes = len(result.only_arm) - len(result.only_baseline)
    extra_cost = (sum(arm_by[k].cost_usd for k in shared)
                  - sum(base_by[k].cost_usd for k in shared))
    return {"pairs": result.pairs, "flipped_to_pass": result.only_arm,
            "flipped_to_fail": result.only_baseline, "mcnemar_exact_p": result.p_value,
            "extra_passes": extra_passes, "extra_cost_usd": extra_cost,
            "cost_per_extra_pass_usd": extra_cost / extra_passes if extra_passes > 0 else None}


def build_report(results: Sequence[RunResult], arms: Sequence[str], tasks: Sequence[str],
                 repeats: int, agent: str, baseline: str = "solo",
                 stopped: str | None = None) -> dict[str, Any]:
    """The whole report as plain data (what report.json holds)."""
    by_arm = {a: [r for r in results if r.arm == a] for a in arms}
    report: dict[str, Any] = {
        "version": REPORT_VERSION, "agent": agent, "tasks": list(tasks), "repeats": repeats,
        "baseline": baseline if baseline in by_arm else None,
        "planned_runs": len(arms) * len(tasks) * repeats, "finished_runs": len(results),
        "stopped": stopped, "arms": {}}
    for arm, runs in by_arm.items():
        summary = arm_summary(runs)
        if baseline in by_arm and arm != baseline:
            summary["vs_baseline"] = comparison(by_arm[baseline], runs)
        report["arms"][arm] = summary
    report["runs"] = [{"task": r.task, "arm": r.arm, "repeat": r.repeat, "passed": r.passed,
                       "status": r.status, "wall_s": r.wall_s,
                       "cost_usd": r.cost_usd, "councils": r.usage.get("councils", 0),
                       "sessions": r.session_ids} for r in results]
    return report


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _money(x: float | None) -> str:
    return "-" if x is None else f"${x:.4f}"


def _secs(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}s"


def _k(n: float) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else f"{n:.0f}"


def table_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the summary table (shared by markdown and the terminal)."""
    header = ["arm", "pass", "95% CI", "vs solo +/-", "p", "wall (median)",
              "tokens adv/judge/actor", "$ adv/judge/actor", "councils", "$/extra pass"]
    rows = []
    for arm, s in report["arms"].items():
        vs = s.get("vs_baseline")
        tokens = "/".join(_k(s["tokens"][r]["input"] + s["tokens"][r]["output"])
                          for r in ROLES)
        cost = "/".join(f"{s['cost_usd'][r]:.3f}" for r in ROLES)
        rows.append([
            arm, f"{s['passes']}/{s['runs']} ({_pct(s['pass_rate'])})",
            f"{_pct(s['ci95'][0])}-{_pct(s['ci95'][1])}",
            f"+{len(vs['flipped_to_pass'])}/-{len(vs['flipped_to_fail'])}" if vs else "-",
            f"{vs['mcnemar_exact_p']:.3f}" if vs else "-",
            _secs(s["median_wall_s"]), tokens, cost, str(s["councils"]),
            (_money(vs["cost_per_extra_pass_usd"]) if vs and vs["extra_passes"] > 0
             else ("no extra pass" if vs else "-"))])
    return header, rows


def markdown(report: dict[str, Any]) -> str:
    """The report as a markdown page to share."""
    header, rows = table_rows(report)
    lines = [f"# fusion-tui eval council: {report['agent']}, {len(report['tasks'])} tasks x "
             f"{report['repeats']} repeat(s)", ""]
    lines.append(f"{report['finished_runs']} of {report['planned_runs']} planned runs finished"
                 + (f"; stopped: {report['stopped']}" if report["stopped"] else "") + ".")
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in rows]
    lines += ["", "Pass rates carry a 95% Wilson interval. `vs solo` counts tasks that flipped "
              "to pass (+) or to fail (-) against the solo arm on the same task and repeat; p is "
              "the exact two-sided McNemar (sign) test on those flips. Tokens are input+output; "
              "dollars use the prices in each arm's config.", ""]
    for arm, s in report["arms"].items():
        vs = s.get("vs_baseline")
        if vs and (vs["flipped_to_pass"] or vs["flipped_to_fail"]):
            lines.append(f"- **{arm}** flipped to pass: {', '.join(vs['flipped_to_pass']) or '-'}"
                         f"; to fail: {', '.join(vs['flipped_to_fail']) or '-'}")
    lines += ["", "## Runs", "", "| task | " + " | ".join(report["arms"]) + " |",
              "|---|" + "---|" * len(report["arms"])]
    cells: dict[tuple[str, str], str] = {}
    for run in report["runs"]:
        mark = "pass" if run["passed"] else "fail"
        cell = cells.get((f"{run['task']}#{run['repeat']}", run["arm"]))
        cells[(f"{run['task']}#{run['repeat']}", run["arm"])] = (
            (cell + ", " if cell else "") + f"{mark} ({run['wall_s']:.0f}s, "
            f"{run['councils']} councils)")
    keys = sorted({k for k, _ in cells})
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(cells.get((key, arm), "-")
                                                 for arm in report["arms"]) + " |")
    notes = [n for s in report["arms"].values() for n in s["notes"]]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"
