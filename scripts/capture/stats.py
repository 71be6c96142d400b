"""Print the corpus counts: client x kind x tier x split, languages, size.

    .venv/bin/python scripts/capture/stats.py
"""

from __future__ import annotations

import json
from collections import Counter

from fusion_tui.routing.corpus import REAL_CAPTURES, open_text

CORPUS = REAL_CAPTURES


def main() -> None:
    with open_text(CORPUS) as fh:
        records = [json.loads(line) for line in fh]
    cells = Counter((r["client"], r["kind"], r["tier"], r["split"]) for r in records)
    print(f"{'client':12} {'kind':11} {'tier':8} {'train':>6} {'heldout':>8}")
    for client, kind, tier in sorted({k[:3] for k in cells}):
        print(f"{client:12} {kind:11} {tier:8} {cells[(client, kind, tier, 'train')]:6} "
              f"{cells[(client, kind, tier, 'heldout')]:8}")
    for split in ("train", "heldout"):
        part = [r for r in records if r["split"] == split]
        tiers = Counter(r["tier"] for r in part)
        print(f"{split}: {len(part)} requests, {len({r['scenario'] for r in part})} scenarios, "
              + ", ".join(f"{t} {tiers[t]}" for t in ("compact", "regular", "plan")))
    print("languages:", dict(Counter(r["lang"] for r in records).most_common()))
    print(f"total {len(records)} requests, {CORPUS.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
