"""Command-line entry points: run (proxy + dashboard), serve (headless), check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

import orjson
import yaml

from fusion_tui import __version__
from fusion_tui.config import ConfigError, Settings, load_settings, resolve_config_path
from fusion_tui.events import Event, RequestCancelled, ResponseFinished

EXIT_CONFIG = 2


def _load(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        print(f"fusion-tui: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from exc


def masked_config(settings: Settings) -> dict[str, object]:
    """The resolved settings as plain data; secrets shown only as set/missing."""
    data = settings.model_dump(mode="json")
    for upstream, model in zip(data["upstreams"], settings.upstreams, strict=True):
        if model.api_key_env:
            upstream["api_key_env"] = (
                f"{model.api_key_env} ({'set' if model.api_key() else 'missing'})")
    auth = settings.server.auth_key_env
    if auth:
        import os
        data["server"]["auth_key_env"] = f"{auth} ({'set' if os.environ.get(auth) else 'missing'})"
    return data


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config and print it resolved, secrets masked."""
    settings = _load(args)
    source = resolve_config_path(args.config)
    print(f"# {source or '(no config file: defaults and environment)'}: valid")
    print(yaml.safe_dump(masked_config(settings), sort_keys=False), end="")
    return 0


def _request_log_line(event: Event) -> None:
    if isinstance(event, ResponseFinished):
        line = {"ts": round(event.ts, 3), "session": event.session_id,
                "request": event.request_id, "status": event.status,
                "served_by": event.upstream_id, "route": event.route,
                "latency_ms": round(event.latency_ms, 1), "input_tokens": event.input_tokens,
                "output_tokens": event.output_tokens, "stop_reason": event.stop_reason,
                "error": event.error}
    elif isinstance(event, RequestCancelled):
        line = {"ts": round(event.ts, 3), "session": event.session_id,
                "request": event.request_id, "cancelled": event.reason}
    else:
        return
    sys.stderr.write(orjson.dumps(line).decode() + "\n")
    sys.stderr.flush()


async def _serve(settings: Settings) -> None:
    from fusion_tui.core import Runtime

    runtime = Runtime(settings)
    runtime.bus.listen(_request_log_line)
    address = await runtime.start()
    sys.stderr.write(orjson.dumps({"listening": address, "version": __version__,
                                   "sessions": str(settings.sessions.path)}).decode() + "\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runtime.stop()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the proxy headless; one JSON line per request on stderr."""
    asyncio.run(_serve(_load(args)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the proxy with the dashboard in the same event loop."""
    settings = _load(args)
    from fusion_tui.tui.app import run_dashboard

    return run_dashboard(settings)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(prog="fusion-tui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"fusion-tui {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE",
                        help="config file (default: $FUSION_CONFIG or ./config.yaml)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", parents=[common], help="proxy + dashboard (the default)").set_defaults(
        func=cmd_run)
    sub.add_parser("serve", parents=[common], help="proxy only, headless").set_defaults(
        func=cmd_serve)
    sub.add_parser("check", parents=[common],
                   help="validate the config and print it resolved").set_defaults(func=cmd_check)
    parser.set_defaults(func=cmd_run, config=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fusion-tui` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
