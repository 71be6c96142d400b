"""Table columns sized to the table's width: the least important columns go first when it is
narrow, and the spare width of a wide one goes to the columns whose content is longer than
their minimum (a session id, a steering act, an upstream), up to what that content needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CELL_PADDING = 2
"""A DataTable cell has one column of padding on each side."""

CHROME = 4
"""The table's border (2) and its vertical scrollbar (2)."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column: `min` width always, up to `max` when the table is wide and the content
    is that long; `drop` orders which columns go first when even the minimums do not fit
    (higher goes first; 0 never goes)."""

    key: str
    label: str
    min: int
    max: int | None = None
    drop: int = 0


def fit_columns(specs: Sequence[ColumnSpec], width: int,
                needed: Mapping[str, int] | None = None) -> list[tuple[str, str, int]]:
    """(key, label, width) of the columns that fit in a table `width` cells wide.

    `needed` is the longest content per column key (a column grows to it, within its max,
    while there is room; without it a column may grow to its max)."""
    room = max(0, width - CHROME)
    shown = list(specs)

    def used(columns: Sequence[ColumnSpec]) -> int:
        return sum(c.min + CELL_PADDING for c in columns)

    while used(shown) > room and any(c.drop for c in shown):
        victim = max((c for c in shown if c.drop), key=lambda c: c.drop)
        shown.remove(victim)
    widths = {c.key: c.min for c in shown}
    spare = room - used(shown)
    growing = True
    while spare > 0 and growing:
        growing = False
        for column in shown:
            cap = column.max if column.max is not None else column.min
            if needed is not None:
                cap = min(cap, max(column.min, needed.get(column.key, column.min)))
            if widths[column.key] < cap and spare > 0:
                widths[column.key] += 1
                spare -= 1
                growing = True
    return [(c.key, c.label, widths[c.key]) for c in shown]
