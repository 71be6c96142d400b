"""Layers point one way: every package imports only from the layers below it, peers in one
layer do not import each other, and no two packages import each other in a loop.

Every import counts: top-level, inside functions and under `if TYPE_CHECKING`. The layer
order is the one docs/architecture.md draws; a new package must be placed here.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fusion_tui"

LAYERS: list[set[str]] = [
    {"events", "config", "protocols", "control_token"},
    {"upstreams"},
    {"routing", "council"},
    {"core", "sessions"},
    {"server"},
    {"runtime"},
    {"demo", "remote"},
    {"tui", "cli_routing", "cli_init", "cli_model", "launch", "evals"},
    {"cli_remote"},
    {"cli"},
]
"""Bottom up. `runtime` (start-up wiring: the app, the runner, the recorder) sits above the
server and below the dashboard, which hosts the proxy on its own event loop; `demo` (a
scripted client against a running proxy) is what the dashboard's demo mode plays; `remote`
(the HTTP client of a running proxy: its event stream, its steering acts) is what `attach`,
`statusline` and `steer` use; `cli_remote` holds those commands."""

RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}
ROOT = {"__init__"}
"""Modules that every layer may use (the package's version string)."""


def _unit(module: str) -> str:
    """The layer unit a dotted module name belongs to (`fusion_tui.core.engine` -> `core`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def import_edges() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) -> the files where that import is written."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = _unit(".".join(module)) if len(module) > 1 else "__init__"
        if path.name != "__init__.py" and len(module) == 2:
            source = module[1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module if path.name == "__init__.py" else module[:-1]
                    base = base[: len(base) - node.level + 1]
                    targets = [".".join([*base, *([node.module] if node.module else [])])]
                else:
                    targets = [node.module or ""]
                if targets[0] == "fusion_tui":  # from fusion_tui import cli_routing, ...
                    targets = [f"fusion_tui.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] != "fusion_tui":
                    continue
                unit = _unit(target)
                if not (PACKAGE / unit).is_dir() and not (PACKAGE / f"{unit}.py").is_file():
                    unit = "__init__"  # a name defined in fusion_tui/__init__.py
                if unit != source:
                    edges[(source, unit)].append(str(path.relative_to(PACKAGE.parent)))
    return edges


def test_every_package_has_a_layer() -> None:
    units = {_unit(".".join(_module_name(p))) if len(_module_name(p)) > 1 else "__init__"
             for p in PACKAGE.rglob("*.py")}
    units |= {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert sorted(units - set(RANK) - ROOT) == []


def test_no_package_imports_a_layer_above_it_or_a_peer() -> None:
    upward = [f"{files[0]}: {src} -> {dst}"
              for (src, dst), files in import_edges().items()
              if dst not in ROOT and RANK[dst] >= RANK[src]]
    assert upward == []


def test_the_server_does_not_import_the_council() -> None:
    assert import_edges().get(("server", "council"), []) == []


def test_no_loops_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in import_edges():
        graph[src].add(dst)
    loops = [(a, b) for a in graph for b in graph[a] if a in graph.get(b, set())]
    assert loops == []
