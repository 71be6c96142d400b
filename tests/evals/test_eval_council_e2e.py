"""`fusion-tui eval council` end to end on the simulated models with the real Claude Code CLI:
every arm on a subset of the starter suite, killed after the first runs, then resumed to a
complete report (JSON, markdown, terminal table). The full suite is the same command without
--only (docs/eval.md)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.claude_code import claude_bin

pytestmark = pytest.mark.e2e

TASKS = "py-failing-test,js-hidden-bug"
ARMS = ["solo", "council", "self"]


def _command(out: Path, agent_bin: Path) -> list[str]:
    return [sys.executable, "-c", "from fusion_tui.cli import main; raise SystemExit(main())",
            "eval", "council", "--only", TASKS, "--arms", ",".join(ARMS), "--repeats", "1",
            "--agent-bin", str(agent_bin), "--run-timeout", "120", "--out", str(out)]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FUSION_")}


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.is_file() else 0


def _port_closed(address: str) -> bool:
    host, port = address.removeprefix("http://").split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_eval_council_runs_every_arm_and_resumes_after_a_kill(tmp_path: Path):
    binary = claude_bin()
    out = tmp_path / "eval"
    first = subprocess.Popen(_command(out, binary), env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while _lines(out / "runs.jsonl") < 2:
        assert first.poll() is None, first.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "no run finished in 240s"
        time.sleep(0.2)
    first.send_signal(signal.SIGTERM)
    output, _ = first.communicate(timeout=60)
    assert first.returncode == 130, output[-3000:]
    assert "run the same command again to resume" in output
    interrupted_at = _lines(out / "runs.jsonl")
    assert 2 <= interrupted_at < 6
    for log in (out / "logs").glob("*.proxy.log"):
        started = next((line for line in log.read_text().splitlines()
                        if line.startswith('{"listening"')), None)
        if started is None:  # the kill came while this arm's proxy was starting: no port
            continue
        listening = json.loads(started)["listening"]
        assert _port_closed(listening), f"{log.name}: the arm's proxy outlived the eval"

    second = subprocess.run(_command(out, binary), env=_env(), capture_output=True, text=True,
                            timeout=600, check=False)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert f"resumed {interrupted_at} earlier runs" in second.stdout
    assert "fusion-tui eval council" in second.stdout  # the terminal table's title

    report = json.loads((out / "report.json").read_text())
    assert report["finished_runs"] == report["planned_runs"] == 6
    assert report["resumed_runs"] == interrupted_at
    assert list(report["arms"]) == ARMS
    for arm in ARMS:
        summary = report["arms"][arm]
        assert summary["runs"] == 2
        # The simulated actor reads a file and quotes it: it never fixes code.
        assert summary["passes"] == 0 and summary["ci95"][0] == 0.0
        assert summary["tokens"]["actor"]["input"] > 0
        assert summary["cost_usd"]["actor"] > 0
    assert report["arms"]["solo"]["councils"] == 0
    assert report["arms"]["solo"]["cost_usd"]["advisors"] == 0
    for arm in ("council", "self"):
        assert report["arms"][arm]["councils"] >= 2
        assert report["arms"][arm]["cost_usd"]["advisors"] > 0
        assert report["arms"][arm]["cost_usd"]["judge"] > 0
        assert report["arms"][arm]["vs_baseline"]["pairs"] == 2
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert len({(r["task"], r["arm"]) for r in runs}) == 6
    for run in runs:
        assert run["recordings"] and all(Path(p).is_file() for p in run["recordings"])
    self_config = (out / "configs" / "self.yaml").read_text()
    assert "self_consistency:" in self_config and "samples: 3" in self_config
    markdown = (out / "report.md").read_text()
    assert "| solo | 0/2 (0%) |" in markdown and "## Runs" in markdown


def test_eval_council_stops_at_the_budget(tmp_path: Path):
    binary = claude_bin()
    out = tmp_path / "eval"
    command = [sys.executable, "-c", "from fusion_tui.cli import main; raise SystemExit(main())",
               "eval", "council", "--only", "py-failing-test,py-hidden-bug", "--arms",
               "solo,council", "--agent-bin", str(binary), "--budget-usd", "0.000001",
               "--out", str(out)]
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["finished_runs"] == 1 and report["planned_runs"] == 4
    assert report["stopped"].startswith("budget spent")
    assert "stopped early: budget spent" in done.stderr
