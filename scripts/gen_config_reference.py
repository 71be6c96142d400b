"""Regenerate docs/configuration.md from the settings schema."""

from __future__ import annotations

from pathlib import Path

from fusion_tui.config.reference import render

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
    target.write_text(render(), encoding="utf-8")
