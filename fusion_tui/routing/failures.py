"""Failure signals in a conversation's tool results: pure functions over the neutral
request (protocols/neutral.py), for the escalation rule and anything else that must know
whether the agent keeps failing (a council trigger, the dashboard).

A tool result failed when one of these holds:

- `is_error`: the client marked it so (Claude Code does for a failed command or tool);
- `exit_code`: its text reports a non-zero exit (`Exit code 2`, `exited with status 1`,
  `returned non-zero exit status 1`);
- `tests_failed`: its text is a failing test run (pytest's `3 failed`, `FAILED`, jest's
  `Tests: 1 failed`, go's `--- FAIL`, cargo's `test result: FAILED`);
- `repeated_error`: it reads as an error (`Error:`, `Traceback`, `fatal:` ...) whose first
  line was already seen in an earlier result of the window.

API: `classify_result(result)` -> `ToolOutcome`; `tool_outcomes(messages, lookback)` ->
the latest results, oldest first, the repeated-error signal applied;
`failure_streak(outcomes)` -> failures in a row at the end; `recent_failures(request,
lookback)` -> a `FailureReport` with all three.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from fusion_tui.protocols import neutral as n


class FailureKind(StrEnum):
    """Why a tool result counts as a failure."""

    IS_ERROR = "is_error"
    EXIT_CODE = "exit_code"
    TESTS_FAILED = "tests_failed"
    REPEATED_ERROR = "repeated_error"


_EXIT = re.compile(r"(?i)(?:exit(?:ed)?(?: with)? (?:code|status)|non-zero exit status)"
                   r"[:=\s]*([1-9]\d*)\b")
_TESTS = re.compile(r"(?m)(?:\b[1-9]\d* failed\b|^FAILED\b|^--- FAIL\b|^FAIL\s|"
                    r"test result: FAILED|Tests?:\s+[1-9]\d* failed)")
_ERROR_LINE = re.compile(r"(?im)^\s*(?:error\b|\w*Error\b|traceback\b|fatal:|panic:|"
                         r"exception\b)")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class ToolOutcome:
    """One tool result, judged."""

    call_id: str
    kinds: tuple[FailureKind, ...] = ()
    error_line: str = ""
    """The first error-looking line, digits blanked (what `repeated_error` compares)."""

    @property
    def failed(self) -> bool:
        """Whether any failure signal holds."""
        return bool(self.kinds)


@dataclass(frozen=True)
class FailureReport:
    """The latest tool results of a conversation and the run of failures at their end."""

    outcomes: list[ToolOutcome] = field(default_factory=list)
    streak: int = 0
    """Failing results in a row, ending with the latest one."""

    @property
    def latest_passed(self) -> bool:
        """The latest tool result exists and did not fail."""
        return bool(self.outcomes) and not self.outcomes[-1].failed


def _text(result: n.ToolResult) -> str:
    return "\n".join(p.text or "" if isinstance(p, n.Document) else p.text
                     for p in result.content if isinstance(p, n.Text | n.Document))


def classify_result(result: n.ToolResult) -> ToolOutcome:
    """The failure signals of one tool result (all but `repeated_error`, which needs the
    others in the window)."""
    text = _text(result)
    kinds: list[FailureKind] = []
    if result.is_error:
        kinds.append(FailureKind.IS_ERROR)
    if _EXIT.search(text):
        kinds.append(FailureKind.EXIT_CODE)
    if _TESTS.search(text):
        kinds.append(FailureKind.TESTS_FAILED)
    match = _ERROR_LINE.search(text)
    line = ""
    if match:
        end = text.find("\n", match.start())
        line = _DIGITS.sub("#", text[match.start():end if end >= 0 else None].strip())[:200]
    return ToolOutcome(result.call_id, tuple(kinds), line)


def _results(messages: Iterable[n.Message]) -> list[n.ToolResult]:
    return [part for message in messages for part in message.parts
            if isinstance(part, n.ToolResult)]


def tool_outcomes(messages: Sequence[n.Message], lookback: int = 12) -> list[ToolOutcome]:
    """The latest `lookback` tool results, oldest first, each judged; an error line seen in
    an earlier result of the window marks the later one `repeated_error`."""
    outcomes = [classify_result(r) for r in _results(messages)[-lookback:]]
    seen: set[str] = set()
    judged = []
    for outcome in outcomes:
        if outcome.error_line and outcome.error_line in seen \
                and FailureKind.REPEATED_ERROR not in outcome.kinds:
            outcome = ToolOutcome(outcome.call_id,
                                  (*outcome.kinds, FailureKind.REPEATED_ERROR),
                                  outcome.error_line)
        if outcome.error_line:
            seen.add(outcome.error_line)
        judged.append(outcome)
    return judged


def failure_streak(outcomes: Sequence[ToolOutcome]) -> int:
    """How many results in a row failed, counting back from the latest."""
    streak = 0
    for outcome in reversed(outcomes):
        if not outcome.failed:
            break
        streak += 1
    return streak


def recent_failures(request: n.Request, lookback: int = 12) -> FailureReport:
    """The failure report of a neutral request's latest tool results."""
    outcomes = tool_outcomes(request.messages, lookback)
    return FailureReport(outcomes, failure_streak(outcomes))
