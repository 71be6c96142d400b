"""The refactor happened: one format_row, used by both renderers, no copied f-string left."""
import ast
import sys
from pathlib import Path

import report

tree = ast.parse(Path("report.py").read_text())
functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
problems = []
if "format_row" not in functions:
    problems.append("no top-level format_row function")
else:
    if report.format_row("  kiwi ", 2) != "kiwi              2.00":
        problems.append(f"format_row gives {report.format_row('  kiwi ', 2)!r}")
for caller in ("render_text", "render_summary"):
    node = functions.get(caller)
    calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)
             and isinstance(c.func, ast.Name) and c.func.id == "format_row"] if node else []
    if not calls:
        problems.append(f"{caller} does not call format_row")
source = Path("report.py").read_text()
if source.count(">10.2f") > 1:
    problems.append("the row format string still appears more than once")
if problems:
    sys.stdout.write("refactor check failed: " + "; ".join(problems) + "\n")
    sys.exit(1)
sys.stdout.write("refactor check passed\n")
