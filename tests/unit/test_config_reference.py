"""docs/configuration.md is generated from the schema and must match it."""

from __future__ import annotations

from pathlib import Path

from fusion_tui.config.reference import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_reference_is_current() -> None:
    assert DOC.read_text() == render(), (
        "docs/configuration.md is stale: run `python scripts/gen_config_reference.py`")


def test_every_field_is_documented() -> None:
    text = render()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows and not [r for r in rows if r.rstrip().endswith("|  |")]  # every key explained
    for needle in ("`auth_key_env`", "`council.advisors.<id>`", "`upstreams[].fault`",
                   "`deadline_s`", "`offline_fallback`", "`keep_days`"):
        assert needle.strip("`") in text
