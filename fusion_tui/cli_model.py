"""`fusion-tui model export SRC`: turn a Hugging Face embedding model into the 8-bit ONNX
folder the gate loads, and print how closely it matches the source."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from fusion_tui.config import paths

DEFAULT_MIN_COSINE = 0.99


def default_dest(source: str) -> Path:
    """models/<name>-int8 in the user's data folder, the name taken from the source."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(source.rstrip("/\\")).name or source)
    return paths.data_dir() / "models" / f"{name}-int8"


def cmd_export(args: argparse.Namespace) -> int:
    """Export, print the parity table, and the config lines that use the result."""
    from fusion_tui.routing.export import ExportError, export_model

    dest = Path(args.output).expanduser() if args.output else default_dest(args.source)
    print(f"exporting {args.source} to {dest} ...", file=sys.stderr, flush=True)
    try:
        result = export_model(args.source, dest, quantize=not args.no_quantize,
                              force=args.force)
    except ExportError as exc:
        print(f"fusion-tui: {exc}", file=sys.stderr)
        return 1
    print(f"{'cosine':>8}  sentence (exported vs source vectors)")
    for cosine, sentence in zip(result.cosines, result.sentences, strict=True):
        shown = sentence.replace("\n", " ")
        print(f"{cosine:8.4f}  {shown[:70]}")
    print(f"{result.min_cosine:8.4f}  minimum (required: {args.min_cosine})")
    if result.min_cosine < args.min_cosine:
        print(f"fusion-tui: the export does not match its source (minimum cosine "
              f"{result.min_cosine:.4f} < {args.min_cosine}); the folder is kept for "
              f"inspection at {dest}, but do not route on it", file=sys.stderr)
        return 1
    print(f"\nready: {result.folder / result.file}\nuse it in the config:\n"
          f"  routing:\n    embeddings:\n      model: {result.folder}\n"
          f"      file: {result.file}")
    return 0


def register(model_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `export` under the CLI's `model` command."""
    export = model_sub.add_parser(
        "export", help="a Hugging Face embedding model -> the 8-bit ONNX folder the gate "
                       "loads (needs the export extra)")
    export.add_argument("source", help="hub id, or a local folder with weights (safetensors "
                                       "or pytorch_model.bin), config.json and a tokenizer")
    export.add_argument("-o", "--output",
                        help=f"destination folder (default: {paths.data_dir() / 'models'}"
                             f"/NAME-int8)")
    export.add_argument("--no-quantize", action="store_true",
                        help="keep float32 weights (onnx/model.onnx)")
    export.add_argument("--force", action="store_true",
                        help="write into a destination that is not empty")
    export.add_argument("--min-cosine", type=float, default=DEFAULT_MIN_COSINE,
                        help="lowest acceptable cosine of a sentence's vectors "
                             f"(default {DEFAULT_MIN_COSINE})")
    export.set_defaults(func=cmd_export)
