"""Plain-text reports of named amounts."""


def render_text(rows: list[tuple[str, float]]) -> str:
    """One line per row: the name padded to 12, the amount right-aligned with 2 decimals."""
    lines = []
    for name, amount in rows:
        label = name.strip()[:12]
        lines.append(f"{label:<12}{amount:>10.2f}")
    return "\n".join(lines)


def render_summary(rows: list[tuple[str, float]]) -> str:
    """The largest row then the total, formatted like render_text's rows."""
    if not rows:
        return ""
    name, amount = max(rows, key=lambda r: r[1])
    label = name.strip()[:12]
    top = f"{label:<12}{amount:>10.2f}"
    total = sum(a for _, a in rows)
    label = "TOTAL"[:12]
    return top + "\n" + f"{label:<12}{total:>10.2f}"
