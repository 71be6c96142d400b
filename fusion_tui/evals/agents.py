"""The coding-agent CLIs the eval drives headless: how to find each, and the command line,
environment and files for one run against a proxy (fresh HOME, nothing but the proxy to talk
to)."""

from __future__ import annotations

import enum
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path


class Agent(enum.StrEnum):
    """A supported agent CLI."""

    CLAUDE = "claude"
    CODEX = "codex"
    OPENCODE = "opencode"


# The versions the project's end-to-end tests pin (Makefile), looked for under ./.cache.
_PINNED = {Agent.CLAUDE: ("FUSION_CLAUDE_BIN", "claude-code-2.1.330", "claude"),
           Agent.CODEX: ("FUSION_CODEX_BIN", "codex-0.169.0", "codex"),
           Agent.OPENCODE: ("FUSION_OPENCODE_BIN", "opencode-1.18.33", "opencode")}

_MAKE_TARGET = {Agent.CLAUDE: "claude-code", Agent.CODEX: "codex-cli",
                Agent.OPENCODE: "opencode"}
CLAUDE_TOOLS = ("Read", "Edit", "Write", "Bash", "Glob", "Grep")
SESSION_HEADER = "x-fusion-session"


class AgentError(Exception):
    """The agent CLI cannot be found or prepared."""


def find_agent(agent: Agent, explicit: str | None = None) -> Path:
    """--agent-bin, else $FUSION_<AGENT>_BIN, else the pinned copy in ./.cache (what `make
    claude-code` and friends install), else the command on PATH."""
    env_name, cache_dir, command = _PINNED[agent]
    candidates = [explicit, os.environ.get(env_name),
                  str(Path(".cache") / cache_dir / "node_modules" / ".bin" / command),
                  shutil.which(command)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    if explicit:
        raise AgentError(f"--agent-bin {explicit}: no such file")
    raise AgentError(f"{agent} CLI not found: pass --agent-bin, set ${env_name}, or install "
                     f"the pinned one (`make {_MAKE_TARGET[agent]}`)")


def session_id_for(tag: str) -> str:
    """A stable UUID for a run tag (Claude Code's --session-id wants a UUID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fusion-tui-eval:{tag}"))


@dataclass(frozen=True)
class Invocation:
    """How to start one agent run."""

    argv: list[str]
    env: dict[str, str]


def _base_env(home: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "LANG": "C.UTF-8", "TERM": "dumb"}
    for name in ("TMPDIR", "NODE_OPTIONS"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def invocation(agent: Agent, binary: Path, address: str, workdir: Path, home: Path,
               prompt: str, session_id: str, tag: str, extra: list[str]) -> Invocation:
    """The command line and environment of one run; writes the agent's config files into
    `home` (and opencode's into `workdir`). `tag` (task/arm/repeat) travels as a header."""
    home.mkdir(parents=True, exist_ok=True)
    env = _base_env(home)
    if agent is Agent.CLAUDE:
        env.update({
            "ANTHROPIC_BASE_URL": address, "ANTHROPIC_API_KEY": "fusion-eval",
            "ANTHROPIC_CUSTOM_HEADERS": f"x-fusion-eval-run: {tag}",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_MAX_RETRIES": "1", "CLAUDE_CODE_ATTRIBUTION_HEADER": "0"})
        argv = [str(binary), "-p", prompt, "--output-format", "json", "--session-id",
                session_id, "--allowedTools", *CLAUDE_TOOLS, *extra]
        return Invocation(argv, env)
    if agent is Agent.CODEX:
        codex_home = home / ".codex"
        codex_home.mkdir(parents=True, exist_ok=True)
        (codex_home / "config.toml").write_text(
            'model = "fusion"\nmodel_provider = "fusion"\n\n'
            "[model_providers.fusion]\n"
            'name = "fusion-tui"\n'
            f'base_url = "{address}/v1"\n'
            'wire_api = "responses"\n'
            'env_key = "FUSION_API_KEY"\n'
            f'http_headers = {{ "{SESSION_HEADER}" = "{session_id}", '
            f'"x-fusion-eval-run" = "{tag}" }}\n'
            "request_max_retries = 0\nstream_max_retries = 0\n", encoding="utf-8")
        env.update({"CODEX_HOME": str(codex_home), "FUSION_API_KEY": "fusion-eval"})
        argv = [str(binary), "exec", "--json", "--skip-git-repo-check", "-s", "workspace-write",
                *extra, prompt]
        return Invocation(argv, env)
    config = {
        "$schema": "https://opencode.ai/config.json",
        "provider": {"fusion": {
            "npm": "@ai-sdk/openai-compatible", "name": "fusion-tui",
            "options": {"baseURL": f"{address}/v1", "apiKey": "fusion-eval",
                        "headers": {SESSION_HEADER: session_id, "x-fusion-eval-run": tag}},
            "models": {"fusion": {"name": "fusion", "tool_call": True}}}},
        "model": "fusion/fusion", "autoupdate": False, "share": "disabled",
        "permission": {"edit": "allow", "bash": "allow"}}
    (workdir / "opencode.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    env.update({"OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_DISABLE_MODELS_FETCH": "1"})
    return Invocation([str(binary), "run", "--format", "json", *extra, prompt], env)
