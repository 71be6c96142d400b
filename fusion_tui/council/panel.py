"""The panel: for tool-free hard requests, members answer in parallel, then the judge either
fuses the answers (synthesize; its answer streams to the client) or only ranks them (rank;
the best answer is returned as it was, which is cheaper)."""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fusion_tui.config.council import PanelMethod, PanelSettings
from fusion_tui.council import prompts
from fusion_tui.council.calls import TextResult, gather_texts, stream_text
from fusion_tui.council.orchestrator import CouncilContext
from fusion_tui.council.transcript import advisor_messages, system_text
from fusion_tui.events.council import AdvisorDelta, AnswerState, CostStage, PanelMemberFinished


@dataclass
class PanelAnswer:
    """One member's answer."""

    member: str
    state: AnswerState
    text: str
    usage: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class PanelResult:
    """Answers in the (shuffled, anonymised) order the judge sees them, with their letters."""

    answers: list[PanelAnswer]
    labels: dict[str, str]

    @property
    def usable(self) -> list[PanelAnswer]:
        """Answers with text."""
        return [a for a in self.answers if a.state != AnswerState.FAILED and a.text.strip()]

    def labelled_text(self) -> str:
        """The answers as `### Answer A` blocks."""
        blocks = []
        for answer in self.usable:
            note = " (cut off; partial)" if answer.state == AnswerState.PARTIAL else ""
            blocks.append(f"### Answer {self.labels[answer.member]}{note}\n{answer.text.strip()}")
        return "\n\n".join(blocks)


async def gather_answers(body: dict[str, Any], members: list[str], ctx: CouncilContext,
                         settings: PanelSettings) -> PanelResult:
    """Every member answers the full request (tools removed) in parallel, under the deadline."""
    max_tokens = int(body.get("max_tokens") or 1024)
    if settings.max_tokens:
        max_tokens = min(max_tokens, settings.max_tokens)

    def answer(member: str) -> Callable[[TextResult], Awaitable[None]]:
        upstream = ctx.upstreams[member]
        request = {k: v for k, v in body.items() if k not in ("tools", "tool_choice")}
        request.update(model=upstream.settings.model, max_tokens=max_tokens)

        def on_text(piece: str) -> None:
            ctx.publish(AdvisorDelta(session_id=ctx.session_id, request_id=ctx.request_id,
                                     advisor=member, text=piece))

        return lambda result: stream_text(upstream, request, ctx.headers, result, on_text)

    contributions = await gather_texts({m: answer(m) for m in members}, settings.deadline_s,
                                       "panel")
    answers = []
    for c in contributions:
        member, state, error, result = c.name, c.state, c.error, c.result
        if result.usage or result.text:
            ctx.costs.record(ctx.session_id, ctx.request_id, member, CostStage.PANEL,
                             result.usage)
        ctx.publish(PanelMemberFinished(
            session_id=ctx.session_id, request_id=ctx.request_id, member=member, state=state,
            text=result.text, error=error, output_tokens=result.output_tokens,
            latency_ms=result.latency_ms))
        answers.append(PanelAnswer(member, state, result.text, result.usage, error))
    random.Random(ctx.request_id).shuffle(answers)
    labels = {a.member: chr(ord("A") + i)
              for i, a in enumerate(a for a in answers
                                   if a.state != AnswerState.FAILED and a.text.strip())}
    return PanelResult(answers, labels)


def judge_request(body: dict[str, Any], result: PanelResult, model: str,
                  method: PanelMethod) -> dict[str, Any]:
    """The judge's request: the user's conversation, the labelled answers, the instruction.
    For synthesize it keeps the client's max_tokens and stream flag (it is the answer)."""
    synthesize = method == PanelMethod.SYNTHESIZE
    instruction = prompts.PANEL_SYNTHESIZE if synthesize else prompts.PANEL_RANK
    messages = advisor_messages(body)
    tail = f"\n\nThe answers to consider:\n\n{result.labelled_text()}"
    if messages and messages[-1]["role"] == "user":
        messages[-1] = {**messages[-1], "content": messages[-1]["content"] + tail}
    else:
        messages.append({"role": "user", "content": tail.strip()})
    original = system_text(body)
    request: dict[str, Any] = {
        "model": model, "messages": messages,
        "system": instruction + (f"\n\nThe user's system prompt was:\n{original}"
                                 if original else ""),
        "max_tokens": int(body.get("max_tokens") or 1024) if synthesize else 64,
    }
    if synthesize and body.get("stream"):
        request["stream"] = True
    return request


_LETTER = re.compile(r"\b([A-Z])\b")


def pick_ranked(result: PanelResult, verdict: str) -> tuple[PanelAnswer, bool]:
    """The answer whose letter the judge named first, and True; if the verdict names none,
    the first usable answer and False (the caller says so in the route reason)."""
    by_label = {result.labels[a.member]: a for a in result.usable}
    for match in _LETTER.finditer(verdict):
        if match.group(1) in by_label:
            return by_label[match.group(1)], True
    return result.usable[0], False
