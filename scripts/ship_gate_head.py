"""Train the gate's head for the bundled offline model on the shipped data and store it (with
the exemplar vectors) in fusion_tui/routing/data/heads/, so a first start with that model
loads it instead of training. Run it after changing the training data, the gate's features or
its default settings; tests/unit/test_shipped_head.py fails until you do. It ships the head
for the default settings (`routing.gate.ask_model: use-multilingual-v3`) and for
`ask_model: ""` (no ask encoder), so turning the encoder off does not train either.

    python scripts/ship_gate_head.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from fusion_tui.config.embeddings import GateSettings
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.headcache import SHIPPED_DIR, HeadCache
from fusion_tui.routing.modelstore import TEST_MODEL_FILE, assemble_test_model
from fusion_tui.routing.multilingual import USE_MULTILINGUAL


def main() -> int:
    """Retrain and replace the shipped head and vectors."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = assemble_test_model(Path(tmp) / "model")
        embedder = Embedder.load(folder, TEST_MODEL_FILE, device="cpu")
        for old in SHIPPED_DIR.glob("*"):
            if old.suffix in (".npz", ".npy"):
                old.unlink()
        for settings in (GateSettings(ask_model=USE_MULTILINGUAL), GateSettings(ask_model="")):
            start = time.perf_counter()
            gate = Gate.load_or_train(embedder, settings, cache=HeadCache(SHIPPED_DIR),
                                      force=True)
            took = time.perf_counter() - start
            sys.stdout.write(f"ask_model {settings.ask_model or '(none)'}: key "
                             f"{gate.cache_key}, trained in {took:.1f}s\n")
    for path in sorted(SHIPPED_DIR.glob("*")):
        sys.stdout.write(f"{path.name}  {path.stat().st_size:,} bytes\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
