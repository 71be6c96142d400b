"""What advisors and the judge are asked. The markers let the simulated model recognise its
role; real models just read the instructions."""

from __future__ import annotations

from fusion_tui.protocols.council_markers import ADVISOR_MARKER, JUDGE_MARKER, PANEL_JUDGE_MARKER

ADVISOR_INSTRUCTIONS = f"""{ADVISOR_MARKER}
You are one advisor on a council helping a coding agent decide its next step. You cannot call
tools; another model (the actor) will act. Read the conversation and advise, briefly:
1. Next action: the tool you would use and its exact arguments, or the answer to give.
2. Risks: what could go wrong or break.
3. What the actor is likely to miss.
Be concrete and short. Do not write the final answer for the user."""

JUDGE_INSTRUCTIONS = f"""{JUDGE_MARKER}
You are the judge of a council advising a coding agent. Advisors gave opinions, labelled only
by letter and in random order. Write a short briefing for the agent with exactly these sections:
## Recommended next action
## Where the advisors agree
## Disagreements (and which view you favour, and why)
## Risks and checks
For each point, rate separately how likely it is to be true (likely/unsure) and whether it is
worth acting on (act/ignore); drop every point that is unlikely or not worth acting on. Judge
the arguments, not the style. Keep it under 250 words."""

PANEL_SYNTHESIZE = f"""{PANEL_JUDGE_MARKER} synthesize
Several models answered the user's request; their answers follow, labelled by letter in random
order. Write the single best answer to the user's request, using what is right in each and
dropping what is wrong. Answer the user directly; do not mention the other answers."""

PANEL_RANK = f"""{PANEL_JUDGE_MARKER} rank
Several models answered the user's request; their answers follow, labelled by letter in random
order. Decide which answer is best for the user. Reply with the letter of the best answer
alone on the first line, then one sentence on why."""

BRIEFING_OPEN = "<council-briefing>"
BRIEFING_CLOSE = "</council-briefing>"
BRIEFING_PREAMBLE = ("Advice from a council of other models for your next step. Weigh it; you "
                     "decide and act with your tools as usual.")
OPINIONS_PREAMBLE = ("Opinions of other models on your next step, labelled by letter in random "
                     "order, not checked by a judge. They may disagree or be wrong; weigh them, "
                     "then decide and act with your tools as usual.")


def advisor_system(original_system: str, tools_text: str, perspective: str | None) -> str:
    """The advisor's system prompt: the client's own, the tools as text, the instructions."""
    parts = [original_system.strip()] if original_system.strip() else []
    if tools_text:
        parts.append("The agent has these tools (described for you; you cannot call them):\n"
                     + tools_text)
    parts.append(ADVISOR_INSTRUCTIONS)
    if perspective:
        parts.append(f"Your perspective on this council: {perspective}")
    return "\n\n".join(parts)


def labelled_opinions(opinions: list[tuple[str, str, bool]]) -> str:
    """Opinions as `Advisor A:` ... blocks; (label, text, partial)."""
    blocks = []
    for label, text, partial in opinions:
        note = " (cut off at the deadline; partial)" if partial else ""
        blocks.append(f"### Advisor {label}{note}\n{text.strip()}")
    return "\n\n".join(blocks)


def wrap_briefing(text: str, judged: bool = True) -> str:
    """The briefing as the actor sees it: the judge's, or (judged False) the opinions
    themselves under a fixed header that says nobody judged them."""
    preamble = BRIEFING_PREAMBLE if judged else OPINIONS_PREAMBLE
    return f"{BRIEFING_OPEN}\n{preamble}\n\n{text.strip()}\n{BRIEFING_CLOSE}"
