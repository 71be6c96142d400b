"""The markers that open the council's own prompts (advisor, judge, panel judge).

They live below both `council/` (which writes them) and `upstreams/` (whose simulated model
recognises its role by them), so neither package imports the other."""

from __future__ import annotations

ADVISOR_MARKER = "[fusion-council:advisor]"
JUDGE_MARKER = "[fusion-council:judge]"
PANEL_JUDGE_MARKER = "[fusion-panel:judge]"
