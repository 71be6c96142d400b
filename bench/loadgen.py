"""A closed-loop load generator for benchmarks: `-c` clients each send a 21 KB coding-agent
request (a system prompt, tools, a history with a file read) as soon as their previous one
is answered, `--warmup` uncounted requests first, then `-n` counted ones. Prints one JSON
object: ok, errors (and warmup_errors, error_samples), rps, latency_ms, ttfb_ms and (stream)
ttfc_ms percentiles, client CPU seconds. An answer counts as ok only when it is complete: a
2xx JSON answer with text, or a stream that reached its end event. Exits 1 on any error.

Run: `python bench/loadgen.py --url http://127.0.0.1:9100 --protocol anthropic [--stream]
[-n 300] [-c 1] [--warmup 20]` (or `python -m bench.loadgen ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

SOURCE = "def f(x):\n    return x * 2\n\n" * 540


def coding_agent_body(protocol: str, model: str, max_tokens: int, stream: bool) -> dict[str, Any]:
    """The request every client sends (about 21 KB as JSON)."""
    system = ("You are a coding agent working in a repository. Read files before editing; "
              "keep changes small. ") * 20
    tools = [{"name": name, "description": f"{name} a file in the workspace. " * 8,
              "input_schema": {"type": "object", "properties": {
                  "file_path": {"type": "string"}}, "required": ["file_path"]}}
             for name in ("Read", "Write", "Edit", "Glob", "Grep", "Bash")]
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "Please look at calc.py and double every result."},
        {"role": "assistant", "content": "I will read calc.py first."},
        {"role": "user", "content": f"Contents of calc.py:\n{SOURCE}"}]
    if protocol == "anthropic":
        return {"model": model, "max_tokens": max_tokens, "stream": stream, "system": system,
                "tools": tools, "messages": history}
    body: dict[str, Any] = {
        "model": model, "max_tokens": max_tokens, "stream": stream,
        "messages": [{"role": "system", "content": system}, *history],
        "tools": [{"type": "function", "function": {
            "name": t["name"], "description": t["description"],
            "parameters": t["input_schema"]}} for t in tools]}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


@dataclass
class Results:
    """What the counted requests measured."""

    latency: list[float] = field(default_factory=list)
    ttfb: list[float] = field(default_factory=list)
    ttfc: list[float] = field(default_factory=list)
    errors: int = 0
    warmup_errors: int = 0
    samples: list[str] = field(default_factory=list)


def _complete_json(protocol: str, data: Any) -> bool:
    if protocol == "anthropic":
        return any(b.get("type") == "text" and b.get("text") for b in data.get("content", []))
    return bool(data["choices"][0]["message"].get("content"))


def _has_content(protocol: str, frame: bytes) -> bool:
    """Whether an SSE frame carries answer text (the first content's time is measured)."""
    if protocol == "anthropic":
        return b"text_delta" in frame
    for line in frame.split(b"\n"):
        if line.startswith(b"data:") and line[5:].strip() not in (b"", b"[DONE]"):
            choices = json.loads(line[5:]).get("choices") or [{}]
            return bool((choices[0].get("delta") or {}).get("content"))
    return False


async def one(http: aiohttp.ClientSession, url: str, protocol: str, payload: bytes,
              headers: dict[str, str], stream: bool) -> tuple[float, float, float | None]:
    """One request: (latency, time to headers, time to first content) in ms; raises
    ValueError for an incomplete or failed answer."""
    began = time.perf_counter()
    async with http.post(url, data=payload, headers=headers) as resp:
        ttfb = (time.perf_counter() - began) * 1000
        if resp.status >= 300:
            raise ValueError(f"HTTP {resp.status}: {(await resp.text())[:200]}")
        if not stream:
            if not _complete_json(protocol, json.loads(await resp.read())):
                raise ValueError("a 2xx answer without text")
            return (time.perf_counter() - began) * 1000, ttfb, None
        first: float | None = None
        ended = False
        buffer = b""
        async for chunk in resp.content.iter_any():
            buffer += chunk
            *frames, buffer = buffer.split(b"\n\n")
            for frame in frames:
                if b"event: error" in frame or b'"error"' in frame[:40]:
                    raise ValueError(f"error event: {frame[:200]!r}")
                if b"message_stop" in frame or frame.strip() == b"data: [DONE]":
                    ended = True
                elif first is None and _has_content(protocol, frame):
                    first = (time.perf_counter() - began) * 1000
        if not ended:
            raise ValueError("stream ended without its end event")
        return (time.perf_counter() - began) * 1000, ttfb, first


async def run(args: argparse.Namespace) -> tuple[Results, float]:
    """Warm up, then send the counted requests; (results, seconds the counted part took)."""
    path = "/v1/messages" if args.protocol == "anthropic" else "/v1/chat/completions"
    url = args.url.rstrip("/") + path
    payload = json.dumps(coding_agent_body(args.protocol, args.model, args.max_tokens,
                                           args.stream)).encode()
    headers = {"content-type": "application/json"}
    if args.protocol == "anthropic":
        headers |= {"x-api-key": args.api_key, "anthropic-version": "2023-06-01"}
    else:
        headers["authorization"] = f"Bearer {args.api_key}"
    results = Results()
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        async def worker(queue: list[bool]) -> None:
            while queue:
                counted = queue.pop()
                try:
                    latency, ttfb, ttfc = await one(http, url, args.protocol, payload,
                                                    headers, args.stream)
                except (ValueError, KeyError, IndexError, TypeError, aiohttp.ClientError,
                        TimeoutError) as exc:
                    if counted:
                        results.errors += 1
                    else:
                        results.warmup_errors += 1
                    if len(results.samples) < 5:
                        results.samples.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                if counted:
                    results.latency.append(latency)
                    results.ttfb.append(ttfb)
                    if ttfc is not None:
                        results.ttfc.append(ttfc)

        warm = [False] * args.warmup
        await asyncio.gather(*(worker(warm) for _ in range(args.concurrency)))
        counted = [True] * args.requests
        began = time.perf_counter()
        await asyncio.gather(*(worker(counted) for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - began
    return results, elapsed


def percentiles(values: list[float]) -> dict[str, float] | None:
    """p50, p90, p99 and mean in ms, or None without values."""
    if not values:
        return None
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": round(statistics.median(ordered), 3), "p90": at(0.9), "p99": at(0.99),
            "mean": round(statistics.fmean(ordered), 3)}


def main() -> int:
    """Run and print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL, without /v1")
    parser.add_argument("--protocol", choices=["anthropic", "openai"], required=True)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("-n", "--requests", type=int, default=300)
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--max-tokens", type=int, default=1024)
    parser.add_argument("--api-key", default="sk-bench")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    cpu = time.process_time()
    results, elapsed = asyncio.run(run(args))
    ok = len(results.latency)
    report = {"label": args.label, "protocol": args.protocol, "stream": args.stream,
              "concurrency": args.concurrency, "requests": args.requests, "ok": ok,
              "errors": results.errors, "warmup_errors": results.warmup_errors,
              "error_samples": results.samples,
              "rps": round(ok / elapsed, 2) if elapsed > 0 else 0.0,
              "latency_ms": percentiles(results.latency), "ttfb_ms": percentiles(results.ttfb),
              "ttfc_ms": percentiles(results.ttfc) if args.stream else None,
              "client_cpu_s": round(time.process_time() - cpu, 3)}
    sys.stdout.write(json.dumps(report) + "\n")
    return 1 if results.errors or results.warmup_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
