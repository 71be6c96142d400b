"""`fusion-tui claude` and `fusion-tui codex`: start the real agent CLI pointed at the proxy.

The launcher's own options come first; everything from the first other word on (or after
`--`) is passed to the agent untouched. On a machine where Claude Code was never set up, it
seeds the few settings its first interactive run needs (see `seed_claude_config`), adding
what is missing and never changing a value the user has.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from fusion_tui.config import ConfigError, Settings, load_settings, resolve_config_path

EXIT_USAGE = 2
EXIT_NOT_FOUND = 127

LOCAL_KEY = "fusion-tui-local-proxy-key"
"""The key sent when the proxy asks clients for none (Claude Code insists on one)."""

QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
}
"""Claude Code's switches for no traffic beyond the base URL (no DNS lookups either)."""

SESSION_HEADER = "x-fusion-session"


class Agent(StrEnum):
    """The agent CLIs the launcher knows."""

    CLAUDE = "claude"
    CODEX = "codex"

    @property
    def bin_env(self) -> str:
        """The environment variable naming the CLI's binary."""
        return f"FUSION_{self.name}_BIN"


class LaunchError(Exception):
    """The agent cannot be started; the message says why."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class LaunchOptions:
    """The launcher's own options, and the words passed through to the agent."""

    url: str | None = None
    config: str | None = None
    binary: str | None = None
    session: str | None = None
    seed: bool = True
    passthrough: list[str] = field(default_factory=list)


VALUED = {"--url": "url", "--config": "config", "--bin": "binary", "--session": "session"}
USAGE = """usage: fusion-tui {agent} [--url URL] [--config FILE] [--bin PATH] [--session NAME]
                  [--no-seed] [--] [{agent} arguments...]

Start {agent} pointed at the fusion-tui proxy (--url, else the config's server address).
The binary: --bin, else ${env}, else `{agent}` on PATH. Every word from the first one
that is not an option above (or after --) goes to {agent} unchanged."""


def parse_options(agent: Agent, argv: Sequence[str]) -> LaunchOptions:
    """Split `argv` into the launcher's options and the agent's arguments."""
    options = LaunchOptions()
    words = list(argv)
    while words:
        word = words[0]
        if word == "--":
            words.pop(0)
            break
        name, eq, value = word.partition("=")
        if name in VALUED:
            words.pop(0)
            if not eq:
                if not words:
                    raise LaunchError(f"{name} needs a value\n\n{usage(agent)}")
                value = words.pop(0)
            setattr(options, VALUED[name], value)
        elif word == "--no-seed":
            words.pop(0)
            options.seed = False
        elif word == "--launcher-help":
            raise LaunchError(usage(agent), code=0)
        else:
            break
    options.passthrough = words
    return options


def usage(agent: Agent) -> str:
    """The launcher's help text."""
    return USAGE.format(agent=agent.value, env=agent.bin_env)


def find_binary(agent: Agent, given: str | None, env: Mapping[str, str]) -> Path:
    """--bin, else $FUSION_<AGENT>_BIN, else the agent on PATH."""
    wanted = given or env.get(agent.bin_env)
    if wanted:
        path = Path(wanted).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        found = shutil.which(wanted, path=env.get("PATH"))
        if found:
            return Path(found)
        source = "--bin" if given else f"${agent.bin_env}"
        raise LaunchError(f"{source} {wanted!r} is not an executable file", EXIT_NOT_FOUND)
    found = shutil.which(agent.value, path=env.get("PATH"))
    if found is None:
        hint = ("npm install -g @anthropic-ai/claude-code" if agent is Agent.CLAUDE
                else "npm install -g @openai/codex")
        raise LaunchError(f"`{agent.value}` is not on PATH; install it ({hint}) or name it "
                          f"with --bin or ${agent.bin_env}", EXIT_NOT_FOUND)
    return Path(found)


def proxy_url(settings: Settings) -> str:
    """The proxy's base URL as a local client reaches it (no /v1)."""
    host = settings.server.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}"


def client_key(settings: Settings | None, env: Mapping[str, str]) -> str:
    """The key the proxy expects from clients (`server.auth_key_env`), else a placeholder."""
    name = settings.server.auth_key_env if settings is not None else None
    if name:
        value = env.get(name, "")
        if not value:
            raise LaunchError(f"the proxy wants a client key (server.auth_key_env) but ${name} "
                              "is not set")
        return value
    return LOCAL_KEY


def claude_env(env: Mapping[str, str], url: str, key: str, session: str) -> dict[str, str]:
    """`env` with Claude Code pointed at the proxy, quiet, tagged with the session header
    (added to any ANTHROPIC_CUSTOM_HEADERS the user has)."""
    out = {k: v for k, v in env.items() if k not in ("ANTHROPIC_AUTH_TOKEN",)}
    headers = [line for line in env.get("ANTHROPIC_CUSTOM_HEADERS", "").splitlines()
               if line.strip() and line.split(":", 1)[0].strip().lower() != SESSION_HEADER]
    headers.append(f"{SESSION_HEADER}: {session}")
    out.update(QUIET_ENV)
    out.update({"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": key,
                "ANTHROPIC_CUSTOM_HEADERS": "\n".join(headers)})
    return out


def claude_config_path(env: Mapping[str, str]) -> Path:
    """Where Claude Code keeps its global settings: $CLAUDE_CONFIG_DIR/.claude.json, else
    ~/.claude.json."""
    folder = env.get("CLAUDE_CONFIG_DIR")
    if folder:
        return Path(folder).expanduser() / ".claude.json"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".claude.json"


def key_suffix(key: str) -> str:
    """What Claude Code stores of an approved custom key: its last 20 characters."""
    return key.strip()[-20:]


def seed_claude_config(path: Path, key: str, project: Path) -> list[str]:
    """Add to Claude Code's settings what its first interactive run needs and lacks:
    onboarding done, the proxy's key approved (by its suffix, as Claude Code itself stores
    it), the project folder trusted. Nothing the user set is changed (a key they rejected
    stays rejected); a file that is not a JSON object is left alone (LaunchError). Returns
    what was added (empty: nothing to do)."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LaunchError(f"cannot read {path} ({exc}); not seeding it "
                              "(--no-seed starts Claude Code anyway)") from exc
        if not isinstance(loaded, dict):
            raise LaunchError(f"{path} is not a JSON object; not seeding it "
                              "(--no-seed starts Claude Code anyway)")
        data = loaded
    added: list[str] = []
    if "hasCompletedOnboarding" not in data:
        data["hasCompletedOnboarding"] = True
        added.append("hasCompletedOnboarding")
    responses = data.setdefault("customApiKeyResponses", {})
    if isinstance(responses, dict):
        approved = responses.setdefault("approved", [])
        rejected = responses.setdefault("rejected", [])
        suffix = key_suffix(key)
        if isinstance(approved, list) and suffix not in approved and (
                not isinstance(rejected, list) or suffix not in rejected):
            approved.append(suffix)
            added.append("approved key")
    projects = data.setdefault("projects", {})
    if isinstance(projects, dict):
        entry = projects.setdefault(str(project), {})
        if isinstance(entry, dict) and "hasTrustDialogAccepted" not in entry:
            entry["hasTrustDialogAccepted"] = True
            added.append(f"trusted {project}")
    if added:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".fusion-tui.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return added


CODEX_MODEL = "fusion"
"""The model name Codex sends unless told otherwise: the proxy routes it. (With one of its own
model names Codex 0.169 adds request items the proxy's Responses API does not take.)"""


def codex_args(url: str, passthrough: Sequence[str] = ()) -> list[str]:
    """`-c` overrides that give Codex a provider on the proxy's Responses API, and the model
    `fusion` unless the arguments name one (nothing is written to the user's config.toml)."""
    provider = (f'{{ name = "fusion-tui", base_url = "{url}/v1", wire_api = "responses", '
                f'env_key = "FUSION_API_KEY" }}')
    args = ["-c", f"model_providers.fusion={provider}", "-c", "model_provider=fusion"]
    if not any(a in ("-m", "--model") or a.startswith("--model=") for a in passthrough):
        args += ["-c", f'model="{CODEX_MODEL}"']
    return args


BUNDLED_CONFIG = Path(__file__).resolve().parent / "config" / "bundled.yaml"


def _settings(options: LaunchOptions) -> Settings | None:
    """The config `run` would use (its fallback, the bundled config, included); None when a
    --url is given and there is no config file."""
    path = resolve_config_path(options.config)
    if path is None and options.url:
        return None
    return load_settings(path or BUNDLED_CONFIG)


@dataclass
class Launch:
    """What to execute: the program, its arguments, its environment."""

    program: Path
    argv: list[str]
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)


def plan(agent: Agent, argv: Sequence[str], env: Mapping[str, str],
         cwd: Path) -> Launch:
    """Work out the launch without starting anything (tests read it)."""
    options = parse_options(agent, argv)
    try:
        settings = _settings(options)
    except ConfigError as exc:
        raise LaunchError(str(exc)) from exc
    url = (options.url or (proxy_url(settings) if settings else "")).rstrip("/")
    url = url.removesuffix("/v1")
    key = client_key(settings, env)
    binary = find_binary(agent, options.binary, env)
    notes: list[str] = []
    if agent is Agent.CLAUDE:
        session = options.session or f"claude-{uuid.uuid4().hex[:8]}"
        out_env = claude_env(env, url, key, session)
        if options.seed:
            added = seed_claude_config(claude_config_path(out_env), key, cwd.resolve())
            if added:
                notes.append(f"seeded {claude_config_path(out_env)}: {', '.join(added)}")
        return Launch(binary, [str(binary), *options.passthrough], out_env, notes)
    out_env = {**env, "FUSION_API_KEY": key}
    return Launch(binary, [str(binary), *codex_args(url, options.passthrough),
                           *options.passthrough], out_env, notes)


def main(agent: Agent, argv: Sequence[str]) -> int:
    """Replace this process with the agent (Windows: run it and return its exit code)."""
    try:
        launch = plan(agent, argv, os.environ, Path.cwd())
    except LaunchError as exc:
        stream = sys.stdout if exc.code == 0 else sys.stderr
        stream.write(f"{'' if exc.code == 0 else 'fusion-tui: '}{exc}\n")
        return exc.code
    for note in launch.notes:
        sys.stderr.write(f"fusion-tui: {note}\n")
    sys.stderr.flush()
    if os.name == "nt":  # no exec: wait for it
        import subprocess

        return subprocess.call(launch.argv, env=launch.env)
    os.execve(launch.program, launch.argv, launch.env)
    return 0  # not reached
