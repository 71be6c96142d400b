"""Commands around the gate: `model pull`, `eval routing`, `explain`, `gate retrain`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from fusion_tui.config import Settings


def model_pull(settings: Settings, model: str | None, file: str | None) -> int:
    """Download the embedding model into the Hugging Face cache, with a progress bar."""
    from tqdm import tqdm

    from fusion_tui.routing.modelstore import ModelStoreError, resolve_model

    cfg = settings.routing.embeddings
    bars: dict[str, tqdm[Any]] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(total=total, unit="B", unit_scale=True, desc=name,
                                    file=sys.stderr)
        bar.update(done - bar.n)

    try:
        resolved = resolve_model(model or cfg.model, file or cfg.file, revision=cfg.revision,
                                 cache_dir=cfg.cache_dir, progress=progress)
    except ModelStoreError as exc:
        print(f"fusion-tui: {exc}", file=sys.stderr)
        return 1
    finally:
        for bar in bars.values():
            bar.close()
    print(f"{resolved.name}: {resolved.folder / resolved.file}")
    return 0


def _progress_printer() -> Any:
    """A (stage, done, total) callback drawing one tqdm bar per stage on stderr."""
    from tqdm import tqdm

    bars: dict[str, tqdm[Any]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = tqdm(total=total, desc=f"gate: {stage}", file=sys.stderr,
                                     leave=False)
        bar.update(done - bar.n)

    progress.close = lambda: [b.close() for b in bars.values()]  # type: ignore[attr-defined]
    return progress


def _load_gate(settings: Settings, *, force: bool = False) -> Any:
    """Load the configured model (with the announced offline fallback) and the gate's head:
    from the head cache when the model and the data are unchanged, else trained now (with
    progress on stderr) and cached."""
    from fusion_tui.routing.gate import GateService

    progress = _progress_printer()
    service = GateService(settings.routing.embeddings, settings.routing.gate,
                          keep_bodies=settings.sessions.record == "full",
                          train_progress=progress, force_retrain=force)
    try:
        asyncio.run(service.run())
    finally:
        progress.close()
    if service.state != "ready" or service.gate is None:
        print(f"fusion-tui: {service.unavailable_reason()}", file=sys.stderr)
        raise SystemExit(1)
    if service.fallback_reason:
        print(f"fusion-tui: note: running on the offline test model {service.model}: "
              f"{service.fallback_reason}", file=sys.stderr)
    return service.gate


def eval_routing(settings: Settings, file: Path | None, split: str | None = None,
                 sessions: Path | None = None, groups: bool = False) -> int:
    """Accuracy, per-tier recall and confusion matrix of the gate on a labelled file (default:
    the held-out split of the shipped real captures), or its agreement with the person over a
    folder of recorded sessions."""
    from fusion_tui.routing.corpus import REAL_CAPTURES, CorpusError, load_labelled
    from fusion_tui.routing.evaluate import evaluate, format_report

    if sessions is not None:
        from fusion_tui.routing.sessions_eval import agreement, format_agreement

        if not sessions.is_dir():
            print(f"fusion-tui: {sessions}: no such folder", file=sys.stderr)
            return 1
        print(format_agreement(agreement(sessions, _load_gate(settings))))
        return 0
    path = file or REAL_CAPTURES
    if not path.is_file():
        print(f"fusion-tui: {path}: no such file", file=sys.stderr)
        return 1
    try:
        # The shipped captures default to their held-out split; a file of yours to all of it.
        wanted = {None: "heldout" if file is None else None, "all": None}.get(split, split)
        items = load_labelled(path, wanted)
    except (CorpusError, ValueError) as exc:
        print(f"fusion-tui: {exc}", file=sys.stderr)
        return 1
    if not items:
        print(f"fusion-tui: {path}: no labelled requests (split {wanted or 'all'})",
              file=sys.stderr)
        return 1
    name = f"{path}" + (f" (split {wanted})" if wanted else "")
    print(format_report(evaluate(items, _load_gate(settings), name), groups=groups))
    return 0


def gate_retrain(settings: Settings) -> int:
    """Retrain the gate's head now on the shipped data and the person's steering examples,
    and cache it for the next start."""
    gate = _load_gate(settings, force=True)
    from fusion_tui.routing.steering import SteeringExamples

    mine = len(SteeringExamples().load())
    print(f"gate head trained on {gate.trained_on} requests ({mine} of them your overrides) "
          f"in {gate.train_s:.1f} s; cached as {gate.cache_key}")
    return 0


def explain(settings: Settings, file: Path, protocol: str | None) -> int:
    """What the gate and router would do with a request body, without calling any upstream."""
    from fusion_tui.core.explain import explain_body

    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"fusion-tui: {file}: {exc}", file=sys.stderr)
        return 1
    result = explain_body(settings, _load_gate(settings), body, protocol)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def register(sub: Any, common: Any, load: Any) -> None:
    """The `gate` command group (`gate retrain`)."""
    gate = sub.add_parser("gate", help="the gate that picks a tier per request")
    gate_sub = gate.add_subparsers(dest="gate_command", required=True)
    retrain = gate_sub.add_parser("retrain", parents=[common],
                                  help="retrain the gate's head with your dashboard overrides")
    retrain.set_defaults(func=lambda a: gate_retrain(load(a)))


def add_eval_routing_args(routing: Any, load: Any) -> None:
    """Arguments of `eval routing`."""
    routing.add_argument("file", type=Path, nargs="?",
                         help="labelled JSONL (.gz, .xz or plain): {label, body} or captures "
                              "{tier, protocol, body}; default: the shipped real captures, "
                              "held-out split")
    routing.add_argument("--split", choices=["train", "heldout", "all"],
                         help="which split of a capture file (default: heldout for the shipped "
                              "captures, all for a file you name)")
    routing.add_argument("--sessions", type=Path, metavar="FOLDER",
                         help="a sessions folder: how often the gate agrees with your overrides")
    routing.add_argument("--groups", action="store_true",
                         help="also list accuracy per client/scenario")
    routing.set_defaults(func=lambda a: eval_routing(
        load(a), a.file, a.split, a.sessions, a.groups))
