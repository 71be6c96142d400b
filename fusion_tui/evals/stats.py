"""The statistics of the report: Wilson intervals and the exact paired (McNemar) test."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson(passes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a pass rate (95% by default); (0, 1) with no runs."""
    if n <= 0:
        return 0.0, 1.0
    p = passes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if passes == 0 else max(0.0, centre - half)
    high = 1.0 if passes == n else min(1.0, centre + half)
    return low, high


def exact_mcnemar(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value (a sign test on the discordant pairs): `b` pairs that
    passed only in the baseline, `c` only in the arm. 1.0 when no pair flipped."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Paired:
    """An arm against the baseline on the same (task, repeat) pairs."""

    pairs: int
    only_baseline: list[str]
    only_arm: list[str]
    p_value: float


def paired(baseline: dict[str, bool], arm: dict[str, bool]) -> Paired:
    """Compare pass/fail by key (task#repeat) over the keys both have."""
    keys = sorted(baseline.keys() & arm.keys())
    only_base = [k for k in keys if baseline[k] and not arm[k]]
    only_arm = [k for k in keys if arm[k] and not baseline[k]]
    return Paired(len(keys), only_base, only_arm, exact_mcnemar(len(only_base), len(only_arm)))


def median(values: list[float]) -> float | None:
    """The median, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
