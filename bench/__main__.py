"""Run every benchmark, one after the other, each printing its table:
`python -m bench` (or `make bench`). Each also runs alone: `python -m bench.<name>`."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    ("classifier", []),
    ("overhead", ["--rounds", "3", "-n", "300"]),
    ("council", ["-n", "10"]),
    ("soak", ["--sessions", "50", "--seconds", "60"]),
    ("ui_flood", []),
    ("recording", []),
]


def main() -> int:
    """Run them all; non-zero if any failed."""
    failed = []
    for name, args in BENCHES:
        print(f"\n=== bench.{name} {' '.join(args)}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}", *args]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
