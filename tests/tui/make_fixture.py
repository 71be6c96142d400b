"""Record the dashboard's fixture session by running the real proxy.

    .venv/bin/python -m tests.tui.make_fixture

Starts a Runtime from the repository's config.yaml (port 0, sessions in a temporary folder),
sends one plain request and one streamed request with a Read tool through the official
`anthropic` SDK, and copies the recording to tests/fixtures/sessions/. Nothing in the file is
edited afterwards; its ids and times are fixed once recorded.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import anthropic

from fusion_tui.config import load_settings
from fusion_tui.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "sessions" / "tui-demo.jsonl"
SESSION = "demo-session-0001"

READ_TOOL: dict[str, Any] = {
    "name": "Read", "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                     "required": ["file_path"]},
}


def talk(address: str) -> None:
    """The client side: one create, one stream that ends in a tool_use."""
    client = anthropic.Anthropic(base_url=address, api_key="test", max_retries=0,
                                 default_headers={"x-fusion-session": SESSION})
    try:
        client.messages.create(
            model="fusion-demo", max_tokens=120,
            messages=[{"role": "user", "content": "explain recursion in two sentences"}])
        with client.messages.stream(
            model="fusion-demo", max_tokens=400, tools=[READ_TOOL],  # type: ignore[list-item]
            system="Primary working directory: /tmp/project",
            messages=[{"role": "user", "content": "read hello.txt"}],
        ) as stream:
            final = stream.get_final_message()
    finally:
        client.close()
    tool_uses = [b for b in final.content if b.type == "tool_use"]
    if final.stop_reason != "tool_use" or not tool_uses or tool_uses[0].name != "Read":
        raise SystemExit(f"expected a Read tool_use, got {final.content!r}")


async def record(out: Path = FIXTURE) -> Path:
    """Run the proxy, talk to it, copy the session's recording to `out`."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(REPO / "config.yaml",
                                 server={"host": "127.0.0.1", "port": 0},
                                 sessions={"dir": tmp, "record": "full"})
        runtime = Runtime(settings)
        address = await runtime.start()
        try:
            await asyncio.to_thread(talk, address)
        finally:
            await runtime.stop()
        copy_single_recording(Path(tmp), out)
    return out


def copy_single_recording(folder: Path, out: Path) -> None:
    """Copy the one recording in `folder` to `out`, as it is."""
    files = sorted(folder.glob("*.jsonl"))
    if len(files) != 1:
        raise SystemExit(f"expected one session file, got {[f.name for f in files]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files[0], out)


if __name__ == "__main__":
    written = asyncio.run(record())
    sys.stderr.write(f"wrote {written}\n")
