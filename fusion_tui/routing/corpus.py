"""The gate's training and evaluation material: the synthetic set, the real captured requests
(`data/real/captures.jsonl.xz`, xz JSONL, written by scripts/capture) and a person's own
steering examples. Every request is read in Anthropic shape, whatever protocol it came in."""

from __future__ import annotations

import gzip
import json
import lzma
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fusion_tui.protocols.wire import Wire
from fusion_tui.routing.data import DATA_DIR, TIERS, load_examples

REAL_CAPTURES = DATA_DIR / "real" / "captures.jsonl.xz"
PROTOCOLS = tuple(str(w) for w in Wire)


class CorpusError(ValueError):
    """A corpus file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Capture:
    """One labelled real request. `body` is in Anthropic shape; `raw` as the client sent it."""

    id: str
    client: str
    protocol: str
    scenario: str
    kind: str
    tier: str
    split: str
    lang: str
    body: dict[str, Any]
    raw: dict[str, Any]


def anthropic_view(body: dict[str, Any], protocol: str) -> dict[str, Any]:
    """The request in Anthropic Messages shape (what the gate reads)."""
    from fusion_tui.protocols.translation import anthropic_view as view

    if protocol in PROTOCOLS:
        return view(body, Wire(protocol))
    raise CorpusError(f"unknown protocol {protocol!r} (expected one of {', '.join(PROTOCOLS)})")


def open_text(path: Path) -> IO[str]:
    """A JSONL file for reading, decompressed by its suffix: `.xz` (the shipped corpus:
    xz finds the system prompt and tools every request repeats, which gzip's 32 KB window
    cannot), `.gz`, or plain text."""
    if path.suffix == ".xz":
        return lzma.open(path, "rt", encoding="utf-8")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open_text(path) as handle:
            for n, line in enumerate(handle, 1):
                if line.strip():
                    yield n, line
    except (OSError, EOFError, UnicodeDecodeError, lzma.LZMAError) as exc:
        raise CorpusError(f"{path}: {exc}") from exc


def iter_captures(path: Path | str = REAL_CAPTURES) -> Iterator[Capture]:
    """The captures of a file (gzip or plain JSONL). Each needs `tier`, `protocol`, `body`."""
    path = Path(path)
    for n, line in _lines(path):
        try:
            record = json.loads(line)
            tier = record["tier"]
            protocol = record.get("protocol", "anthropic")
            raw = record["body"]
            if tier not in TIERS:
                raise ValueError(f"tier must be one of {TIERS}, got {tier!r}")
            if not isinstance(raw, dict):
                raise ValueError("body must be an object")
            body = anthropic_view(raw, protocol)
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path}:{n}: {exc}") from exc
        yield Capture(id=str(record.get("id", n)), client=str(record.get("client", "")),
                      protocol=protocol, scenario=str(record.get("scenario", "")),
                      kind=str(record.get("kind", "main")), tier=tier,
                      split=str(record.get("split", "train")), lang=str(record.get("lang", "")),
                      body=body, raw=raw)


def load_captures(path: Path | str = REAL_CAPTURES, split: str | None = None) -> list[Capture]:
    """All captures of a file, or those of one split (`train` / `heldout`)."""
    return [c for c in iter_captures(path) if split is None or c.split == split]


def is_capture_file(path: Path) -> bool:
    """Whether a labelled file is in the capture format (records with `tier`) rather than
    the synthetic one (records with `label`)."""
    for _, line in _lines(path):
        try:
            return "tier" in json.loads(line)
        except ValueError:
            return False
    return False


@dataclass(frozen=True)
class Labelled:
    """A request body and its tier, from any labelled file, for evaluation."""

    id: str
    tier: str
    kind: str
    body: dict[str, Any]
    group: str = ""
    client: str = ""
    lang: str = ""


def load_labelled(path: Path, split: str | None = None) -> list[Labelled]:
    """A labelled file of either format as (id, tier, kind, body). Synthetic records'
    `kind` starting with plan_mode counts as plan mode for the report."""
    if is_capture_file(path):
        return [Labelled(c.id, c.tier, c.kind, c.body, f"{c.client}/{c.scenario}", c.client,
                         c.lang) for c in load_captures(path, split)]
    return [Labelled(e.id, e.label, e.kind, e.body) for e in load_examples(path)]
