"""(Re)build the real-request corpus from the scenario definitions.

    .venv/bin/python scripts/capture/run_all.py                 # scenarios not captured yet
    .venv/bin/python scripts/capture/run_all.py --only NAME...  # (re)capture these
    .venv/bin/python scripts/capture/run_all.py --all           # recapture everything
    .venv/bin/python scripts/capture/run_all.py --list          # scenarios and their state
    .venv/bin/python scripts/capture/run_all.py --relabel       # apply relabels.yaml

Each scenario runs in a fresh copy of its repo with a fresh HOME against the scripted server;
its captures replace that scenario's lines in fusion_tui/routing/data/real/captures.jsonl.xz
(other scenarios are kept), so the corpus grows one scenario at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import lzma
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml
from aiohttp import web
from drivers import DRIVERS, cleanup
from repos import create
from server import ScriptedServer

from fusion_tui.routing.corpus import REAL_CAPTURES, open_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = REAL_CAPTURES
RELABELS = HERE / "relabels.yaml"
PROTOCOL = {"claude-code": "anthropic", "codex": "responses", "opencode": "openai"}


def expand(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """A scenario as is, or a `batch` of one-step asks sharing a repo and client:
    each ask is [tier, lang, text, actions, answer] (actions: a list run in one reply, or a
    list of lists run one reply after another) with an optional 6th item, the split."""
    if "batch" not in entry:
        return [entry]
    out = []
    for n, item in enumerate(entry["asks"]):
        tier, lang, text, actions, answer = item[:5]
        rounds = actions if actions and isinstance(actions[0], list) else (
            [actions] if actions else [])
        replies = [{"say": "", "do": r} for r in rounds] + [{"say": answer}]
        sc = {k: v for k, v in entry.items() if k not in ("batch", "asks")}
        sc.update({"name": f"{entry['batch']}-{n:02d}", "lang": lang,
                   "split": item[5] if len(item) > 5 else entry.get("split", "train"),
                   "steps": [{"ask": text, "tier": tier, "replies": replies}]})
        out.append(sc)
    return out


def load_scenarios() -> list[dict[str, Any]]:
    """Every scenario in scenarios/*.yaml (each file: a list of scenarios)."""
    out: list[dict[str, Any]] = []
    for path in sorted((HERE / "scenarios").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text()) or []:
            for sc in expand(entry):
                sc.setdefault("client", "claude-code")
                sc.setdefault("mode", "print" if sc["client"] == "claude-code"
                              else sc["client"])
                sc["file"] = path.name
                out.append(sc)
    names = [s["name"] for s in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f"duplicate scenario names: {sorted(dupes)}")
    return out


def read_corpus() -> list[dict[str, Any]]:
    if not CORPUS.exists():
        return []
    with open_text(CORPUS) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_corpus(records: list[dict[str, Any]]) -> None:
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    records.sort(key=lambda r: (r["scenario"], r["id"]))
    # xz keeps no timestamp: identical content gives an identical file. Its window finds the
    # system prompt and tools that every request repeats (95 MB of JSON -> 0.3 MB).
    tmp = CORPUS.with_suffix(".tmp")
    with lzma.open(tmp, "wb", preset=9 | lzma.PRESET_EXTREME) as xz:
        for rec in records:
            xz.write((json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n").encode())
    tmp.replace(CORPUS)  # atomic: an interrupted run never leaves a truncated corpus


async def capture(sc: dict[str, Any], slot: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Run one scenario; its records and any problems."""
    server = ScriptedServer()
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix=f"w{slot}-", dir="/tmp"))
    log: list[str] = []
    try:
        cwd = create(sc["repo"], work)
        home = work / "home"
        home.mkdir()
        await DRIVERS[sc["mode"]](server, sc, cwd, home, base, log)
    finally:
        await runner.cleanup()
        cleanup(work)
    log += [f"{sc['name']}: unlabelled side request: {u}" for u in server.unknown]
    records = []
    for seq, cap in enumerate(server.captures):
        digest = hashlib.sha256(json.dumps(cap.body, sort_keys=True).encode()).hexdigest()[:10]
        records.append({"id": f"{cap.scenario}/{seq:03d}-{digest}",
                        "client": cap.client, "protocol": cap.protocol,
                        "scenario": cap.scenario, "turn": cap.turn, "kind": cap.kind,
                        "tier": cap.tier, "split": sc["split"], "lang": cap.lang,
                        "body": cap.body})
    return records, log


def load_relabels() -> dict[tuple[str, int, str], dict[str, Any]]:
    """The label review's decisions, by (scenario, turn, kind)."""
    entries = yaml.safe_load(RELABELS.read_text(encoding="utf-8")) or []
    return {(e["scenario"], int(e["turn"]), e["kind"]): e for e in entries}


def apply_relabels(records: list[dict[str, Any]]) -> int:
    """Set the reviewed tier on the records of a relabelled step; how many changed. A record
    whose tier is neither the entry's `from` nor its `to` is an error (the scenario changed
    since the review: review it again)."""
    relabels, changed = load_relabels(), 0
    for rec in records:
        entry = relabels.get((rec["scenario"], rec["turn"], rec["kind"]))
        if entry is None or rec["tier"] == entry["to"]:
            continue
        if rec["tier"] != entry["from"]:
            raise SystemExit(f"relabels.yaml: {rec['id']} is {rec['tier']}, the review "
                             f"expected {entry['from']}: review that step again")
        rec["tier"] = entry["to"]
        changed += 1
    return changed


async def main_async(args: argparse.Namespace) -> int:
    scenarios = load_scenarios()
    names = {s["name"] for s in scenarios}
    corpus = [r for r in read_corpus() if r["scenario"] in names]  # drop removed scenarios
    split_of = {s["name"]: s["split"] for s in scenarios}
    for rec in corpus:  # the split is the scenario's, as defined now
        rec["split"] = split_of[rec["scenario"]]
    have = {r["scenario"] for r in corpus}
    if args.relabel:
        print(f"relabelled {apply_relabels(corpus)} requests")
        write_corpus(corpus)
        return 0
    if args.list:
        for sc in scenarios:
            n = sum(1 for r in corpus if r["scenario"] == sc["name"])
            print(f"{sc['name']:40} {sc['client']:12} {sc['mode']:12} {sc['split']:8} {n}")
        return 0
    if args.only:
        todo = [s for s in scenarios if s["name"] in set(args.only)]
    elif args.all:
        todo = scenarios
    else:
        todo = [s for s in scenarios if s["name"] not in have]
    if args.client:
        todo = [s for s in todo if s["client"] == args.client]
    problems: list[str] = []
    queue = list(todo)

    async def worker(slot: int) -> None:
        nonlocal corpus
        while queue:
            sc = queue.pop(0)
            started = time.monotonic()
            records, log = await capture(sc, slot)
            apply_relabels(records)
            problems.extend(log)
            corpus = [r for r in corpus if r["scenario"] != sc["name"]] + records
            write_corpus(corpus)
            print(f"{sc['name']}: {len(records)} requests in "
                  f"{time.monotonic() - started:.0f}s" + (f" ({len(log)} problems)" if log
                                                          else ""), flush=True)
            for line in log:
                print("   ", line[:600], flush=True)

    await asyncio.gather(*(worker(i) for i in range(args.jobs)))
    print(f"corpus: {len(corpus)} requests, {CORPUS.stat().st_size if CORPUS.exists() else 0}"
          " bytes")
    return 1 if problems and args.strict else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="scenario names to (re)capture")
    parser.add_argument("--all", action="store_true", help="recapture every scenario")
    parser.add_argument("--client", help="only scenarios of this client")
    parser.add_argument("--list", action="store_true", help="list scenarios and counts")
    parser.add_argument("--jobs", type=int, default=1, help="scenarios run at once (<= 2)")
    parser.add_argument("--relabel", action="store_true",
                        help="apply relabels.yaml to the corpus and write it")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any problem")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
