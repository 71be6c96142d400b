"""Shared fixtures: settings on a temp folder and free ports, a running proxy."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from fusion_tui.config import Settings, load_settings
from fusion_tui.runtime import Runtime
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.http import serving

pytest_plugins = ["tests.conftest_model"]

REPO = Path(__file__).resolve().parent.parent

SIM = {"id": "sim", "type": "simulated", "model": "sim-model", "first_token_ms": 1,
       "tokens_per_s": 5000}


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Build Settings from keyword overrides, on port 0 with sessions under tmp_path."""
    monkeypatch.delenv("FUSION_CONFIG", raising=False)
    for name in list(os.environ):
        if name.startswith("FUSION_"):
            monkeypatch.delenv(name)

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("server", {"host": "127.0.0.1", "port": 0})
        overrides.setdefault("upstreams", [SIM])
        overrides.setdefault("pools", {"actor": [overrides["upstreams"][0]["id"]]})
        overrides.setdefault("sessions", {"dir": str(tmp_path / "sessions")})
        empty = tmp_path / "empty-config.yaml"
        empty.write_text("{}\n")
        return load_settings(empty, **overrides)

    return make


@pytest.fixture
async def start_proxy() -> AsyncIterator[Callable[[Settings], Any]]:
    """Start a Runtime for given settings; everything started is stopped afterwards."""
    started: list[Runtime] = []

    async def start(settings: Settings) -> Runtime:
        runtime = Runtime(settings)
        await runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.stop()


@pytest.fixture
async def fake_anthropic() -> AsyncIterator[tuple[FakeAnthropic, str]]:
    """A local Anthropic-protocol server: (its script and record, its base URL)."""
    fake = FakeAnthropic()
    async with serving(fake.app()) as base:
        yield fake, base

