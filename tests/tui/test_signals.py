"""SIGTERM and SIGHUP quit the dashboard as `q` does: the terminal is given back (the
alternate screen left, echo and line mode restored) and the process exits 0. Runs the real
`fusion-tui replay` in a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.tui.conftest import FIXTURE, REPO

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and ptys")

ALT_SCREEN_ON = b"\x1b[?1049h"
ALT_SCREEN_OFF = b"\x1b[?1049l"


def read_until(fd: int, proc: subprocess.Popen[bytes], wanted: bytes | None,
               within_s: float) -> bytes:
    """Read the pty until `wanted` shows up (None: until the child exits)."""
    out = b""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed its side
                chunk = b""
            out += chunk
            if wanted is not None and wanted in out:
                return out
        elif wanted is None and proc.poll() is not None:
            return out
    raise AssertionError(f"timed out waiting for {wanted!r}; got {out[-300:]!r}")


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_signal_quits_and_restores_the_terminal(signame: str, tmp_path: Path) -> None:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(slave)
    env = {**os.environ, "TERM": "xterm-256color", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("FUSION_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fusion_tui.cli", "replay", str(FIXTURE), "--speed", "0",
         "--config", str(REPO / "config.yaml")],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path,
        start_new_session=True)
    try:
        read_until(master, proc, ALT_SCREEN_ON, within_s=60)
        read_until(master, proc, b"REPLAY", within_s=30)  # the screen is drawn
        proc.send_signal(getattr(signal, signame))
        tail = read_until(master, proc, None, within_s=30)
        assert proc.wait(timeout=10) == 0
        assert ALT_SCREEN_OFF in tail
        after = termios.tcgetattr(slave)
        assert after[3] & termios.ECHO and after[3] & termios.ICANON  # lflag: cooked again
        assert after[3] == before[3]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux for a terminal")
def test_closing_the_tmux_pane_ends_the_process(tmp_path: Path) -> None:
    """A closed tmux pane: the terminal is gone and SIGHUP arrives. Textual cannot give a
    vanished terminal back (its driver blocks writing to it), so once the proxy has stopped
    the process ends by itself (QUIT_GRACE_S) instead of holding its port for ever."""
    config = tmp_path / "config.yaml"
    bundled = (REPO / "fusion_tui" / "config" / "bundled.yaml").read_text(encoding="utf-8")
    config.write_text(bundled.replace("port: 8787", "port: 0"), encoding="utf-8")
    socket, session = f"fusion-hup-{os.getpid()}", "hup"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUSION_")}
    env.update({"XDG_STATE_HOME": str(tmp_path / "state"), "HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / "config"), "TERM": "xterm-256color"})

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                              env=env, check=False).stdout

    command = f"exec {sys.executable} -m fusion_tui.cli demo --config {config}"
    tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", "-c", str(tmp_path),
         command)
    try:
        pid = int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0])
        deadline = time.monotonic() + 90
        while "fusion-tui" not in tmux("capture-pane", "-p", "-t", session):
            assert time.monotonic() < deadline, "the dashboard never showed"
            time.sleep(0.5)
        time.sleep(2)  # the demo's proxy is up and its agent talking
        tmux("kill-session", "-t", session)
        deadline = time.monotonic() + 60
        while os.path.exists(f"/proc/{pid}") or _alive(pid):
            assert time.monotonic() < deadline, "still running a minute after its pane closed"
            time.sleep(0.5)
    finally:
        tmux("kill-server")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
