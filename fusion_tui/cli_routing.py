"""Commands around the gate: `model pull`, `eval routing`, `explain`."""

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


def _load_gate(settings: Settings) -> Any:
    """Load the configured model (with the announced offline fallback) and train the gate."""
    from fusion_tui.routing.gate import GateService

    service = GateService(settings.routing.embeddings, settings.routing.gate)
    asyncio.run(service.run())
    if service.state != "ready" or service.gate is None:
        print(f"fusion-tui: {service.unavailable_reason()}", file=sys.stderr)
        raise SystemExit(1)
    if service.fallback_reason:
        print(f"fusion-tui: note: running on the offline test model {service.model}: "
              f"{service.fallback_reason}", file=sys.stderr)
    return service.gate


def eval_routing(settings: Settings, file: Path) -> int:
    """Accuracy and confusion matrix of the gate on a labelled JSONL file."""
    from fusion_tui.routing.evaluate import evaluate, format_report

    if not file.is_file():
        print(f"fusion-tui: {file}: no such file", file=sys.stderr)
        return 1
    print(format_report(evaluate(file, _load_gate(settings))))
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
