"""The x-fusion-route header: `mode=..; tier=..; served_by=..;` then optional parts, and the
route reason: a list of typed parts, formatted once into the header's `reason=` field."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonPart:
    """One reason for a route: a kind (`override`, `tools`, `failover`, `council_skipped`,
    `lr`, ...) and an optional detail (`override:ui`, `failover:a+b`)."""

    kind: str
    detail: str = ""

    @classmethod
    def parse(cls, text: str) -> ReasonPart:
        """A part from its header form `kind[:detail]`."""
        kind, _, detail = text.partition(":")
        return cls(kind, detail)

    def __str__(self) -> str:
        return f"{self.kind}:{self.detail}" if self.detail else self.kind


class RouteReason:
    """The reasons for a route, in the order they arose, each said once. Producers add
    parts (or their header text); `format` writes the header's comma-separated form."""

    def __init__(self, parts: Iterable[ReasonPart | str | None] = ()) -> None:
        self.parts: list[ReasonPart] = []
        self.add(*parts)

    def add(self, *parts: ReasonPart | str | RouteReason | None) -> RouteReason:
        """Append parts not said yet (text may hold several, comma-separated); returns self."""
        for part in parts:
            if part is None:
                continue
            if isinstance(part, RouteReason):
                self.add(*part.parts)
                continue
            items = ([part] if isinstance(part, ReasonPart)
                     else [ReasonPart.parse(p) for p in part.split(",") if p])
            self.parts.extend(p for p in items if p not in self.parts)
        return self

    def plus(self, *parts: ReasonPart | str | RouteReason | None) -> RouteReason:
        """A copy with more parts."""
        return RouteReason(self.parts).add(*parts)

    def format(self) -> str:
        """The header form: parts joined by commas."""
        return ",".join(str(p) for p in self.parts)

    def __iter__(self) -> Iterator[ReasonPart]:
        return iter(self.parts)

    def __contains__(self, part: object) -> bool:
        if isinstance(part, str):
            part = ReasonPart.parse(part)
        return part in self.parts

    def __bool__(self) -> bool:
        return bool(self.parts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.format() == other
        return isinstance(other, RouteReason) and self.parts == other.parts

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"RouteReason({self.format()!r})"


def format_route(mode: str, tier: str | None, served_by: str, *,
                 actor: str | None = None, council: Sequence[str] = (),
                 panel: Sequence[str] = (), scores: Mapping[str, float] | None = None,
                 reason: RouteReason | str | None = None, effort: str | None = None) -> str:
    """Render the header value. Spaces in the reason become '_' and ';' becomes ','."""
    parts = [f"mode={mode}", f"tier={tier or '-'}", f"served_by={served_by}"]
    if actor:
        parts.append(f"actor={actor}")
    if council:
        parts.append("council=" + "+".join(council))
    if panel:
        parts.append("panel=" + "+".join(panel))
    if effort:
        parts.append(f"effort={effort}")
    if scores:
        parts.append("scores=" + ",".join(f"{k}:{v:.2f}" for k, v in scores.items()))
    text = reason.format() if isinstance(reason, RouteReason) else reason
    if text:
        parts.append("reason=" + text.replace(" ", "_").replace(";", ","))
    return "; ".join(parts)
