"""One `fusion-tui serve` subprocess per arm, on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import TracebackType

import yaml

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
_ENTRY = "from fusion_tui.cli import main; raise SystemExit(main())"


class ProxyError(Exception):
    """The arm's proxy did not start; the message carries the tail of its log."""


def _tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


class ArmProxy:
    """`async with ArmProxy(config, config_path, log_path) as proxy:` starts the proxy and
    stops it (SIGTERM, then SIGKILL) on the way out; `proxy.address` is its base URL."""

    def __init__(self, config: dict[str, object], config_path: Path, log_path: Path) -> None:
        self.config = config
        self.config_path = config_path
        self.log_path = log_path
        self.address = ""
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> ArmProxy:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False),
                                    encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("FUSION_")}
        with self.log_path.open("wb") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _ENTRY, "serve", "--config", str(self.config_path),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True)
        try:
            self.address = await self._wait_listening()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _wait_listening(self) -> str:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for line in _tail(self.log_path, 20000).splitlines():
                if line.startswith("{") and '"listening"' in line:
                    with contextlib.suppress(ValueError):
                        address = json.loads(line).get("listening")
                        if isinstance(address, str):
                            return address.rstrip("/")
            if self._proc.returncode is not None:
                raise ProxyError(f"proxy exited with status {self._proc.returncode}:\n"
                                 f"{_tail(self.log_path)}")
            await asyncio.sleep(0.1)
        raise ProxyError(f"proxy not listening after {START_TIMEOUT_S:g}s:\n"
                         f"{_tail(self.log_path)}")

    async def stop(self) -> None:
        """Stop the proxy (its recorder flushes on SIGTERM)."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()
