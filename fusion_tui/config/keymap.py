"""The dashboard's binding ids, as plain data: `keymap` in the config is checked against
them without importing the dashboard (the config package never imports Textual). A test
keeps this list equal to the ids the dashboard's screens declare."""

from __future__ import annotations

from collections.abc import Mapping

BINDING_IDS: tuple[str, ...] = (
    # the app
    "quit", "theme",
    # the live dashboard
    "tier_compact", "tier_regular", "tier_plan", "tier_auto", "tier_lock", "swap_actor",
    "mute_advisor", "compose_council", "council_toggle", "council_global", "hold_toggle",
    "briefing_approve",
    "briefing_edit", "briefing_skip", "pin_toggle", "drop_request", "filter", "feed_scope",
    "sessions", "help", "view_toggle",
    # replay
    "replay_pause", "replay_step", "replay_faster", "replay_slower", "replay_prev",
    "replay_next", "replay_goto", "replay_close",
    # the recorded sessions list
    "sessions_close", "sessions_search",
    # dialogs
    "picker_cancel", "edit_approve", "edit_cancel", "confirm_yes", "confirm_no",
    "prompt_cancel", "help_close",
)
"""Every id `keymap` may name."""


def check_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """`keymap` unchanged if every id is known and every value names keys; else ValueError
    naming the offending id."""
    known = set(BINDING_IDS)
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            raise ValueError(f"unknown binding id {binding_id!r} (known: "
                             f"{', '.join(BINDING_IDS)})")
        if not all(key.strip() for key in keys.split(",")):
            raise ValueError(f"{binding_id}: {keys!r} is not a comma-separated list of keys")
    return dict(keymap)
