"""Train the gate's head for the bundled offline model on the shipped data and store it (with
the exemplar vectors) in fusion_tui/routing/data/heads/, so a first start with that model
loads it instead of training. Run it after changing the training data, the gate's features or
its default settings; tests/unit/test_shipped_head.py fails until you do.

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


def main() -> int:
    """Retrain and replace the shipped head and vectors."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = assemble_test_model(Path(tmp) / "model")
        embedder = Embedder.load(folder, TEST_MODEL_FILE, device="cpu")
        for old in SHIPPED_DIR.glob("*"):
            if old.suffix in (".npz", ".npy"):
                old.unlink()
        start = time.perf_counter()
        gate = Gate.load_or_train(embedder, GateSettings(), cache=HeadCache(SHIPPED_DIR),
                                  force=True)
        took = time.perf_counter() - start
    for path in sorted(SHIPPED_DIR.glob("*")):
        sys.stdout.write(f"{path.name}  {path.stat().st_size:,} bytes\n")
    sys.stdout.write(f"key {gate.cache_key}, trained in {took:.1f}s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
