"""Drive the real CLIs (Claude Code headless and under tmux, Codex, opencode) through a
scenario against the scripted server. Every run: a fresh HOME, no network beyond 127.0.0.1,
a timeout."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from server import Live, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
CLAUDE = CACHE / "claude-code-2.1.330" / "node_modules" / ".bin" / "claude"
CODEX = CACHE / "codex-0.169.0" / "node_modules" / ".bin" / "codex"
OPENCODE = CACHE / "opencode-1.18.33" / "node_modules" / ".bin" / "opencode"
SCREENS = Path("/tmp/capture-screens")  # the screen of a step that never settled
ALLOWED = "Bash,Read,Edit,Write,Glob,Grep,Agent,TodoWrite,Task"


def claude_env(home: Path, base: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "LANG": "C.UTF-8", "TERM": "xterm-256color",
            "ANTHROPIC_BASE_URL": base, "ANTHROPIC_API_KEY": "test",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_MAX_RETRIES": "1", "DISABLE_UPDATES": "1",
            "DISABLE_INSTALLATION_CHECKS": "1",
            "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1"}


async def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout_s: float) -> str:
    proc = await asyncio.create_subprocess_exec(
        "timeout", "-k", "5", str(int(timeout_s)), *argv, cwd=cwd, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode:
        return f"rc={proc.returncode} {err.decode()[-300:]} {out.decode()[-300:]}"
    return ""


async def run_print(server: ScriptedServer, sc: dict[str, Any], cwd: Path, home: Path,
                    base: str, log: list[str]) -> None:
    """`claude -p` per step (`--continue` for later steps unless `continue: false`)."""
    env = claude_env(home, base)
    for i, step in enumerate(sc["steps"]):
        server.begin_step(Live(sc, i, cwd))
        argv = [str(CLAUDE), "-p", step["ask"], "--output-format", "json",
                "--allowedTools", ALLOWED, *step.get("flags", sc.get("flags", []))]
        if i and step.get("continue", True):
            argv.append("--continue")
        problem = await _run(argv, cwd, env, step.get("timeout", 150))
        if problem:
            log.append(f"{sc['name']} step {i}: {problem}")


# shift+tab cycles the permission modes in this order (Claude Code 2.1.330).
CYCLE = ["auto", "default", "acceptEdits", "plan"]


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout


def seed_claude_home(home: Path, cwd: Path) -> None:
    """Onboarding done, the test key approved, the project trusted."""
    (home / ".claude.json").write_text(json.dumps({
        "hasCompletedOnboarding": True, "lastOnboardingVersion": "2.1.330",
        "customApiKeyResponses": {"approved": ["test"], "rejected": []},
        "projects": {str(cwd): {"hasTrustDialogAccepted": True, "allowedTools": [],
                                "hasCompletedProjectOnboarding": True}},
        "theme": "dark", "numStartups": 3}))


async def _wait_screen(session: str, needles: tuple[str, ...], timeout_s: float) -> bool:
    for _ in range(int(timeout_s * 4)):
        screen = _tmux("capture-pane", "-p", "-t", session)
        if any(n in screen for n in needles):
            return True
        await asyncio.sleep(0.25)
    return False


_CHOICE = re.compile(r"\u276f\s*(?:\d+\.\s*)?(Yes|No)\b")


async def _approve_dialogs(session: str) -> None:
    """Say yes to the CLI's approval dialogs (a Bash command in plan mode, whose server-side
    check is unreachable offline; ExitPlanMode's plan approval)."""
    while True:
        screen = _tmux("capture-pane", "-p", "-t", session)
        chosen = _CHOICE.search(screen)
        if chosen:
            if chosen.group(1) == "No":
                _tmux("send-keys", "-t", session, "Down")
                await asyncio.sleep(0.3)
            _tmux("send-keys", "-t", session, "Enter")
            await asyncio.sleep(1.5)
        await asyncio.sleep(0.5)


async def run_interactive(server: ScriptedServer, sc: dict[str, Any], cwd: Path, home: Path,
                          base: str, log: list[str]) -> None:
    """One interactive session under tmux; each step sends keys, then text or a command."""
    seed_claude_home(home, cwd)
    env = claude_env(home, base)
    for key in sc.get("unset_env", ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"]):
        env.pop(key, None)
    session = "cap-" + os.urandom(4).hex()
    exports = " ".join(f"{k}={json.dumps(v)}" for k, v in env.items())
    # Auto mode (the CLI's default) sends Bash to a server-side classifier, which cannot be
    # reached offline: start in manual mode, where --allowedTools rules apply.
    mode = sc.get("start_mode", "default")
    flags = " ".join(["--permission-mode", mode, *sc.get("flags", [])])
    command = (f"cd {cwd} && env -i {exports} timeout --foreground 900 {CLAUDE} "
               f"--allowedTools {ALLOWED} {flags}")
    server.begin_step(Live(sc, 0, cwd))
    _tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", command)
    try:
        if not await _wait_screen(session, ("for shortcuts", "to cycle"), 60):
            log.append(f"{sc['name']}: prompt never appeared: "
                       + _tmux("capture-pane", "-p", "-t", session)[-600:])
            return
        for i, step in enumerate(sc["steps"]):
            server.begin_step(Live(sc, i, cwd))
            if "plan" in step:
                target = "plan" if step["plan"] == "on" else sc.get("start_mode", "default")
                while mode != target:
                    _tmux("send-keys", "-t", session, "BTab")
                    mode = CYCLE[(CYCLE.index(mode) + 1) % len(CYCLE)]
                    await asyncio.sleep(0.6)
            for key in step.get("keys", []):
                _tmux("send-keys", "-t", session, key)
                await asyncio.sleep(0.6)
            if "compact" in step:
                text = ("/compact " + step["compact"]).strip()
            else:
                text = step["ask"]
            _tmux("send-keys", "-t", session, "-l", text)
            await asyncio.sleep(0.5)
            _tmux("send-keys", "-t", session, "Enter")
            watcher = asyncio.create_task(_approve_dialogs(session))
            try:
                settled = await server.settle(step.get("idle", 3.0), step.get("timeout", 150))
            finally:
                watcher.cancel()
            if not settled:
                SCREENS.mkdir(exist_ok=True)  # noqa: ASYNC240 (a debugging aid)
                (SCREENS / f"{sc['name']}-{i}.txt").write_text(
                    _tmux("capture-pane", "-p", "-t", session))
                log.append(f"{sc['name']} step {i}: did not settle: "
                           + _tmux("capture-pane", "-p", "-t", session)[-2500:])
                return
            await asyncio.sleep(1.0)
    finally:
        _tmux("kill-session", "-t", session)


async def run_codex(server: ScriptedServer, sc: dict[str, Any], cwd: Path, home: Path,
                    base: str, log: list[str]) -> None:
    """`codex exec` per step (`codex exec resume --last` for later steps)."""
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        'model = "gpt-5-codex"\nmodel_provider = "fusion"\n\n[model_providers.fusion]\n'
        f'name = "fusion-tui"\nbase_url = "{base}/v1"\nwire_api = "responses"\n'
        'env_key = "FUSION_API_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n')
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "LANG": "C.UTF-8", "CODEX_HOME": str(codex_home), "FUSION_API_KEY": "test"}
    for i, step in enumerate(sc["steps"]):
        server.begin_step(Live(sc, i, cwd))
        head = [str(CODEX), "exec"]
        if i and step.get("continue", True):
            head += ["resume", "--last"]
        argv = [*head, "--json", "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox", step["ask"]]
        problem = await _run(argv, cwd, env, step.get("timeout", 120))
        if problem:
            log.append(f"{sc['name']} step {i}: {problem}")


async def run_opencode(server: ScriptedServer, sc: dict[str, Any], cwd: Path, home: Path,
                       base: str, log: list[str]) -> None:
    """`opencode run` per step (`--continue` for later steps)."""
    config = {"$schema": "https://opencode.ai/config.json", "provider": {"fusion": {
        "npm": "@ai-sdk/openai-compatible", "name": "fusion-tui",
        "options": {"baseURL": f"{base}/v1", "apiKey": "test"},
        "models": {"fusion": {"name": "fusion", "tool_call": True}}}},
        "model": "fusion/fusion", "autoupdate": False, "share": "disabled",
        "permission": {"edit": "allow", "bash": "allow"}}
    (cwd / "opencode.json").write_text(json.dumps(config, indent=2))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "LANG": "C.UTF-8", "OPENCODE_DISABLE_AUTOUPDATE": "1",
           "OPENCODE_DISABLE_MODELS_FETCH": "1"}
    for i, step in enumerate(sc["steps"]):
        server.begin_step(Live(sc, i, cwd))
        argv = [str(OPENCODE), "run", "--format", "json"]
        if i and step.get("continue", True):
            argv.append("--continue")
        problem = await _run([*argv, step["ask"]], cwd, env, step.get("timeout", 120))
        if problem:
            log.append(f"{sc['name']} step {i}: {problem}")


DRIVERS = {"print": run_print, "interactive": run_interactive, "codex": run_codex,
           "opencode": run_opencode}


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
