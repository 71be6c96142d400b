"""`fusion-tui init`: write a commented starter config into the user's config folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fusion_tui.config import paths

STARTER_CONFIG = Path(__file__).resolve().parent / "config" / "starter.yaml"
"""The starter config: simulated models ready, real upstreams commented out with their keys."""


def write_starter(target: Path, *, force: bool = False) -> Path:
    """Write the starter config to `target` (folders made as needed). Raises FileExistsError
    when the file exists and `force` is false: a user's config is never overwritten quietly."""
    if target.exists() and not force:
        raise FileExistsError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def cmd_init(args: argparse.Namespace) -> int:
    """Write the starter config and say where, and what to do next."""
    target = Path(args.path).expanduser() if args.path else paths.user_config_file()
    try:
        write_starter(target, force=args.force)
    except FileExistsError:
        print(f"fusion-tui: {target} exists; left as it is (--force replaces it)",
              file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"fusion-tui: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {target}")
    if args.path is None:
        print("every command reads it when no --config, $FUSION_CONFIG or ./config.yaml is "
              "given; `fusion-tui check` shows it resolved, `fusion-tui` starts the dashboard")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `init` subcommand to the CLI's subparsers."""
    init = sub.add_parser("init", help="write a commented starter config into the user's "
                                       f"config folder ({paths.user_config_file()})")
    init.add_argument("--path", help="write here instead of the user's config folder")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(func=cmd_init)
