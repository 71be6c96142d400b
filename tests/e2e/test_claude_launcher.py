"""`fusion-tui claude` starts the real Claude Code against the proxy from an empty HOME."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fusion_tui.launch import LOCAL_KEY, key_suffix
from tests.e2e.claude_code import claude_bin

pytestmark = pytest.mark.e2e

SIM = {"id": "sim-actor", "type": "simulated", "model": "sim-actor", "first_token_ms": 5,
       "tokens_per_s": 2000}


async def test_fusion_tui_claude_reads_a_file_from_an_empty_home(
        make_settings, start_proxy, tmp_path: Path) -> None:
    binary = claude_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "hello.txt").write_text("the fixture says: quince 4471\n")
    home = tmp_path / "home"
    home.mkdir()
    settings = make_settings(upstreams=[SIM])
    runtime = await start_proxy(settings)
    # nothing of Claude Code's own setup: an empty HOME, no ANTHROPIC_* variables
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "CLAUDE_CODE_MAX_RETRIES": "1", "FUSION_CLAUDE_BIN": str(binary)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fusion_tui.cli", "claude", "--url", runtime.address,
        "--session", "launcher-e2e", "-p", "read hello.txt and tell me what it says",
        "--allowedTools", "Read", "--output-format", "json",
        cwd=workdir, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("fusion-tui claude -p did not finish within 120s") from None

    assert proc.returncode == 0, err.decode()[-2000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["is_error"] is False, result
    assert result["num_turns"] == 2
    assert "quince 4471" in result["result"]
    assert "seeded" in err.decode()

    seeded = json.loads((home / ".claude.json").read_text())
    assert seeded["hasCompletedOnboarding"] is True
    assert key_suffix(LOCAL_KEY) in seeded["customApiKeyResponses"]["approved"]
    assert seeded["projects"][str(workdir.resolve())]["hasTrustDialogAccepted"] is True

    # both requests of the tool round trip reached the proxy, recorded under the session
    path = settings.sessions.path / f"{result['session_id']}.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()]
    finished = [e for e in events if e["kind"] == "response_finished"]
    assert [f["stop_reason"] for f in finished] == ["tool_use", "end_turn"]
    assert finished[0]["content"][-1]["name"] == "Read"
    requests = [e for e in events if e["kind"] == "request_received"]
    assert all(r["client"].startswith("claude-cli/") for r in requests)


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True,
                          timeout=10, check=False).stdout


SOCKET = f"fusion-e2e-{os.getpid()}"
PROMPT = "\u276f"
"""Claude Code's input prompt (a heavy right angle quotation mark)."""


async def screen_shows(session: str, text: str, within_s: float) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        shown = tmux("capture-pane", "-p", "-t", session)
        if text in shown:
            return shown
        if loop.time() > deadline:
            raise AssertionError(f"{text!r} not on screen within {within_s}s:\n{shown}")
        await asyncio.sleep(0.5)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux for a terminal")
async def test_interactive_claude_code_starts_at_its_prompt_from_an_empty_home(
        make_settings, start_proxy, tmp_path: Path) -> None:
    binary = claude_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    runtime = await start_proxy(make_settings(upstreams=[SIM]))
    session = "launcher"
    command = (f"env -i PATH={shlex.quote(os.environ.get('PATH', '/usr/bin:/bin'))} "
               f"HOME={shlex.quote(str(home))} TERM=xterm-256color CLAUDE_CODE_MAX_RETRIES=1 "
               f"timeout --foreground 120 {shlex.quote(sys.executable)} -m fusion_tui.cli "
               f"claude --url {runtime.address} --bin {shlex.quote(str(binary))}; sleep 60")
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(workdir),
         command)
    try:
        # no sign-in screen, no trust or key dialog: straight to the prompt
        shown = await screen_shows(session, PROMPT, within_s=60)
        assert "Unable to connect" not in shown and "Select login method" not in shown
        tmux("send-keys", "-t", session, "say hello in three words", "Enter")
        await screen_shows(session, "[simulated sim-actor]", within_s=60)
    finally:
        tmux("kill-server")


async def test_fusion_tui_codex_answers_through_the_proxy(make_settings, start_proxy,
                                                          tmp_path: Path) -> None:
    from tests.e2e.agents import codex_bin

    binary = codex_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    runtime = await start_proxy(make_settings(upstreams=[SIM]))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "CODEX_HOME": str(home / ".codex")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fusion_tui.cli", "codex", "--url", runtime.address,
        "--bin", str(binary), "exec", "--json", "--skip-git-repo-check", "-s", "read-only",
        "say hi", cwd=workdir, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("fusion-tui codex exec did not finish within 120s") from None
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert proc.returncode == 0, (err.decode()[-2000:], lines)
    said = [e["item"]["text"] for e in lines if e.get("type") == "item.completed"
            and e["item"].get("type") == "agent_message"]
    assert said and said[-1].startswith("[simulated sim-actor]")
    assert not (home / ".codex" / "config.toml").exists()  # nothing written
