"""Shared helpers for benchmarks: free ports, child servers, CPU time of a process, and the
load tools (the project's own fake upstream and load generator, bench/fake_upstream.py and
bench/loadgen.py, so the benchmarks run from a fresh clone)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BENCH_TOOLS = Path(os.environ.get("FUSION_BENCH_TOOLS", REPO / "bench"))
"""Where the load tools are: this folder, or $FUSION_BENCH_TOOLS to measure with another set
of tools of the same interface (e.g. reference tools, for a comparison)."""
TICKS = os.sysconf("SC_CLK_TCK")


def bench_tool(name: str) -> Path:
    """The load tool `name` (e.g. "loadgen.py"); when it is missing, the benchmark stops with
    one line saying where it looked and how to point at the tools (no traceback)."""
    path = BENCH_TOOLS / name
    if not path.is_file():
        origin = ("FUSION_BENCH_TOOLS" if "FUSION_BENCH_TOOLS" in os.environ
                  else "the default, the repository's bench/")
        raise SystemExit(f"bench: load tool {name} not found in {BENCH_TOOLS} (from "
                         f"{origin}); unset FUSION_BENCH_TOOLS or point it at a folder "
                         "holding fake_upstream.py and loadgen.py")
    return path


def free_port() -> int:
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout_s: float = 30.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid: int) -> int:
    """Open file descriptors of a process."""
    return len(os.listdir(f"/proc/{pid}/fd"))


@contextmanager
def child(args: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run a server process until the block ends; yields its pid once it listens."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})
    try:
        wait_port(port)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def fusion_proxy(upstream_port: int, protocol: str = "anthropic", record: str = "full",
                 mode: str = "single") -> Iterator[tuple[int, int]]:
    """`fusion-tui serve` in front of a local upstream; yields (port, pid)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        upstream = {"id": "local", "type": "anthropic" if protocol == "anthropic" else "openai",
                    "base_url": f"http://127.0.0.1:{upstream_port}", "model": "fake-model",
                    "api_key_env": "FUSION_BENCH_KEY"}
        config = {"server": {"host": "127.0.0.1", "port": port}, "upstreams": [upstream],
                  "pools": {"actor": ["local"]}, "routing": {"mode": mode},
                  "sessions": {"dir": f"{tmp}/sessions", "record": record}}
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        with child([sys.executable, "-m", "fusion_tui.cli", "serve", "--config", str(path)],
                   port, env={"FUSION_BENCH_KEY": "sk-bench"}) as pid:
            yield port, pid


@contextmanager
def fake_upstream(*extra: str) -> Iterator[int]:
    """The fake upstream (bench/fake_upstream.py unless FUSION_BENCH_TOOLS says otherwise);
    yields its port."""
    script = bench_tool("fake_upstream.py")
    port = free_port()
    with child([sys.executable, str(script), "--port", str(port), *extra], port):
        yield port
