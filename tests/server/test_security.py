"""Client auth, the exposure guard and its CLI flag, the recursion guard across two proxies,
private recordings, and no secret leaks: in process (events, logging, the dashboard running
while the requests come), and through `fusion-tui serve` and `fusion-tui run` as processes."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import pty
import socket
import stat
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
import yaml
from aiohttp import web
from textual.pilot import Pilot
from textual.widgets import Static

from fusion_tui.config import load_settings
from fusion_tui.events.codec import header_line
from fusion_tui.server.auth import ExposureError, check_exposure, is_loopback
from fusion_tui.sessions.recorder import session_file_name
from fusion_tui.sessions.replay import read_recording
from tests.support.fake_anthropic import FakeAnthropic, Recorded
from tests.support.http import call, serving

ASK = {"model": "m", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
CLIENT_KEY = "fusion-client-key-7b1e"
UPSTREAM_KEY = "sk-upstream-secret-0f9d3c"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUSION_TEST_CLIENT_KEY", CLIENT_KEY)
    monkeypatch.setenv("FUSION_TEST_UPSTREAM_KEY", UPSTREAM_KEY)


async def test_client_auth_in_both_shapes_and_liveness_only_health(make_settings, start_proxy,
                                                                   keys):
    runtime = await start_proxy(make_settings(server={
        "host": "127.0.0.1", "port": 0, "auth_key_env": "FUSION_TEST_CLIENT_KEY"}))
    address = runtime.address
    missing = await call(address, "POST", "/v1/messages", json_body=ASK)
    assert missing.status == 401 and missing.json()["error"]["type"] == "authentication_error"
    wrong = await call(address, "POST", "/v1/chat/completions", json_body={
        "model": "m", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": "Bearer nope"})
    assert wrong.status == 401 and "error" in wrong.json() and "type" not in wrong.json()
    async with anthropic.AsyncAnthropic(base_url=address, api_key=CLIENT_KEY,
                                        max_retries=0) as client:
        assert (await client.messages.create(**ASK)).content[0].type == "text"
    async with openai.AsyncOpenAI(base_url=address + "/v1", api_key=CLIENT_KEY,
                                  max_retries=0) as oai:
        done = await oai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}])
        assert done.choices[0].message.content
    assert (await call(address, "GET", "/health")).json() == {"status": "ok"}
    full = (await call(address, "GET", "/health", headers={"x-api-key": CLIENT_KEY})).json()
    assert "upstreams" in full
    assert (await call(address, "GET", "/api/hello")).status == 200


def test_exposure_guard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    base = {"upstreams": [{"id": "s", "type": "simulated", "model": "s"}],
            "pools": {"actor": ["s"]}}
    empty = tmp_path / "c.yaml"
    empty.write_text("{}\n")
    with pytest.raises(ExposureError, match="other machines can reach"):
        check_exposure(load_settings(empty, **base, server={"host": "0.0.0.0"}))
    check_exposure(load_settings(empty, **base, server={
        "host": "0.0.0.0", "allow_remote_without_auth": True}))
    monkeypatch.delenv("UNSET_KEY_VAR", raising=False)
    with pytest.raises(ExposureError, match="UNSET_KEY_VAR, which is not set"):
        check_exposure(load_settings(empty, **base, server={"auth_key_env": "UNSET_KEY_VAR"}))
    out = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "serve", "--config",
                          str(empty)], capture_output=True, text=True, cwd=REPO, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "FUSION_SERVER__HOST": "0.0.0.0",
                              "FUSION_UPSTREAMS": json.dumps(base["upstreams"]),
                              "FUSION_POOLS": json.dumps(base["pools"]),
                              "FUSION_SESSIONS__DIR": str(tmp_path / "s")})
    assert out.returncode == 2 and "other machines can reach" in out.stderr


async def test_allow_remote_without_auth_flag_listens_beyond_loopback(tmp_path: Path) -> None:
    port = free_port()
    empty = tmp_path / "c.yaml"
    empty.write_text("{}\n")
    env = {**process_env(tmp_path), "FUSION_SERVER__HOST": "0.0.0.0",
           "FUSION_SERVER__PORT": str(port), "FUSION_SESSIONS__DIR": str(tmp_path / "s"),
           "FUSION_UPSTREAMS": json.dumps([{"id": "s", "type": "simulated", "model": "s"}]),
           "FUSION_POOLS": json.dumps({"actor": ["s"]})}
    proc, address, _ = await start_serve(
        ["--config", str(empty), "--allow-remote-without-auth"], env)
    try:
        assert address == f"http://0.0.0.0:{port}"
        health = await call(f"http://127.0.0.1:{port}", "GET", "/health")
        assert health.status == 200 and health.json()["status"] == "ok"
    finally:
        await stop_serve(proc)


async def test_a_fusion_behind_a_fusion_never_fans_out_twice(make_settings, start_proxy,
                                                             fake_anthropic):
    fake, base = fake_anthropic
    sim = {"id": "sim", "type": "simulated", "model": "sim", "first_token_ms": 1,
           "tokens_per_s": 5000}
    inner = await start_proxy(make_settings(upstreams=[
        {"id": "real", "type": "anthropic", "base_url": base, "model": "claude-up"},
        {**sim, "id": "p1"}, {**sim, "id": "p2"}],
        pools={"actor": ["real"], "panel": ["p1", "p2"], "judge": ["p1"]},
        routing={"mode": "all"}))
    outer = await start_proxy(make_settings(upstreams=[
        {"id": "inner", "type": "anthropic", "base_url": inner.address, "model": "fusion"}],
        pools={"actor": ["inner"]}))
    seen: list[Any] = []
    inner.bus.listen(seen.append)
    direct = await call(inner.address, "POST", "/v1/messages", json_body=ASK)
    assert "panel=p1+p2" in direct.headers["x-fusion-route"]
    chained = await call(outer.address, "POST", "/v1/messages", json_body=ASK)
    assert chained.status == 200
    inner_route = [e.route for e in seen if e.kind == "response_finished"][-1]
    assert inner_route == "mode=single; tier=-; served_by=real; reason=depth_guard:1"
    assert fake.requests[-1].headers["x-fusion-depth"] == "2"


FAIL_WORD = "please-fail-this-call"
"""A request containing this makes the echoing fake answer 401."""

LEAK_POOLS = {"actor": ["refused", "echo"], "council": ["sim"], "judge": ["sim"]}


class EchoingFake(FakeAnthropic):
    """The fake Anthropic upstream, except that a request mentioning `FAIL_WORD` gets a 401
    whose message echoes the x-api-key it received (as some gateways do)."""

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if FAIL_WORD.encode() not in raw:
            return await super()._messages(request)
        self.requests.append(Recorded(request.path, request.query_string,
                                      {k.lower(): v for k, v in request.headers.items()}, raw))
        received = request.headers.get("x-api-key", "")
        return web.json_response({"type": "error", "error": {
            "type": "authentication_error", "message": f"invalid x-api-key: {received}"}},
            status=401)


def free_port() -> int:
    """A loopback port nothing listens on right now (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def leak_upstreams(echo_base: str) -> list[dict[str, Any]]:
    """The echoing upstream, a refused one (both with the key), and a simulated council."""
    keyed = {"type": "anthropic", "model": "claude-up", "api_key_env": "FUSION_TEST_UPSTREAM_KEY"}
    return [{**keyed, "id": "echo", "base_url": echo_base},
            {**keyed, "id": "refused", "base_url": f"http://127.0.0.1:{free_port()}"},
            {"id": "sim", "type": "simulated", "model": "sim", "first_token_ms": 1}]


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
FAILING = [{"role": "user", "content": FAIL_WORD}]
TRAFFIC: list[tuple[str, dict[str, Any], bool]] = [  # (path, body, fails)
    ("/v1/messages", ASK, False),
    ("/v1/messages", {**ASK, "stream": True}, False),
    ("/v1/messages", {**ASK, "messages": FAILING}, True),
    ("/v1/messages", {**ASK, "messages": FAILING, "stream": True}, True),
    ("/v1/chat/completions", CHAT, False),
    ("/v1/chat/completions", {**CHAT, "stream": True}, False),
    ("/v1/chat/completions", {**CHAT, "messages": FAILING}, True),
    ("/v1/chat/completions", {**CHAT, "messages": FAILING, "stream": True}, True),
]


async def send_traffic(address: str, session: str) -> str:
    """Every call of TRAFFIC (ok and failing, both protocols, streamed and not), a wrong
    client key and the full /health; their statuses, headers and bodies as one text."""
    headers = {"x-api-key": CLIENT_KEY, "x-fusion-session": session}
    answers = []
    for path, body, fails in TRAFFIC:
        reply = await call(address, "POST", path, json_body=body, headers=headers)
        answers.append(f"{reply.status} {reply.headers} {reply.text}")
        if fails:
            assert reply.status >= 400 or '"error"' in reply.text, (path, reply.text)
            assert "invalid x-api-key" in reply.text, reply.text  # the upstream's words came
        else:
            assert reply.status == 200 and "hello" in reply.text, reply.text
    wrong = await call(address, "POST", "/v1/messages", json_body=ASK,
                       headers={"x-api-key": CLIENT_KEY[:-1]})
    assert wrong.status == 401
    health = await call(address, "GET", "/health", headers=headers)
    assert "upstreams" in health.json()
    return "\n".join([*answers, wrong.text, health.text])


def assert_no_keys(outputs: dict[str, str], may_be_empty: tuple[str, ...] = ()) -> None:
    """Neither key appears in any of `outputs` (each non-empty unless named)."""
    for name, text in outputs.items():
        assert text or name in may_be_empty, f"{name} is empty"
    leaks = [f"{key_name} key in {name}" for name, text in outputs.items()
             for key_name, key in (("upstream", UPSTREAM_KEY), ("client", CLIENT_KEY))
             if key in text]
    assert not leaks, "leaked: " + ", ".join(leaks)


def assert_key_was_echoed(fake: EchoingFake) -> None:
    """The fake got the key on failing calls, so its 401s really carried it back."""
    failing = [r for r in fake.requests if FAIL_WORD.encode() in r.raw]
    assert failing and all(r.headers["x-api-key"] == UPSTREAM_KEY for r in failing)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], within_s: float = 10.0,
                   ) -> None:
    """Let the app run until `condition()` holds."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the dashboard did not settle"
        await pilot.pause(0.02)


async def test_secrets_never_reach_logs_events_recordings_errors_or_screen(
        make_settings, start_proxy, keys, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch):
    from fusion_tui.events.codec import encode_line
    from fusion_tui.tui.app import FusionApp
    from fusion_tui.tui.status import StatusInfo
    from fusion_tui.tui.widgets import RequestFeed

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    fake = EchoingFake()
    async with serving(fake.app()) as base:
        settings = make_settings(
            server={"host": "127.0.0.1", "port": 0, "auth_key_env": "FUSION_TEST_CLIENT_KEY"},
            upstreams=leak_upstreams(base), pools=LEAK_POOLS)
        runtime = await start_proxy(settings)
        lines: list[str] = []
        runtime.bus.listen(lambda e: lines.append(encode_line(e)))
        # the dashboard runs before any request, so it sees every event as it happens
        app = FusionApp(runtime.bus, None, StatusInfo.from_settings(settings),
                        state_path=tmp_path / "ui.json")
        async with app.run_test(size=(320, 48)) as pilot:
            tool_turn = {**ASK, "tools": [{"name": "Read", "input_schema": {"type": "object"}}]}
            council = await call(runtime.address, "POST", "/v1/messages", json_body=tool_turn,
                                 headers={"x-api-key": CLIENT_KEY, "x-fusion-tier": "plan",
                                          "x-fusion-session": "leak-council"})
            assert council.status == 200 and "council=sim" in council.headers["x-fusion-route"]
            answers = await send_traffic(runtime.address, "leak-check")
            feed = app.screen.query_one(RequestFeed)
            expected = len(TRAFFIC) + 1
            await wait_for(pilot, lambda: sum(r.finished for r in feed.rows_model.values())
                           == expected and app.screen.settled and feed.row_count == expected)
            failed = [key for key, row in feed.rows_model.items() if row.error]
            assert len(failed) == sum(fails for _, _, fails in TRAFFIC)
            feed.focus()
            details = []
            for request_id in failed:
                feed.move_cursor(row=feed.get_row_index(request_id))
                await pilot.press("enter")
                details.append(str(app.screen.query_one("#detail", Static).content))
            assert all("invalid x-api-key" in d for d in details), details
            # wide enough for the whole reason line; the SVG writes spaces as &#160;
            screen = app.export_screenshot().replace("&#160;", " ")
            assert "invalid x-api-key" in screen
        assert_key_was_echoed(fake)
    check = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "check", "--config",
                            str(tmp_path / "empty-config.yaml")], capture_output=True,
                           text=True, cwd=REPO, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "FUSION_TEST_UPSTREAM_KEY": UPSTREAM_KEY,
                                "FUSION_UPSTREAMS": json.dumps([
                                    {"id": "real", "type": "anthropic", "model": "m",
                                     "api_key_env": "FUSION_TEST_UPSTREAM_KEY"}]),
                                "FUSION_POOLS": json.dumps({"actor": ["real"]})})
    assert "FUSION_TEST_UPSTREAM_KEY (set)" in check.stdout
    runtime.recorder.flush()
    recording = "".join(p.read_text() for p in settings.sessions.path.glob("*.jsonl"))
    assert FAIL_WORD in recording and "invalid x-api-key" in recording
    assert_no_keys({"events": "\n".join(lines), "recording": recording, "answers": answers,
                    "screen": screen, "feed reason lines": "\n".join(details),
                    "check": check.stdout + check.stderr, "logging": caplog.text},
                   may_be_empty=("logging",))


def process_env(tmp_path: Path) -> dict[str, str]:
    """A bare environment for a fusion-tui process: the keys, and state under tmp_path."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "TERM": "xterm-256color",
            "FUSION_TEST_UPSTREAM_KEY": UPSTREAM_KEY, "FUSION_TEST_CLIENT_KEY": CLIENT_KEY}


async def start_serve(args: list[str], env: dict[str, str],
                      ) -> tuple[asyncio.subprocess.Process, str, bytes]:
    """`fusion-tui serve` as a process: (it, the address it listens on, stderr so far)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fusion_tui.cli", "serve", *args, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    seen = b""
    async with asyncio.timeout(60):
        while True:
            line = await proc.stderr.readline()
            seen += line
            if not line:
                await proc.wait()
                raise AssertionError(f"serve exited {proc.returncode}: {seen.decode()}")
            if line.startswith(b'{"listening"'):
                return proc, str(json.loads(line)["listening"]), seen


async def stop_serve(proc: asyncio.subprocess.Process) -> bytes:
    """SIGTERM, then everything it wrote after starting (stdout and stderr)."""
    proc.terminate()
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out + err


async def run_dashboard_process(config: Path, env: dict[str, str], port: int) -> str:
    """`fusion-tui run` in a pseudo-terminal: the traffic, then `q`; its terminal output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
    terminal = bytearray()
    loop = asyncio.get_running_loop()

    def drain() -> None:
        try:
            terminal.extend(os.read(master, 65536))
        except OSError:  # the child closed the terminal
            loop.remove_reader(master)

    loop.add_reader(master, drain)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fusion_tui.cli", "run", "--config", str(config), cwd=REPO,
            env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        async with asyncio.timeout(60):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    assert proc.returncode is None, terminal.decode(errors="replace")
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break
            answers = await send_traffic(f"http://127.0.0.1:{port}", "leak-run")
            await asyncio.sleep(0.5)  # the dashboard draws what it got
            os.write(master, b"q")
            assert await proc.wait() == 0, terminal.decode(errors="replace")
    finally:
        loop.remove_reader(master)
        os.close(master)
    return answers + "\n" + terminal.decode(errors="replace")


async def test_serve_and_run_processes_never_show_the_keys(tmp_path: Path) -> None:
    fake = EchoingFake()
    env = process_env(tmp_path)
    async with serving(fake.app()) as base:
        config = {"server": {"host": "127.0.0.1", "port": 0,
                             "auth_key_env": "FUSION_TEST_CLIENT_KEY"},
                  "upstreams": leak_upstreams(base), "pools": LEAK_POOLS,
                  "sessions": {"dir": str(tmp_path / "sessions")}}
        serve_config = tmp_path / "serve.yaml"
        serve_config.write_text(yaml.safe_dump(config))
        proc, address, started = await start_serve(["--config", str(serve_config)], env)
        try:
            answers = await send_traffic(address, "leak-serve")
        finally:
            printed = started + await stop_serve(proc)
        port = free_port()
        run_config = tmp_path / "run.yaml"
        run_config.write_text(yaml.safe_dump({**config, "server": {**config["server"],
                                                                    "port": port}}))
        run_output = await run_dashboard_process(run_config, env, port)
        assert_key_was_echoed(fake)
    log = tmp_path / "state" / "fusion-tui" / "fusion-tui.log"
    assert log.exists(), "run wrote no log file where cli.log_file() says"
    recordings = {p.name: p.read_text() for p in (tmp_path / "sessions").glob("*.jsonl")}
    assert {"leak-serve.jsonl", "leak-run.jsonl"} <= set(recordings)
    serve_lines = printed.decode()
    assert '"status":401' in serve_lines or '"status":502' in serve_lines, serve_lines
    assert_no_keys({"serve stdout+stderr": serve_lines, "serve answers": answers,
                    "run answers and terminal": run_output, "run log": log.read_text(),
                    "recordings": "\n".join(recordings.values())}, may_be_empty=("run log",))


async def test_recordings_are_private_even_where_file_and_folder_were_not(
        make_settings, start_proxy, tmp_path: Path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    folder.chmod(0o755)
    old = folder / session_file_name("was-public")
    old.write_text(header_line("was-public", time.time()) + "\n")
    old.chmod(0o644)
    runtime = await start_proxy(make_settings(sessions={"dir": str(folder)}))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for session in ("was-public", "fresh"):
        reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                           headers={"x-fusion-session": session})
        assert reply.status == 200
    runtime.recorder.flush()
    assert runtime.recorder.errors == 0, runtime.recorder.last_error
    for session in ("was-public", "fresh"):
        path = folder / session_file_name(session)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert "response_finished" in [e.kind for e in read_recording(path).events]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
