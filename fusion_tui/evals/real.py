"""`python -m fusion_tui.evals.real`: the eval on a real local model, end to end. Starts the
llama.cpp server (see `llama`), writes a config whose actor, advisors and judge are that model
(actor and judge over Chat Completions, the advisor over the Messages API), and runs
`fusion-tui eval council` on one tiny task with Claude Code in --bare mode (its full prompt
is about 12k tokens: minutes per turn on two CPU cores). Extra arguments go to `eval council`.

Pointing it elsewhere: `--llama-url URL` uses a llama.cpp (or any server speaking both APIs)
that is already running, e.g. on a GPU machine; a real API needs no llama at all: write the
config yourself and run `fusion-tui eval council --config it.yaml` (docs/eval.md)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from fusion_tui.evals.tasks import STARTER_SUITE

DEFAULT_TASK = "py-failing-test"
START_TIMEOUT_S = 300


def real_config(url: str) -> dict[str, object]:
    """Every role played by the local model (three upstream ids, two wire protocols)."""
    def up(uid: str, kind: str) -> dict[str, object]:
        return {"id": uid, "type": kind, "model": "qwen2.5-coder-0.5b",
                "base_url": f"{url}/v1" if kind == "openai-compatible" else url,
                "timeout_s": 600, "max_output_tokens": 512}

    return {"upstreams": [up("qwen-actor", "openai-compatible"),
                          up("qwen-advisor", "anthropic"),
                          up("qwen-judge", "openai-compatible")],
            "pools": {"actor": ["qwen-actor"], "council": ["qwen-advisor"],
                      "judge": ["qwen-judge"]},
            "routing": {"mode": "single"},
            "council": {"deadline_s": 300, "advisor_max_tokens": 96, "judge_max_tokens": 128}}


def _start_llama(log: Path, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "fusion_tui.evals.llama", "--threads",
                                 str(threads), "--ctx", "16384"], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith('{"listening"'):
                return proc, str(json.loads(line)["listening"])
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"fusion-tui: llama.cpp server did not start:\n"
                     f"{log.read_text(errors='replace')[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    """Run the real-model eval; returns eval council's status."""
    parser = argparse.ArgumentParser(prog="python -m fusion_tui.evals.real",
                                     description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("fusion-eval-real"))
    parser.add_argument("--llama-url", help="use this running server instead of starting one")
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--task", default=DEFAULT_TASK, help="starter task to run")
    args, rest = parser.parse_known_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # SIGTERM must unwind through `finally`, which stops the eval and the llama server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    proc = None
    evaluation: subprocess.Popen[bytes] | None = None
    url = args.llama_url
    try:
        if not url:
            proc, url = _start_llama(out / "llama.log", args.threads)
        config = out / "real-config.yaml"
        config.write_text(yaml.safe_dump(real_config(url.rstrip("/")), sort_keys=False),
                          encoding="utf-8")
        command = [sys.executable, "-c", "from fusion_tui.cli import main; "
                   "raise SystemExit(main())", "eval", "council", "--config", str(config),
                   "--tasks", str(STARTER_SUITE), "--only", args.task, "--out", str(out),
                   "--agent-arg=--bare", *rest]
        evaluation = subprocess.Popen(command)
        return evaluation.wait()
    finally:
        if evaluation is not None and evaluation.poll() is None:
            evaluation.terminate()  # the eval stops its own proxy on SIGTERM
            evaluation.wait()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    raise SystemExit(main())
