"""Run every (arm, task, repeat): a proxy per arm, the agent in a fresh copy of the task, the
check, the run's recordings read back. Each finished run is appended to runs.jsonl at once,
so a killed eval continues where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fusion_tui.evals.agents import Agent, find_agent, invocation, session_id_for
from fusion_tui.evals.arms import Arm
from fusion_tui.evals.proxy import ArmProxy
from fusion_tui.evals.tasks import Task
from fusion_tui.evals.usage import RunUsage, usage_of

RUNS_FILE = "runs.jsonl"
META_FILE = "eval-meta.json"
OUTPUT_TAIL = 2000


class EvalError(Exception):
    """The eval cannot start or continue; the message says why."""


@dataclass
class RunResult:
    """One finished run, as stored in runs.jsonl."""

    task: str
    arm: str
    repeat: int
    status: str  # passed | failed | agent_failed_check_passed... see `outcome`
    passed: bool
    agent_rc: int | None
    agent_timed_out: bool
    wall_s: float
    check_rc: int | None
    check_output: str
    session_ids: list[str]
    recordings: list[str]
    usage: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0

    @property
    def key(self) -> tuple[str, str, int]:
        """(task, arm, repeat)."""
        return self.task, self.arm, self.repeat

    @property
    def cost_usd(self) -> float:
        """Dollars this run spent, from its recordings."""
        return float(self.usage.get("cost_usd", 0.0))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        """Back from a runs.jsonl line."""
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class EvalPlan:
    """What to run and where."""

    tasks: list[Task]
    arms: list[Arm]
    repeats: int
    agent: Agent
    out: Path
    agent_bin: str | None = None
    agent_args: list[str] = field(default_factory=list)
    budget_usd: float | None = None
    run_timeout_s: float | None = None
    keep_work: bool = False

    def keys(self) -> list[tuple[str, str, int]]:
        """Every (task, arm, repeat), arm by arm."""
        return [(t.name, a.name, r) for a in self.arms for t in self.tasks
                for r in range(1, self.repeats + 1)]


class RunStore:
    """runs.jsonl: one finished run a line, flushed and synced as it is written. A torn last
    line (the eval was killed mid-write) is ignored and that run redone."""

    def __init__(self, out: Path) -> None:
        self.path = out / RUNS_FILE
        self.results: dict[tuple[str, str, int], RunResult] = {}
        self.skipped = 0
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    result = RunResult.from_dict(json.loads(line))
                except (ValueError, TypeError):
                    self.skipped += 1
                    continue
                self.results[result.key] = result

    def add(self, result: RunResult) -> None:
        """Persist one run."""
        self.results[result.key] = result
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(result)) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    @property
    def spent_usd(self) -> float:
        """Dollars spent by every stored run."""
        return sum(r.cost_usd for r in self.results.values())


def _check_meta(plan: EvalPlan) -> None:
    meta: dict[str, Any] = {"agent": str(plan.agent), "tasks": [t.name for t in plan.tasks],
            "arms": {a.name: a.config for a in plan.arms}}
    path = plan.out / META_FILE
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise EvalError(f"{path}: unreadable ({exc}); use another --out") from exc
        if old.get("agent") != meta["agent"]:
            raise EvalError(f"{plan.out} holds runs of agent {old.get('agent')!r}, not "
                            f"{meta['agent']!r}: use another --out")
        for name, config in meta["arms"].items():
            before = (old.get("arms") or {}).get(name)
            if before is not None and before != config:
                raise EvalError(f"{plan.out}: arm {name!r} ran with a different config "
                                "before; use another --out (or another arm name)")
        meta["arms"] = {**(old.get("arms") or {}), **meta["arms"]}
        meta["tasks"] = sorted(set(old.get("tasks") or []) | set(meta["tasks"]))
    plan.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")


async def _run_process(argv: list[str], cwd: Path, env: dict[str, str], timeout_s: float,
                       log: Path) -> tuple[int | None, bool]:
    """Run a command in its own process group with output to `log`; (status, timed out).
    On timeout the whole group is killed."""
    with log.open("wb") as fh:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=fh,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        try:
            rc = await asyncio.wait_for(proc.wait(), timeout_s)
            return rc, False
        except TimeoutError:
            return None, True
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # grandchildren left behind


def _recordings(folder: Path) -> dict[Path, float]:
    if not folder.is_dir():
        return {}
    return {p: p.stat().st_mtime for p in folder.glob("*.jsonl")}


def _tail(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-OUTPUT_TAIL:]
    except OSError:
        return ""


async def run_one(plan: EvalPlan, task: Task, arm: Arm, repeat: int, proxy: ArmProxy,
                  binary: Path) -> RunResult:
    """One run of one task on one arm."""
    tag = f"{task.name}/{arm.name}/{repeat}"
    session_id = session_id_for(f"{plan.out.resolve()}:{tag}")
    sessions = Path(str(arm.config["sessions"]["dir"]))
    logs = plan.out / "logs" / arm.name
    logs.mkdir(parents=True, exist_ok=True)
    before = _recordings(sessions)
    scratch = Path(tempfile.mkdtemp(prefix=f"fusion-eval-{task.name}-"))
    started = time.time()
    try:
        workdir = task.fresh_copy(scratch / "repo")
        inv = invocation(plan.agent, binary, proxy.address, workdir, scratch / "home",
                         task.prompt, session_id, tag, plan.agent_args)
        limit = plan.run_timeout_s or task.time_limit_s
        t0 = time.monotonic()
        agent_rc, timed_out = await _run_process(inv.argv, workdir, inv.env, limit,
                                                 logs / f"{task.name}-r{repeat}.agent.log")
        wall = time.monotonic() - t0
        task.add_hidden(workdir)
        check_log = logs / f"{task.name}-r{repeat}.check.log"
        check_env = {**inv.env, "HOME": str(scratch / "home")}
        check_rc, check_timed_out = await _run_process(
            ["bash", "-c", task.check], workdir, check_env, task.check_time_limit_s, check_log)
        check_output = _tail(check_log)
        if check_timed_out:
            check_output += f"\n[check timed out after {task.check_time_limit_s:g}s]"
        if plan.keep_work:
            kept = plan.out / "work" / arm.name / f"{task.name}-r{repeat}"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(workdir, kept)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    await asyncio.sleep(0)
    after = _recordings(sessions)
    touched = sorted(p for p, m in after.items() if before.get(p) != m)
    usage: RunUsage = usage_of(touched)
    passed = check_rc == 0
    status = "passed" if passed else "failed"
    if timed_out:
        status += "/agent_timeout"
    elif agent_rc not in (0, None):
        status += f"/agent_exit_{agent_rc}"
    if not touched:
        usage.notes.append("no session recording was written: did the agent reach the proxy?")
    return RunResult(task=task.name, arm=arm.name, repeat=repeat, status=status, passed=passed,
                     agent_rc=agent_rc, agent_timed_out=timed_out, wall_s=round(wall, 3),
                     check_rc=check_rc, check_output=check_output,
                     session_ids=[p.stem for p in touched],
                     recordings=[str(p) for p in touched], usage=usage.as_dict(),
                     started=started)


Progress = Callable[[str, RunResult | None], None]
"""Called with ("start", None) before each run and ("done", result) after it; the message
names the run."""


@dataclass
class EvalOutcome:
    """What happened: every stored run (earlier ones included) and why it stopped."""

    results: list[RunResult]
    stopped: str | None = None
    resumed: int = 0


async def run_eval(plan: EvalPlan, progress: Progress | None = None) -> EvalOutcome:
    """Run what runs.jsonl does not hold yet; stop early when the budget is spent. SIGTERM,
    SIGINT or SIGHUP cancel it cleanly: the running agent and the arm's proxy are stopped
    (they run in their own process groups, so a terminal's signal does not reach them), and
    the next call resumes."""
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, me.cancel if me else lambda: None)
            handled.append(sig)
    try:
        return await _run_eval(plan, progress)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


async def _run_eval(plan: EvalPlan, progress: Progress | None) -> EvalOutcome:
    binary = find_agent(plan.agent, plan.agent_bin)
    _check_meta(plan)
    store = RunStore(plan.out)
    wanted = plan.keys()
    resumed = sum(1 for k in wanted if k in store.results)
    tasks = {t.name: t for t in plan.tasks}
    stopped: str | None = None
    for arm in plan.arms:
        pending = [k for k in wanted if k[1] == arm.name and k not in store.results]
        if not pending:
            continue
        if plan.budget_usd is not None and store.spent_usd >= plan.budget_usd:
            stopped = f"budget spent (${store.spent_usd:.4f} of ${plan.budget_usd:g})"
            break
        proxy = ArmProxy(arm.config, plan.out / "configs" / f"{arm.name}.yaml",
                         plan.out / "logs" / f"{arm.name}.proxy.log")
        async with proxy:
            for task_name, _, repeat in pending:
                if plan.budget_usd is not None and store.spent_usd >= plan.budget_usd:
                    stopped = f"budget spent (${store.spent_usd:.4f} of ${plan.budget_usd:g})"
                    break
                label = f"{arm.name} · {task_name} · #{repeat}"
                if progress:
                    progress(label, None)
                result = await run_one(plan, tasks[task_name], arm, repeat, proxy, binary)
                store.add(result)
                if progress:
                    progress(label, result)
        if stopped:
            break
    results = [store.results[k] for k in wanted if k in store.results]
    return EvalOutcome(results, stopped, resumed)
