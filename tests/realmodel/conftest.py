"""The real-model tier: a llama.cpp server (xllamacpp) with Qwen2.5-Coder-0.5B, started once
for the tier. Runs only with FUSION_REALMODEL=1 (`make test-realmodel` sets it; there a
missing xllamacpp or model is a failure, not a skip)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 300


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tier unless asked for: it needs a 400 MB model and minutes of CPU."""
    if os.environ.get("FUSION_REALMODEL") == "1":
        return
    skip = pytest.mark.skip(reason="real-model tier: set FUSION_REALMODEL=1 "
                                   "(make test-realmodel)")
    for item in items:
        if "realmodel" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (no /v1) of the local llama.cpp server."""
    try:
        import xllamacpp  # noqa: F401
    except ImportError:
        pytest.fail("xllamacpp is not installed (pip install -e '.[real-model]')")
    log = tmp_path_factory.mktemp("llama") / "llama.log"
    threads = os.environ.get("FUSION_LLAMA_THREADS", str(min(4, os.cpu_count() or 1)))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fusion_tui.evals.llama", "--threads", threads,
             "--ctx", "4096"], stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        url = None
        while url is None:
            for line in Path(log).read_text(errors="replace").splitlines():
                if line.startswith('{"listening"'):
                    url = json.loads(line)["listening"]
            if url is None:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama.cpp server did not start:\n"
                                + Path(log).read_text(errors="replace")[-2000:])
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
