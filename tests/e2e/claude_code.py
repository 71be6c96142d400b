"""Running the pinned Claude Code CLI headless against a local proxy (see
shared/CLAUDE-CODE-NOTES.md for the environment it needs)."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

VERSION = "2.1.330"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".cache" / f"claude-code-{VERSION}" / "node_modules" / ".bin" / "claude"


def claude_bin() -> Path:
    """The pinned CLI; skipped when absent unless FUSION_REQUIRE_E2E=1 (make test sets it)."""
    path = Path(os.environ.get("FUSION_CLAUDE_BIN") or DEFAULT_BIN)
    if not path.exists():
        message = f"Claude Code {VERSION} not installed at {path} (run `make claude-code`)"
        if os.environ.get("FUSION_REQUIRE_E2E") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class ClaudeRun:
    """What one `claude -p` run printed."""

    returncode: int
    result: dict[str, Any]
    stderr: str


async def run_claude(address: str, workdir: Path, home: Path, prompt: str,
                     *extra: str, timeout_s: float = 120,
                     env_extra: dict[str, str] | None = None) -> ClaudeRun:
    """Run `claude -p PROMPT --output-format json` in `workdir` against `address`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
        "ANTHROPIC_BASE_URL": address, "ANTHROPIC_API_KEY": "test",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1", **(env_extra or {}),
    }
    proc = await asyncio.create_subprocess_exec(
        str(claude_bin()), "-p", prompt, "--output-format", "json", *extra,
        cwd=workdir, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"claude -p did not finish within {timeout_s}s") from None
    text = out.decode()
    try:
        result = json.loads(text.strip().splitlines()[-1]) if text.strip() else {}
    except json.JSONDecodeError:
        result = {"unparsed": text}
    return ClaudeRun(proc.returncode or 0, result, err.decode())
