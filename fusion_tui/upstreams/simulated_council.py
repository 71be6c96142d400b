"""The simulated model's council roles: advisor, judge, panel judge. Deterministic text with
the shape real models are asked for, so the demo and the tests show a real meeting."""

from __future__ import annotations

import re
from typing import Any

from fusion_tui.protocols.anthropic import text_of
from fusion_tui.protocols.council_markers import ADVISOR_MARKER, JUDGE_MARKER, PANEL_JUDGE_MARKER

_FILE = re.compile(r"(?<![\w/])((?:~|\.{0,2}/)?[\w.\-/]*\w\.[A-Za-z0-9]{1,8})\b")
_TOOL = re.compile(r"^- (\w+):", re.M)
_ADVISOR_LABEL = re.compile(r"### Advisor ([A-Z])")
_NEXT = re.compile(r"Next action: (.+)")


def _system(body: dict[str, Any]) -> str:
    system = body.get("system")
    return system if isinstance(system, str) else text_of(system or [])


def _user_text(body: dict[str, Any]) -> str:
    return "\n".join(text_of(m.get("content", "")) for m in body.get("messages") or []
                     if isinstance(m, dict) and m.get("role") == "user")


def council_role_answer(body: dict[str, Any], model: str) -> str | None:
    """The text for a council role, or None if the request is not a council role."""
    system = _system(body)
    if ADVISOR_MARKER in system:
        return _advice(system, _user_text(body), model)
    if JUDGE_MARKER in system:
        return _briefing(_user_text(body), model)
    if PANEL_JUDGE_MARKER in system:
        return _panel_verdict(system, _user_text(body), model)
    return None


def _advice(system: str, conversation: str, model: str) -> str:
    tools = _TOOL.findall(system)
    named = _FILE.findall(conversation)
    perspective = re.search(r"Your perspective on this council: (.+)", system)
    if named and "Read" in tools:
        action = f"call Read with file_path set to {named[-1]} before answering."
    elif tools:
        action = f"use {tools[0]} to inspect the code before changing anything."
    else:
        action = "answer directly; no tool is needed."
    # Unsigned by model name: the judge must not learn who said what.
    lines = [f"[simulated] Next action: {action}",
             "Risks: acting on a guess about the file's contents; editing before reading.",
             "What the actor may miss: the file may be empty or much longer than expected."]
    if perspective:
        lines.append(f"From my perspective ({perspective.group(1).strip()}): check failure "
                     "paths first.")
    return "\n".join(lines)


def _briefing(material: str, model: str) -> str:
    labels = _ADVISOR_LABEL.findall(material)
    actions = _NEXT.findall(material)
    action = actions[0] if actions else "proceed with the user's request."
    agree = (f"Advisors {', '.join(labels)} agree on reading before acting (likely, act)."
             if len(labels) > 1 else "Only one opinion was available (unsure, act).")
    return (f"[simulated {model}]\n## Recommended next action\n{action} (likely, act)\n"
            f"## Where the advisors agree\n{agree}\n"
            "## Disagreements (and which view you favour, and why)\nNone of substance.\n"
            "## Risks and checks\nConfirm the file exists; quote it exactly (likely, act).")


def _panel_verdict(system: str, material: str, model: str) -> str:
    labels = _ADVISOR_LABEL.findall(material) or re.findall(r"### Answer ([A-Z])", material)
    if "rank" in system.split("\n", 1)[0]:
        best = labels[0] if labels else "A"
        return f"{best}\n[simulated {model}] Answer {best} is the most complete."
    return (f"[simulated {model}] Combining the {len(labels) or 'available'} answers: "
            "keep the public interface, extract the shared logic, and test the edge cases.")
