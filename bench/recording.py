"""Bytes a `record: full` recording writes per turn of a long coding-agent session, before
(every request body written whole, schema 1) and after (each body a delta against the
session's previous one, schema 2).

Method: a 200-turn session shaped like Claude Code's (an 8 KB system prompt, 16 tools of
1 KB each, a history that grows by one user turn of about 1 KB and one assistant turn per
request, the latest user turn's cache marker moving), recorded by the real `SessionRecorder`
into a temporary folder; "before" is the same events encoded whole, as the schema-1 recorder
wrote them. Also checks that reading the recording back gives every body unchanged.
Run: `python -m bench.recording [--turns 200]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from fusion_tui.events import RequestReceived, ResponseFinished
from fusion_tui.sessions import SessionRecorder
from fusion_tui.sessions.recorder import encode_event_line
from fusion_tui.sessions.replay import read_recording


def bodies(turns: int) -> list[dict[str, Any]]:
    """The request bodies of one session, turn by turn."""
    system = [{"type": "text", "text": "You are a coding agent. " * 350}]
    tools = [{"name": f"tool_{i}", "description": "Does a thing. " * 70,
              "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}
             for i in range(16)]
    history: list[dict[str, Any]] = []
    out = []
    for turn in range(turns):
        user = {"role": "user", "content": [
            {"type": "text", "text": f"turn {turn}: " + "please look at this file. " * 40,
             "cache_control": {"type": "ephemeral"}}]}
        out.append({"model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": True,
                    "system": system, "tools": tools, "messages": [*history, user]})
        plain_user = {"role": "user", "content": [{**user["content"][0]}]}
        del plain_user["content"][0]["cache_control"]
        history = [*history, plain_user,
                   {"role": "assistant", "content": [{"type": "text",
                                                      "text": f"done with turn {turn}."}]}]
    return out


def event(body: dict[str, Any], turn: int) -> RequestReceived:
    """The request event the server publishes for one body."""
    return RequestReceived(session_id="bench", request_id=f"r{turn}", protocol="anthropic",
                           path="/v1/messages", model=body["model"], stream=True,
                           client="claude-cli", tools=len(body["tools"]),
                           messages=len(body["messages"]), body_bytes=0, body=body)


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    session = bodies(args.turns)
    before: list[int] = []
    after: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recorder = SessionRecorder(folder)
        path = recorder.path_for("bench")
        started = time.perf_counter()
        for turn, body in enumerate(session):
            size = path.stat().st_size if path.exists() else 0
            if turn == 0:
                size = 0
            request = event(body, turn)
            answer = ResponseFinished(session_id="bench", request_id=f"r{turn}", status=200,
                                      upstream_id="u", route="r", latency_ms=1.0)
            recorder(request)
            recorder(answer)
            recorder.flush()
            after.append(path.stat().st_size - size)
            before.append(len(encode_event_line(request))
                          + len(encode_event_line(answer)))
        elapsed = time.perf_counter() - started
        recorder.close()
        read_back = [e.body for e in read_recording(path).events
                     if isinstance(e, RequestReceived)]
    if read_back != session:
        raise SystemExit("bench: the recording does not read back as written")
    print(f"record: full, a {args.turns}-turn session; bytes written per turn (request and "
          "response lines; turn 1 of 'after' includes the header)")
    print(f"{'turn':>6} {'before (whole)':>16} {'after (delta)':>15} {'ratio':>7}")
    for turn in sorted({1, 10, 50, 100, args.turns // 2, args.turns} & set(
            range(1, args.turns + 1))):
        b, a = before[turn - 1], after[turn - 1]
        print(f"{turn:>6} {b:>16,} {a:>15,} {b / a:>7.1f}")
    total_b, total_a = sum(before), sum(after)
    print(f"{'total':>6} {total_b:>16,} {total_a:>15,} {total_b / total_a:>7.1f}")
    print(f"{'mean':>6} {total_b // args.turns:>16,} {total_a // args.turns:>15,}")
    print(f"recorder CPU per turn (after): {elapsed / args.turns * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
