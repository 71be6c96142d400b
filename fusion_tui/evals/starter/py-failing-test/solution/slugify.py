"""Turn titles into URL slugs."""
import re


def slugify(title: str) -> str:
    """Lower-case words joined by single hyphens; anything not a letter or digit separates words."""
    words = re.split(r"[^A-Za-z0-9]+", title)
    return "-".join(w.lower() for w in words if w)
