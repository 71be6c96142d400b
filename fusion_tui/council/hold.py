"""The hold desk: briefings waiting for a person to approve, edit or skip them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fusion_tui.config.council import HoldTimeoutAction
from fusion_tui.events.council import BriefingDecision

DECISIONS = (BriefingDecision.APPROVE, BriefingDecision.EDIT, BriefingDecision.SKIP)
"""What a person can decide (a timeout is the desk's, not a person's)."""


@dataclass(frozen=True)
class HoldDecision:
    """The decision (or the timeout) and the text the actor gets (None: no briefing)."""

    decision: BriefingDecision
    text: str | None
    source: str = "ui"


class HoldDesk:
    """Held briefings by request id. The dashboard marks itself `attached`; without a person
    watching nothing is held (holding for nobody would only add the timeout to every turn)."""

    def __init__(self) -> None:
        self.attached = False
        self._pending: dict[str, tuple[asyncio.Future[HoldDecision], str]] = {}

    @property
    def pending(self) -> dict[str, str]:
        """Held request ids and their briefing text."""
        return {rid: text for rid, (_, text) in self._pending.items()}

    async def wait(self, request_id: str, text: str, timeout_s: float,
                   on_timeout: HoldTimeoutAction) -> HoldDecision:
        """Hold `text` until decided or `timeout_s` passes (then `on_timeout`)."""
        future: asyncio.Future[HoldDecision] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (future, text)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            kept = text if on_timeout == HoldTimeoutAction.APPROVE else None
            return HoldDecision(BriefingDecision.TIMEOUT, kept, "timeout")
        finally:
            self._pending.pop(request_id, None)

    def decide(self, request_id: str, decision: BriefingDecision | str, text: str | None = None,
               source: str = "ui") -> bool:
        """Decide a held briefing (`decision` one of DECISIONS, or its value); False if nothing
        is held under that id."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        decision = BriefingDecision(decision)
        entry = self._pending.get(request_id)
        if entry is None or entry[0].done():
            return False
        future, held = entry
        if decision == BriefingDecision.SKIP:
            final = None
        elif decision == BriefingDecision.EDIT:
            final = text if text is not None else held
        else:
            final = held
        future.set_result(HoldDecision(decision, final, source))
        return True
