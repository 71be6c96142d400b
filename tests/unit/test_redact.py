"""Redaction of credentials from upstream bytes, whole and streamed in any split, and from
the Codex token endpoint's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from fusion_tui.upstreams.codex_auth import CodexAuth, CodexAuthError
from fusion_tui.upstreams.redact import StreamRedactor, redact, secrets_in
from tests.support.http import serving

SECRETS = [b"sk-ant-secret-1234", b"bearer-tok-98765"]


def test_secrets_come_from_credential_headers_only() -> None:
    found = secrets_in({"x-api-key": "sk-abcdef", "authorization": "Bearer tok-123456",
                        "X-My-Api-Token": "custom-secret", "anthropic-version": "2023-06-01",
                        "x-api-key2": "short"}, ["refresh-token-1"])
    assert set(found) == {b"sk-abcdef", b"Bearer tok-123456", b"tok-123456",
                          b"custom-secret", b"refresh-token-1"}


@settings(max_examples=300, derandomize=True, deadline=None)
@given(text=st.lists(st.sampled_from([b"a", b"sk-", b"sk-ant", b"\n\n", b"data: ",
                                      *SECRETS, b"sk-ant-secret-123", b"bearer-"]),
                     max_size=30),
       cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_a_stream_redacts_whatever_the_chunking(text: list[bytes], cuts: list[int]) -> None:
    whole = b"".join(text)
    points = sorted({min(c, len(whole)) for c in cuts})
    chunks = [whole[a:b] for a, b in zip([0, *points], [*points, len(whole)], strict=True)]
    redactor = StreamRedactor(SECRETS)
    out = b"".join(redactor.feed(c) for c in chunks) + redactor.flush()
    assert out == redact(whole, SECRETS)
    assert not any(s in out for s in SECRETS)


def test_only_a_possible_secret_start_is_held_back() -> None:
    redactor = StreamRedactor(SECRETS)
    assert redactor.feed(b"data: {}\n\n") == b"data: {}\n\n"
    assert redactor.feed(b"x sk-ant") == b"x "
    assert redactor.feed(b"-other") == b"sk-ant-other"


async def test_a_token_endpoint_quoting_the_refresh_token_is_redacted(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    home.mkdir()
    (home / "auth.json").write_text(json.dumps({"tokens": {
        "access_token": "expired.not-a-jwt.at-secret-1", "refresh_token": "rt-secret-777"}}))

    async def token(request: web.Request) -> web.Response:
        form = await request.json()
        return web.json_response({"error": {"message": f"refresh token "
                                            f"{form['refresh_token']} was revoked"}}, status=400)

    app = web.Application()
    app.router.add_post("/oauth/token", token)
    async with serving(app) as base:
        auth = CodexAuth(str(home), base + "/oauth/token")
        with pytest.raises(CodexAuthError) as info:
            await auth.credentials(force_refresh=True)
    assert "rt-secret-777" not in str(info.value) and "[redacted]" in str(info.value)
    assert "rt-secret-777" in auth.known_secrets()
