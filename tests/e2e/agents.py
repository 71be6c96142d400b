"""Running the pinned Codex CLI and opencode headless against a local proxy.

Codex is configured with a custom model provider (wire_api "responses") whose base_url is
the proxy; opencode with an OpenAI-compatible provider (@ai-sdk/openai-compatible, bundled in
opencode) whose baseURL is the proxy. Each runs in a fresh HOME with no network beyond it.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CODEX_VERSION = "0.169.0"
OPENCODE_VERSION = "1.18.33"


def _bin(env: str, default: Path, what: str, target: str) -> Path:
    path = Path(os.environ.get(env) or default)
    if not path.exists():
        message = f"{what} not installed at {path} (run `make {target}`)"
        if os.environ.get("FUSION_REQUIRE_E2E") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def codex_bin() -> Path:
    """The pinned Codex CLI; skipped when absent unless FUSION_REQUIRE_E2E=1."""
    return _bin("FUSION_CODEX_BIN", REPO / ".cache" / f"codex-{CODEX_VERSION}" /
                "node_modules" / ".bin" / "codex", f"Codex CLI {CODEX_VERSION}", "codex-cli")


def opencode_bin() -> Path:
    """The pinned opencode; skipped when absent unless FUSION_REQUIRE_E2E=1."""
    return _bin("FUSION_OPENCODE_BIN", REPO / ".cache" / f"opencode-{OPENCODE_VERSION}" /
                "node_modules" / ".bin" / "opencode", f"opencode {OPENCODE_VERSION}",
                "opencode")


@dataclass
class AgentRun:
    """What one headless run printed."""

    returncode: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout's JSON lines (others skipped)."""
        out = []
        for line in self.stdout.splitlines():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out


async def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout_s: float) -> AgentRun:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"{argv[0]} did not finish within {timeout_s}s") from None
    return AgentRun(proc.returncode or 0, out.decode(), err.decode())


def _base_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "LANG": "C.UTF-8"}


async def run_codex(address: str, workdir: Path, home: Path, prompt: str,
                    timeout_s: float = 120) -> AgentRun:
    """`codex exec --json PROMPT` against the proxy at `address` (a custom provider)."""
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        'model = "fusion"\nmodel_provider = "fusion"\n\n'
        "[model_providers.fusion]\n"
        'name = "fusion-tui"\n'
        f'base_url = "{address}/v1"\n'
        'wire_api = "responses"\n'
        'env_key = "FUSION_API_KEY"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n")
    env = {**_base_env(home), "CODEX_HOME": str(codex_home), "FUSION_API_KEY": "test"}
    return await _run([str(codex_bin()), "exec", "--json", "--skip-git-repo-check",
                       "-s", "read-only", prompt], workdir, env, timeout_s)


async def run_opencode(address: str, workdir: Path, home: Path, prompt: str,
                       timeout_s: float = 120) -> AgentRun:
    """`opencode run PROMPT` with an OpenAI-compatible provider pointing at the proxy."""
    config = {
        "$schema": "https://opencode.ai/config.json",
        "provider": {"fusion": {
            "npm": "@ai-sdk/openai-compatible", "name": "fusion-tui",
            "options": {"baseURL": f"{address}/v1", "apiKey": "test"},
            "models": {"fusion": {"name": "fusion", "tool_call": True}}}},
        "model": "fusion/fusion", "autoupdate": False, "share": "disabled"}
    (workdir / "opencode.json").write_text(json.dumps(config, indent=2))
    env = {**_base_env(home), "OPENCODE_DISABLE_AUTOUPDATE": "1",
           "OPENCODE_DISABLE_MODELS_FETCH": "1"}
    return await _run([str(opencode_bin()), "run", "--format", "json", prompt], workdir, env,
                      timeout_s)
