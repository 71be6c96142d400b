"""Plain-text reports of named amounts."""


def format_row(name: str, amount: float) -> str:
    """The name stripped and padded to 12, the amount right-aligned with 2 decimals."""
    label = name.strip()[:12]
    return f"{label:<12}{amount:>10.2f}"


def render_text(rows: list[tuple[str, float]]) -> str:
    """One line per row: the name padded to 12, the amount right-aligned with 2 decimals."""
    return "\n".join(format_row(name, amount) for name, amount in rows)


def render_summary(rows: list[tuple[str, float]]) -> str:
    """The largest row then the total, formatted like render_text's rows."""
    if not rows:
        return ""
    name, amount = max(rows, key=lambda r: r[1])
    total = sum(a for _, a in rows)
    return format_row(name, amount) + "\n" + format_row("TOTAL", total)
