"""The codex upstream against a fake ChatGPT Codex backend and a fake OAuth token endpoint:
the Codex CLI's auth.json read, the bearer and account headers, expired tokens refreshed and
written back in the same format and permissions, a 401 retried once after a refresh, the
browser sign-in (PKCE, loopback redirect), and no token ever in an error or event."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import openai
import pytest

from fusion_tui.upstreams.codex_auth import CodexAuth, login
from tests.support.fake_responses import FakeResponses, Turn, access_token, make_jwt, running
from tests.support.http import call


@pytest.fixture
async def backend() -> AsyncIterator[tuple[FakeResponses, str]]:
    """The fake backend and token endpoint: (its script and record, its base URL)."""
    fake = FakeResponses(empty_final_output=True)
    async with running(fake) as base:
        yield fake, base


def write_auth(home: Path, token: str, refresh: str = "rt-1", mode: int = 0o600) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "auth.json"
    path.write_text(json.dumps({
        "OPENAI_API_KEY": None,
        "tokens": {"id_token": make_jwt({"https://api.openai.com/auth": {
            "chatgpt_account_id": "acct-fake"}}), "access_token": token,
            "refresh_token": refresh, "account_id": "acct-fake"},
        "last_refresh": "2025-01-01T00:00:00Z", "extra_key_we_keep": {"a": 1}}, indent=2))
    path.chmod(mode)
    return path


def codex(base: str, home: Path, **extra: Any) -> dict[str, Any]:
    return {"id": "codex", "type": "codex", "model": "gpt-5-codex",
            "base_url": base + "/backend-api/codex", "codex_home": str(home),
            "oauth_token_url": base + "/oauth/token", **extra}


async def test_fresh_token_sent_with_account_header_and_stream_collected(
        make_settings, start_proxy, backend, tmp_path):
    fake, base = backend
    token = access_token(1)
    write_auth(tmp_path / "codex", token)
    fake.script = [Turn(text="hi from codex", calls=[{"name": "f", "arguments": {"a": 1}}])]
    runtime = await start_proxy(make_settings(upstreams=[codex(
        base, tmp_path / "codex", max_output_tokens=50, reasoning_effort="low")]))
    async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t",
                                  max_retries=0) as oai:
        answer = await oai.responses.create(model="x", input="hi", max_output_tokens=999)
    # The backend only streams and leaves response.completed's output empty: the proxy
    # streamed, collected the items, and answered one JSON response.
    assert answer.output_text == "hi from codex"
    assert [o.type for o in answer.output] == ["message", "function_call"]
    sent = fake.requests[-1]
    assert sent.path == "/backend-api/codex/responses"
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert sent.headers["chatgpt-account-id"] == "acct-fake"
    assert sent.headers["originator"] == "codex_cli_rs"
    assert sent.body["stream"] is True and sent.body["store"] is False
    assert "max_output_tokens" not in sent.body
    assert sent.body["reasoning"] == {"effort": "low"}
    assert fake.token_requests == []


async def test_expired_token_refreshed_and_written_back(backend, tmp_path):
    fake, base = backend
    path = write_auth(tmp_path / "codex", access_token(1, expires_in=-10), mode=0o640)
    before = json.loads(path.read_text())
    auth = CodexAuth(str(tmp_path / "codex"), base + "/oauth/token")
    token, account = await auth.credentials()
    after = json.loads(path.read_text())
    assert token == after["tokens"]["access_token"] != before["tokens"]["access_token"]
    assert account == "acct-fake"
    assert after["tokens"]["refresh_token"] == "rt-2"
    assert after["extra_key_we_keep"] == {"a": 1} and after["OPENAI_API_KEY"] is None
    assert after["last_refresh"] != before["last_refresh"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert fake.token_requests == [{"client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
                                    "grant_type": "refresh_token", "refresh_token": "rt-1",
                                    "scope": "openid profile email"}]
    assert not [p for p in path.parent.iterdir() if p.name != "auth.json"]  # no temp left
    # Fresh now: no second refresh.
    assert (await auth.credentials())[0] == token and auth.refreshes == 1


async def test_a_401_refreshes_once_and_retries(make_settings, start_proxy, backend, tmp_path):
    fake, base = backend
    write_auth(tmp_path / "codex", access_token(1))
    fake.require_bearer = "something-else"  # the backend no longer takes token 1
    runtime = await start_proxy(make_settings(upstreams=[codex(base, tmp_path / "codex")]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body={
        "model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status == 200, reply.text
    assert reply.json()["content"][0]["text"] == "hello from the fake responses upstream"
    assert len(fake.token_requests) == 1 and len(fake.requests) == 2


async def test_refused_refresh_is_a_clear_error_without_tokens(make_settings, start_proxy,
                                                               backend, tmp_path):
    _, base = backend
    secret = access_token(1, expires_in=-10)
    write_auth(tmp_path / "codex", secret, refresh="rt-used")
    settings = make_settings(upstreams=[codex(base, tmp_path / "codex")],
                             sessions={"dir": str(tmp_path / "sessions"), "record": "full"})
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/responses",
                       json_body={"model": "m", "input": "hi"})
    assert reply.status == 401, reply.text
    message = reply.json()["error"]["message"]
    assert "sign in again" in message and "refresh_token_reused" in message
    runtime.recorder.flush()
    recorded = "".join(p.read_text() for p in (tmp_path / "sessions").glob("*.jsonl"))
    for text in (message, recorded, reply.text):
        assert secret not in text and "rt-used" not in text
    missing = make_settings(upstreams=[codex(base, tmp_path / "nowhere")])
    runtime2 = await start_proxy(missing)
    reply = await call(runtime2.address, "POST", "/v1/responses",
                       json_body={"model": "m", "input": "hi"})
    assert reply.status == 401 and "codex login" in reply.json()["error"]["message"]


async def test_browser_sign_in_with_pkce_writes_auth_json(backend, tmp_path):
    fake, base = backend
    urls: list[str] = []
    announced = asyncio.Event()

    def announce(url: str) -> None:
        urls.append(url)
        announced.set()

    async def browser() -> None:
        await announced.wait()
        query = parse_qs(urlsplit(urls[0]).query)
        assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
        redirect = query["redirect_uri"][0]
        assert redirect.startswith("http://localhost:") and redirect.endswith("/auth/callback")
        async with aiohttp.ClientSession() as session:
            bad = await session.get(redirect.replace("localhost", "127.0.0.1"),
                                    params={"code": "c", "state": "wrong"})
            assert bad.status == 400
            ok = await session.get(redirect.replace("localhost", "127.0.0.1"),
                                   params={"code": "the-code", "state": query["state"][0]})
            assert ok.status == 200

    home = tmp_path / "fresh-codex"
    path, _ = await asyncio.gather(
        login(str(home), issuer=base, port=0, announce=announce, timeout_s=10), browser())
    data = json.loads(path.read_text())
    assert set(data) == {"OPENAI_API_KEY", "tokens", "last_refresh"}
    assert data["tokens"]["account_id"] == "acct-fake" and data["tokens"]["refresh_token"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    exchange = fake.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code" and exchange["code"] == "the-code"
    assert exchange["client_id"] == "app_EMoamEEZ73f0CkXaXp7hrann"
