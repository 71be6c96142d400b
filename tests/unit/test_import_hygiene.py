"""The core never imports Textual: `serve` must run headless with the same code path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fusion_tui"


def test_no_module_outside_tui_imports_textual() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "tui":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "textual"]
    assert offenders == []


def test_serve_path_does_not_load_textual() -> None:
    code = ("import sys, fusion_tui.cli, fusion_tui.core, fusion_tui.server, fusion_tui.events,"
            " fusion_tui.sessions, fusion_tui.routing, fusion_tui.upstreams;"
            " from fusion_tui.runtime import Runtime;"
            " from fusion_tui.config import load_settings;"
            " Runtime(load_settings('config.yaml', sessions={'dir': sys.argv[1]}));"
            " print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    out = subprocess.run([sys.executable, "-c", code, str(PACKAGE.parent / ".pytest_cache" / "s")],
                         capture_output=True, text=True, check=True, cwd=PACKAGE.parent).stdout
    assert out.strip() == "[]"
