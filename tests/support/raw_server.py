"""A raw TCP server that answers HTTP with whatever a test scripts, byte for byte."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

SSE_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n")


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk (an empty one ends the body)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response with a JSON body; the connection closes after it."""
    raw = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
    head += f"content-length: {len(raw)}\r\nconnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return head.encode() + b"\r\n" + raw


def sse(event: str | None, data: Any) -> bytes:
    """One SSE frame as a chunk; `data` is JSON-encoded unless it is bytes already."""
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    head = f"event: {event}\n".encode() if event else b""
    return chunk(head + b"data: " + payload + b"\n\n")


def refused_url() -> str:
    """A loopback URL where nothing listens (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read the request head and its content-length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


async def until_closed(reader: asyncio.StreamReader) -> None:
    """Hold the response open until the client closes the connection."""
    while await reader.read(4096):
        pass


@dataclass
class RawServer:
    """Runs `script` for every connection; records the requests and when connections open
    and close (a script that returns closes its connection)."""

    script: Script
    opened: list[float] = field(default_factory=list)
    closed: list[float] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    server: asyncio.AbstractServer | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> str:
        """Listen on a free loopback port; returns the base URL."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    @property
    def open_connections(self) -> int:
        """Connections accepted and not yet closed."""
        return len(self.opened) - len(self.closed)

    async def all_closed(self, within_s: float) -> bool:
        """Wait up to `within_s` for every connection to have closed; whether they did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while self.open_connections:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.opened.append(asyncio.get_running_loop().time())
        try:
            self.requests.append(await read_request(reader))
            await self.script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only `stop` cancels these tasks; ending quietly keeps asyncio's start_server
            # callback from logging the cancellation as an error.
            pass
        finally:
            self.closed.append(asyncio.get_running_loop().time())
            writer.close()
            self.tasks.discard(task)

    async def stop(self) -> None:
        """Stop listening and end the connections still served."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def serve_raw(raw: list[RawServer], script: Script) -> tuple[RawServer, str]:
    """Start a RawServer running `script`, kept in `raw` (the `raw` fixture) to be stopped;
    the server and its base URL."""
    server = RawServer(script)
    raw.append(server)
    return server, await server.start()
