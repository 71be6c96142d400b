"""`fusion-tui eval council`: argument parsing, the progress bar, the three report forms."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fusion_tui.evals.agents import Agent, AgentError
from fusion_tui.evals.arms import ArmError, build_arms, read_arms_file, read_base
from fusion_tui.evals.proxy import ProxyError
from fusion_tui.evals.report import build_report, markdown, table_rows
from fusion_tui.evals.runner import EvalError, EvalPlan, RunResult, RunStore, run_eval
from fusion_tui.evals.tasks import STARTER_SUITE, TaskError, load_tasks

EXIT_USAGE = 2


def add_parser(eval_sub: argparse._SubParsersAction,
               common: argparse.ArgumentParser) -> None:
    """Register `eval council` under the `eval` command."""
    council = eval_sub.add_parser(
        "council", parents=[common],
        help="A/B the council: run a coding agent on verifiable tasks, one proxy per arm")
    council.add_argument("--tasks", type=Path, default=STARTER_SUITE,
                         help="folder of tasks, or one task folder (default: the starter suite "
                              "shipped with fusion-tui)")
    council.add_argument("--only", default="",
                         help="comma list of task names to keep")
    council.add_argument("--arms", default="solo,council,self",
                         help="comma list: solo, council, council-nojudge, self, or names "
                              "from --arms-file")
    council.add_argument("--arms-file", type=Path,
                         help="YAML mapping of arm name -> config overlay")
    council.add_argument("--self-n", type=int, default=3,
                         help="samples of the actor's model in the self arm (default 3)")
    council.add_argument("--repeats", type=int, default=1, help="runs per task and arm")
    council.add_argument("--agent", choices=[a.value for a in Agent], default="claude")
    council.add_argument("--agent-bin", help="path of the agent CLI (default: pinned copy "
                                             "in ./.cache, else on PATH)")
    council.add_argument("--agent-arg", action="append", default=[],
                         help="extra argument for the agent CLI (repeatable), e.g. "
                              "--agent-arg=--bare")
    council.add_argument("--budget-usd", type=float, default=None,
                         help="stop starting runs once this many dollars are spent")
    council.add_argument("--run-timeout", type=float, default=None,
                         help="each run's agent time limit in seconds, instead of the "
                              "tasks' own time_limit_s (e.g. for a slow local model)")
    council.add_argument("--out", type=Path, default=Path("fusion-eval"),
                         help="output folder; running again with the same one resumes")
    council.add_argument("--keep-work", action="store_true",
                         help="keep each run's work copy under OUT/work")
    council.set_defaults(func=cmd_eval_council)


def _console() -> Console:
    return Console(stderr=True)


def _terminal_table(report: dict[str, Any]) -> Table:
    header, rows = table_rows(report)
    table = Table(title="fusion-tui eval council", show_lines=False)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def cmd_eval_council(args: argparse.Namespace) -> int:
    """Run the eval (resuming what OUT already holds) and write report.json / report.md."""
    console = _console()
    names = [a.strip() for a in args.arms.split(",") if a.strip()]
    if not names or len(set(names)) != len(names):
        console.print("fusion-tui: --arms needs distinct arm names")
        return EXIT_USAGE
    if args.repeats < 1:
        console.print("fusion-tui: --repeats must be at least 1")
        return EXIT_USAGE
    out: Path = args.out.resolve()
    try:
        tasks = load_tasks(args.tasks, [n for n in args.only.split(",") if n] or None)
        base = read_base(Path(args.config) if args.config else None)
        custom = read_arms_file(args.arms_file) if args.arms_file else {}
        arms = build_arms(names, base, custom, out / "sessions", args.self_n)
    except (TaskError, ArmError) as exc:
        console.print(f"fusion-tui: {exc}", markup=False, soft_wrap=True)
        return EXIT_USAGE
    plan = EvalPlan(tasks=tasks, arms=arms, repeats=args.repeats, agent=Agent(args.agent),
                    out=out, agent_bin=args.agent_bin, agent_args=list(args.agent_arg),
                    budget_usd=args.budget_usd, run_timeout_s=args.run_timeout,
                    keep_work=args.keep_work)
    done_before = sum(1 for k in plan.keys() if k in RunStore(out).results)
    total = len(plan.keys())
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as bar:
        job = bar.add_task("eval", total=total, completed=done_before)

        def progress(label: str, result: RunResult | None) -> None:
            if result is None:
                bar.update(job, description=f"running {label}")
            else:
                bar.advance(job)
                bar.console.print(f"{label}: {result.status} in {result.wall_s:.1f}s",
                                  markup=False, soft_wrap=True)

        try:
            outcome = asyncio.run(run_eval(plan, progress))
        except (AgentError, EvalError, ProxyError, OSError) as exc:
            console.print(f"fusion-tui: {exc}", markup=False, soft_wrap=True)
            return 1
        except (asyncio.CancelledError, KeyboardInterrupt):
            console.print(f"fusion-tui: interrupted; finished runs are kept in {out} "
                          "(run the same command again to resume)", markup=False,
                          soft_wrap=True)
            return 130
    report = build_report(outcome.results, [a.name for a in arms], [t.name for t in tasks],
                          args.repeats, plan.agent.value, stopped=outcome.stopped)
    report["resumed_runs"] = outcome.resumed
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    Console().print(_terminal_table(report))
    sys.stdout.write(f"report: {out / 'report.json'} and {out / 'report.md'}"
                     + (f" (resumed {outcome.resumed} earlier runs)" if outcome.resumed else "")
                     + "\n")
    if outcome.stopped:
        sys.stderr.write(f"stopped early: {outcome.stopped}\n")
    return 0
