"""A proxy killed with SIGKILL mid-stream leaves a recording that replays up to its last
complete event; the headless session commands read it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from fusion_tui.sessions.replay import read_recording

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigkill_mid_stream_leaves_a_replayable_recording(tmp_path: Path) -> None:
    port = free_port()
    sessions = tmp_path / "sessions"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "server": {"host": "127.0.0.1", "port": port},
        "upstreams": [{"id": "slow", "type": "simulated", "model": "slow",
                       "first_token_ms": 10, "tokens_per_s": 10}],
        "pools": {"actor": ["slow"]}, "sessions": {"dir": str(sessions)}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUSION_")}
    proxy = subprocess.Popen([sys.executable, "-m", "fusion_tui.cli", "serve", "--config",
                              str(config)], cwd=REPO, env=env, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        client = socket.create_connection(("127.0.0.1", port))
        body = json.dumps({"model": "m", "max_tokens": 400, "stream": True, "messages": [
            {"role": "user", "content": "explain the design in detail"}]}).encode()
        client.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-type: "
                       b"application/json\r\nx-fusion-session: killed\r\ncontent-length: "
                       + str(len(body)).encode() + b"\r\n\r\n" + body)
        received = b""
        while received.count(b"content_block_delta") < 3:
            received += client.recv(4096)
        proxy.send_signal(signal.SIGKILL)
        proxy.wait(10)
        client.close()
    finally:
        if proxy.poll() is None:
            proxy.kill()
    path = sessions / "killed.jsonl"
    with path.open("a") as handle:  # as if the kill had landed in the middle of a write
        handle.write('{"kind":"response_finished","session_id":"killed","sta')
    recording = read_recording(path)
    assert [e.kind for e in recording.events][:2] == ["request_received", "route_chosen"]
    assert recording.skipped and "torn last line" in recording.skipped[-1]
    replayed = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "replay", "--json",
                               str(path)], capture_output=True, text=True, cwd=REPO, env=env,
                              timeout=60)
    assert replayed.returncode == 0
    lines = [json.loads(line) for line in replayed.stdout.splitlines()]
    assert [line["kind"] for line in lines] == [e.kind for e in recording.events]
    assert "torn last line" in replayed.stderr
    listed = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "sessions", "--json",
                             "--config", str(config)], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=60)
    [summary] = json.loads(listed.stdout)
    assert summary["session_id"] == "killed" and summary["turns"] == 1
    assert set(summary) >= {"session_id", "path", "started", "duration_s", "client", "turns",
                            "tiers", "councils", "cost_usd", "errors"}
    exported = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "export", "killed",
                               "--config", str(config)], capture_output=True, text=True,
                              cwd=REPO, env=env, timeout=60)
    assert exported.returncode == 0 and "# Session killed" in exported.stdout
    assert "explain the design in detail" in exported.stdout
    assert "torn last line" in exported.stdout
