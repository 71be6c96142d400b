"""A scripted upstream byte stream for sans-IO tests."""

from __future__ import annotations


class ScriptedStream:
    """An async iterator over the given chunks that records whether it was closed."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.closed = False

    def __aiter__(self) -> ScriptedStream:
        return self

    async def __anext__(self) -> bytes:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        """Close the stream (what a relay must do when it stops reading)."""
        self.closed = True
