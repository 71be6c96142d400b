"""Client auth, exposure guard, the recursion guard across two proxies, and no secret leaks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from fusion_tui.config import load_settings
from fusion_tui.server.auth import ExposureError, check_exposure, is_loopback
from tests.support.http import call

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


async def test_secrets_never_reach_logs_events_recordings_errors_or_screen(
        make_settings, start_proxy, fake_anthropic, keys, tmp_path: Path):
    from fusion_tui.events.codec import encode_line
    from fusion_tui.tui.app import FusionApp
    from fusion_tui.tui.status import StatusInfo

    fake, base = fake_anthropic
    settings = make_settings(
        server={"host": "127.0.0.1", "port": 0, "auth_key_env": "FUSION_TEST_CLIENT_KEY"},
        upstreams=[{"id": "real", "type": "anthropic", "base_url": base, "model": "claude-up",
                    "api_key_env": "FUSION_TEST_UPSTREAM_KEY"},
                   {"id": "sim", "type": "simulated", "model": "sim", "first_token_ms": 1}],
        pools={"actor": ["real"], "council": ["sim"], "judge": ["sim"]})
    runtime = await start_proxy(settings)
    lines: list[str] = []
    runtime.bus.listen(lambda e: lines.append(encode_line(e)))
    headers = {"x-api-key": CLIENT_KEY, "x-fusion-session": "leak-check"}
    tool_turn = {**ASK, "tools": [{"name": "Read", "input_schema": {"type": "object"}}]}
    await call(runtime.address, "POST", "/v1/messages", json_body=tool_turn,
               headers={**headers, "x-fusion-tier": "plan"})
    fake.error_status, fake.error_message = 401, "invalid x-api-key"
    failed = await call(runtime.address, "POST", "/v1/messages", json_body=ASK, headers=headers)
    assert fake.requests[0].headers["x-api-key"] == UPSTREAM_KEY  # it was really used
    health = await call(runtime.address, "GET", "/health", headers=headers)
    app = FusionApp(runtime.bus, None, StatusInfo.from_settings(settings))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.3)
        screen = app.export_screenshot()
    check = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "check", "--config",
                            str(tmp_path / "empty-config.yaml")], capture_output=True,
                           text=True, cwd=REPO, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "FUSION_TEST_UPSTREAM_KEY": UPSTREAM_KEY,
                                "FUSION_UPSTREAMS": json.dumps([
                                    {"id": "real", "type": "anthropic", "model": "m",
                                     "api_key_env": "FUSION_TEST_UPSTREAM_KEY"}]),
                                "FUSION_POOLS": json.dumps({"actor": ["real"]})})
    runtime.recorder.flush()
    recording = "".join(p.read_text() for p in settings.sessions.path.glob("*.jsonl"))
    outputs = {"events": "\n".join(lines), "recording": recording, "error": failed.text,
               "health": health.text, "screen": screen, "check": check.stdout + check.stderr}
    assert "FUSION_TEST_UPSTREAM_KEY (set)" in check.stdout
    for name, text in outputs.items():
        assert text, name
        assert UPSTREAM_KEY not in text, f"upstream key leaked into {name}"
        assert CLIENT_KEY not in text, f"client key leaked into {name}"
