"""A person's tier overrides, kept as labelled examples for `fusion-tui gate retrain`.

Each time a person forces or locks a tier in the dashboard, the request it applied to is
stored as the gate reads it (its bounded segments and structural facts) with the chosen tier,
one JSON line each, in `<platform data dir>/fusion-tui/gate/examples.jsonl` (0600). The whole
body is stored only when `sessions.record` is `full` (it is then recorded anyway)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fusion_tui.routing.segments import CLASSIFIER_SEGMENTS, Segments, Structure

log = logging.getLogger(__name__)

TIERS = ("compact", "regular", "plan")


def default_examples_path() -> Path:
    """`<platform data dir>/fusion-tui/gate/examples.jsonl` (FUSION_GATE_EXAMPLES overrides)."""
    env = os.environ.get("FUSION_GATE_EXAMPLES")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("fusion-tui")) / "gate" / "examples.jsonl"


@dataclass(frozen=True)
class SteeringExample:
    """One stored override: the request as the gate reads it and the person's tier."""

    tier: str
    segments: Segments
    session_id: str = ""
    gate_tier: str = ""
    ts: float = 0.0


def segments_to_record(segments: Segments) -> dict[str, Any]:
    """The parts of Segments the classifier reads, as JSON."""
    return {"segments": segments.named(), "structure": segments.structure.as_dict(),
            "permission_mode": segments.permission_mode}


def segments_from_record(record: dict[str, Any]) -> Segments:
    """Segments rebuilt from `segments_to_record` output (unknown keys ignored)."""
    texts = record.get("segments") or {}
    if not isinstance(texts, dict):
        raise ValueError("segments must be an object")
    text = {name: str(texts.get(name) or "") for name in CLASSIFIER_SEGMENTS}
    raw = record.get("structure") or {}
    if not isinstance(raw, dict):
        raise ValueError("structure must be an object")
    known = Structure.__dataclass_fields__
    structure = Structure(**{k: type(getattr(Structure(), k))(v) for k, v in raw.items()
                             if k in known})
    mode = record.get("permission_mode")
    return Segments(user=text["user"], history=text["history"], assistant=text["assistant"],
                    tools=text["tools"], code=text["code"], system=text["system"],
                    structure=structure,
                    permission_mode=mode if isinstance(mode, str) else None)


class SteeringExamples:
    """The person's examples file: append one, read them all."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_examples_path()
        self._lock = threading.Lock()

    def add(self, segments: Segments, tier: str, *, session_id: str = "",
            gate_tier: str = "", body: dict[str, Any] | None = None) -> None:
        """Append one example (`body` only when the caller may keep whole bodies)."""
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}, got {tier!r}")
        record: dict[str, Any] = {"ts": round(time.time(), 3), "tier": tier,
                                  "session_id": session_id, "gate_tier": gate_tier,
                                  **segments_to_record(segments)}
        if body is not None:
            record["body"] = body
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8", "surrogatepass"))
            finally:
                os.close(fd)

    def load(self) -> list[SteeringExample]:
        """Every readable example; a damaged line is skipped and logged with its number."""
        if not self.path.is_file():
            return []
        out = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                tier = record["tier"]
                if tier not in TIERS:
                    raise ValueError(f"tier {tier!r}")
                out.append(SteeringExample(tier=tier, segments=segments_from_record(record),
                                           session_id=str(record.get("session_id", "")),
                                           gate_tier=str(record.get("gate_tier", "")),
                                           ts=float(record.get("ts", 0.0))))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("%s:%d: skipped a damaged steering example: %s", self.path, n, exc)
        return out
