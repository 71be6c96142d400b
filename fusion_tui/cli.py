"""Command-line entry points: run (proxy + dashboard), serve (headless), check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import yaml

from fusion_tui import __version__, cli_init, cli_model, cli_remote, cli_routing
from fusion_tui.config import ConfigError, Settings, load_settings, paths, resolve_config_path
from fusion_tui.config.loader import config_search_note
from fusion_tui.evals import cli as evals_cli
from fusion_tui.events import Event, RequestCancelled, ResponseFinished
from fusion_tui.upstreams.redact import is_secret_header

if TYPE_CHECKING:
    from fusion_tui.sessions.replay import Recording

EXIT_CONFIG = 2

BUNDLED_CONFIG = Path(__file__).resolve().parent / "config" / "bundled.yaml"
"""The repository's config.yaml, shipped as package data: `demo` and `run` use it when no
config file is found (simulated models only, no API keys needed)."""


def config_file(args: argparse.Namespace,
                *, bundled: bool = False) -> tuple[Path | None, str | None]:
    """The config file in use: --config, else $FUSION_CONFIG, else ./config.yaml; with none
    of them and `bundled`, BUNDLED_CONFIG and a notice that says so (else None)."""
    path = resolve_config_path(args.config)
    if path is None and bundled:
        return BUNDLED_CONFIG, (f"no config file (--config, $FUSION_CONFIG or ./config.yaml): "
                                f"running the bundled {BUNDLED_CONFIG} (simulated models)")
    return path, None


def _load(args: argparse.Namespace, path: Path | None = None) -> Settings:
    try:
        settings = load_settings(path or args.config)
    except ConfigError as exc:
        if resolve_config_path(path or args.config) is None:
            print(f"fusion-tui: {config_search_note()}", file=sys.stderr)
            print(f"fusion-tui: defaults and environment alone are not a usable config: {exc}",
                  file=sys.stderr)
        else:
            print(f"fusion-tui: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from exc
    if getattr(args, "allow_remote_without_auth", False):
        server = settings.server.model_copy(update={"allow_remote_without_auth": True})
        settings = settings.model_copy(update={"server": server})
    return settings


def masked_config(settings: Settings) -> dict[str, object]:
    """The resolved settings as plain data; secrets shown only as set/missing."""
    data = settings.model_dump(mode="json")
    for upstream, model in zip(data["upstreams"], settings.upstreams, strict=True):
        if model.api_key_env:
            upstream["api_key_env"] = (
                f"{model.api_key_env} ({'set' if model.api_key() else 'missing'})")
        upstream["headers"] = {name: "(hidden)" if is_secret_header(name) else value
                               for name, value in model.headers.items()}
    auth = settings.server.auth_key_env
    if auth:
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
    from fusion_tui.control_token import default_token_path
    from fusion_tui.runtime import Runtime
    from fusion_tui.server.auth import ExposureError

    runtime = Runtime(settings, token_file=default_token_path())
    runtime.bus.listen(_request_log_line)
    try:
        address = await runtime.start()
    except (ExposureError, OSError) as exc:
        await runtime.stop()
        print(f"fusion-tui: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG if isinstance(exc, ExposureError) else 1) from exc
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


def log_file() -> Path:
    """Where `run` writes its log (the dashboard owns the terminal)."""
    return paths.state_dir() / "fusion-tui.log"


def _log_to(handler: logging.Handler) -> None:
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the proxy headless; one JSON line per request on stderr."""
    settings = _load(args)
    _log_to(logging.StreamHandler(sys.stderr))
    try:
        import uvloop
    except ImportError:  # Windows: the standard loop
        asyncio.run(_serve(settings))
    else:
        uvloop.run(_serve(settings))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the proxy with the dashboard in the same event loop."""
    source, notice = config_file(args, bundled=True)
    settings = _load(args, source)
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    _log_to(logging.FileHandler(path, encoding="utf-8"))
    if notice:
        logging.getLogger(__name__).warning("%s", notice)
    from fusion_tui.tui.app import run_dashboard

    return run_dashboard(settings, config_file=source, notices=[notice] if notice else [])


def cmd_demo(args: argparse.Namespace) -> int:
    """A scripted agent session through the real proxy: in the dashboard, or --headless."""
    source, notice = config_file(args, bundled=True)
    settings = _load(args, source)
    if args.pause is None:
        args.pause = 0.0 if args.headless else 4.0
    if args.headless:
        from fusion_tui.demo import run_headless

        _log_to(logging.StreamHandler(sys.stderr))
        logging.getLogger().setLevel(logging.WARNING)
        print(f"fusion-tui: config {source or '(defaults and environment)'}"
              f"{' (bundled)' if notice else ''}", file=sys.stderr)
        results = asyncio.run(run_headless(settings, pause_s=args.pause))
        return 0 if results and all(r.ok for r in results) else 1
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    _log_to(logging.FileHandler(path, encoding="utf-8"))
    if notice:
        logging.getLogger(__name__).info("%s", notice)
    from fusion_tui.tui.app import run_demo

    return run_demo(settings, pause_s=args.pause, config_file=source)


def _sessions_folder(args: argparse.Namespace) -> Path:
    return _load(args).sessions.path


def cmd_sessions(args: argparse.Namespace) -> int:
    """List recorded sessions, newest first."""
    from fusion_tui.sessions.store import list_sessions

    summaries = list_sessions(_sessions_folder(args))
    if args.json:
        print(json.dumps([s.as_dict() for s in summaries], indent=2))
        return 0
    if not summaries:
        print("no recorded sessions")
        return 0
    print(f"{'started (UTC)':<20} {'session':<38} {'client':<22} {'duration':>9} "
          f"{'turns':>5} {'councils':>8} {'cost $':>8} {'saved $':>8} {'cache':>6}  tiers")
    for s in summaries:
        started = datetime.fromtimestamp(s.started, UTC).strftime("%Y-%m-%d %H:%M:%S")
        saved = f"{s.saved_usd:>8.4f}" if s.saved_usd is not None else f"{'-':>8}"
        cache = (f"{s.cache_hit_rate:>6.0%}" if s.cache_hit_rate is not None
                 else f"{'-':>6}")
        tiers = (",".join(f"{t}:{share:.0%}" for t, share in s.tier_shares.items())
                 or ",".join(s.tiers) or "-")
        print(f"{started:<20} {s.session_id[:38]:<38} {s.client[:22]:<22} "
              f"{f'{s.duration_s:,.0f}s':>9} {s.turns:>5} {s.councils:>8} {s.cost_usd:>8.4f} "
              f"{saved} {cache}  {tiers}")
    return 0


def _open_recording(args: argparse.Namespace) -> Recording:
    from fusion_tui.sessions.replay import RecordingError, read_recording
    from fusion_tui.sessions.store import find_recording

    try:
        return read_recording(find_recording(_sessions_folder(args), args.session))
    except RecordingError as exc:
        print(f"fusion-tui: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a session into the dashboard, or print its events (--json)."""
    recording = _open_recording(args)
    if args.json:
        from fusion_tui.events.codec import encode_line

        for event in recording.events:
            print(encode_line(event))
        for note in recording.skipped:
            print(f"fusion-tui: skipped {note}", file=sys.stderr)
        return 0
    from fusion_tui.tui.app import run_replay

    return run_replay(recording, speed=args.speed, config_file=config_file(args)[0])


def cmd_export(args: argparse.Namespace) -> int:
    """Write a readable transcript of a session."""
    from fusion_tui.sessions.export import export_markdown

    text = export_markdown(_open_recording(args))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(prog="fusion-tui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"fusion-tui {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE",
                        help="config file (default: $FUSION_CONFIG, ./config.yaml, else the "
                             "user's config that `fusion-tui init` writes; run and demo fall "
                             "back to the bundled one)")
    sub = parser.add_subparsers(dest="command")
    listening = argparse.ArgumentParser(add_help=False)
    listening.add_argument("--allow-remote-without-auth", action="store_true",
                           help="listen beyond loopback even with client auth off")
    sub.add_parser("run", parents=[common, listening],
                   help="proxy + dashboard (the default)").set_defaults(func=cmd_run)
    sub.add_parser("serve", parents=[common, listening],
                   help="proxy only, headless").set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo", parents=[common, listening],
                          help="the dashboard with a scripted agent session (no agent needed)")
    demo.add_argument("--headless", action="store_true",
                      help="no dashboard: run the session against a headless proxy and print "
                           "what happened (exit 1 if a step failed)")
    demo.add_argument("--pause", type=float, default=None,
                      help="seconds between steps (default 4 with the dashboard, 0 headless)")
    demo.set_defaults(func=cmd_demo)
    cli_init.register(sub)
    sub.add_parser("check", parents=[common],
                   help="validate the config and print it resolved").set_defaults(func=cmd_check)
    listing = sub.add_parser("sessions", parents=[common], help="list recorded sessions")
    listing.add_argument("--json", action="store_true", help="machine-readable list")
    listing.set_defaults(func=cmd_sessions)
    replay = sub.add_parser("replay", parents=[common], help="replay a recorded session")
    replay.add_argument("session", help="session id (or unique prefix) or path to a .jsonl")
    replay.add_argument("--speed", type=float, default=1.0, help="time scale (0: no waits)")
    replay.add_argument("--json", action="store_true", help="print the events, one a line")
    replay.set_defaults(func=cmd_replay)
    export = sub.add_parser("export", parents=[common], help="a session as a transcript")
    export.add_argument("session", help="session id (or unique prefix) or path to a .jsonl")
    export.add_argument("--format", choices=["md"], default="md")
    export.add_argument("-o", "--output", help="write to this file instead of stdout")
    export.set_defaults(func=cmd_export)
    model = sub.add_parser("model", help="the embedding model")
    model_sub = model.add_subparsers(dest="model_command", required=True)
    pull = model_sub.add_parser("pull", parents=[common],
                                help="download the embedding model (with a progress bar)")
    pull.add_argument("model", nargs="?", help="hub id or local folder (default: the config's)")
    pull.add_argument("--file", help="ONNX file in the repo (default: the config's)")
    pull.set_defaults(func=lambda a: cli_routing.model_pull(_load(a), a.model, a.file))
    cli_model.register(model_sub)
    evaluate = sub.add_parser("eval", help="evaluate a component")
    eval_sub = evaluate.add_subparsers(dest="eval_command", required=True)
    routing = eval_sub.add_parser("routing", parents=[common],
                                  help="gate accuracy and confusion matrix on a labelled file")
    cli_routing.add_eval_routing_args(routing, _load)
    evals_cli.add_parser(eval_sub, common)
    explain = sub.add_parser("explain", parents=[common],
                             help="how a request would be routed (no upstream is called)")
    explain.add_argument("file", type=Path, help="a request body (Anthropic or OpenAI JSON)")
    explain.add_argument("--protocol", choices=["anthropic", "openai"],
                         help="the body's protocol (default: told by its shape)")
    explain.set_defaults(func=lambda a: cli_routing.explain(_load(a), a.file, a.protocol))
    cli_routing.register(sub, common, _load)
    auth = sub.add_parser("auth", help="sign in to upstreams that need it")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    codex = auth_sub.add_parser(
        "codex", help="sign in with ChatGPT in a browser and store the tokens in "
                      "$CODEX_HOME/auth.json (the Codex CLI's file and format)")
    codex.add_argument("--codex-home", help="folder for auth.json (default $CODEX_HOME, "
                                            "else ~/.codex)")
    codex.add_argument("--port", type=int, default=None,
                       help="loopback port of the redirect server (default 1455, the one the "
                            "Codex CLI's OAuth client is registered with)")
    codex.add_argument("--issuer", default=None,
                       help="OAuth issuer (default https://auth.openai.com)")
    codex.set_defaults(func=cmd_auth_codex)
    for agent in ("claude", "codex"):  # parsed by fusion_tui.launch (see main)
        sub.add_parser(agent, add_help=False,
                       help=f"start {agent} pointed at the proxy (arguments pass through; "
                            f"--launcher-help)")
    cli_remote.register(sub)
    parser.set_defaults(func=cmd_run, config=None, allow_remote_without_auth=False)
    return parser


def cmd_auth_codex(args: argparse.Namespace) -> int:
    """Browser sign-in (PKCE, a redirect server on 127.0.0.1) for the codex upstream."""
    from fusion_tui.upstreams import codex_auth

    def announce(url: str) -> None:
        print("Open this URL in a browser on this machine to sign in with ChatGPT:\n")
        print(f"  {url}\n", flush=True)
        print("Waiting for the browser to come back (Ctrl-C to give up)...", flush=True)

    try:
        path = asyncio.run(codex_auth.login(
            args.codex_home, issuer=args.issuer or codex_auth.ISSUER,
            port=codex_auth.LOGIN_PORT if args.port is None else args.port,
            announce=announce))
    except (codex_auth.CodexAuthError, OSError, TimeoutError) as exc:
        print(f"fusion-tui: sign-in failed: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"Signed in; tokens stored in {path} (the Codex CLI reads the same file).")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fusion-tui` command."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:2] == ["claude", "install-commands"]:
        return cli_remote.cmd_install_commands(words[2:])
    if words and words[0] in ("claude", "codex"):  # their arguments go to the agent
        from fusion_tui import launch

        return launch.main(launch.Agent(words[0]), words[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
