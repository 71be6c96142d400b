"""Fixtures shared by the server tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.raw_server import RawServer


@pytest.fixture
async def raw() -> AsyncIterator[list[RawServer]]:
    """The raw upstreams a test starts (`serve_raw`), stopped when it ends."""
    servers: list[RawServer] = []
    yield servers
    for server in servers:
        await server.stop()
