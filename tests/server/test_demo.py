"""`fusion-tui demo --headless`: the scripted session through the real HTTP surface, on the
bundled config.yaml (simulated council, smart routing) with the offline test model; every
step's route is read back from the event bus. The bundled config ships as package data, so the
command also runs outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fusion_tui.cli import BUNDLED_CONFIG, build_parser, config_file
from fusion_tui.config import Settings, load_settings
from fusion_tui.demo import SCRIPT, run_headless
from fusion_tui.events import (
    ActorToolCalled,
    BriefingReady,
    CouncilConvened,
    Event,
    EventBus,
    GateDecided,
    PanelMemberFinished,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
)
from fusion_tui.routing.modelstore import TEST_MODEL_FILE

REPO = Path(__file__).resolve().parents[2]


def demo_settings(tmp_path: Path, test_model_dir: Path, **overrides: object) -> Settings:
    """The repository's config.yaml on a free port, recording under tmp_path, with the test
    model standing in for the embedding model (as the offline fallback would)."""
    for name in list(os.environ):
        if name.startswith("FUSION_"):
            os.environ.pop(name)
    routing = {"mode": "smart", "embeddings": {"model": str(test_model_dir),
                                               "file": TEST_MODEL_FILE, "wait_s": 60}}
    return load_settings(REPO / "config.yaml", server={"host": "127.0.0.1", "port": 0},
                         sessions={"dir": str(tmp_path / "sessions")},
                         routing=routing, **overrides)


def by_request(events: list[Event]) -> list[list[Event]]:
    """Events grouped per request, in the order the requests arrived."""
    order = [e.request_id for e in events if isinstance(e, RequestReceived)]
    return [[e for e in events if e.request_id == rid] for rid in order]


def first(events: list[Event], kind: type[Event]) -> Event:
    return next(e for e in events if isinstance(e, kind))


async def test_headless_demo_plays_every_route(tmp_path: Path, test_model_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUSION_CONFIG", raising=False)
    bus = EventBus()
    seen: list[Event] = []
    bus.listen(seen.append)
    lines: list[str] = []
    results = await run_headless(demo_settings(tmp_path, test_model_dir), bus=bus,
                                 write=lines.append)
    assert [r.step.name for r in results] == [s.name for s in SCRIPT]
    assert all(r.ok for r in results), "\n".join(lines)
    trivial, regular, tool_turn, tool_result, panel = by_request(seen)
    sessions = {e.session_id for e in seen if isinstance(e, RequestReceived)}
    assert len(sessions) == 1 and next(iter(sessions)).startswith("demo-")

    assert first(trivial, GateDecided).tier == "compact"  # type: ignore[attr-defined]
    assert first(regular, GateDecided).tier == "regular"  # type: ignore[attr-defined]

    # the hard tool turn: a council sits, the judge briefs, the actor calls Read
    assert first(tool_turn, GateDecided).tier == "plan"  # type: ignore[attr-defined]
    convened = first(tool_turn, CouncilConvened)
    assert len(convened.advisors) >= 2  # type: ignore[attr-defined]
    assert first(tool_turn, BriefingReady).text  # type: ignore[attr-defined]
    assert first(tool_turn, ActorToolCalled).name == "Read"  # type: ignore[attr-defined]
    assert results[2].stop_reason == "tool_use"

    # the tool result comes back: the actor finishes
    assert first(tool_result, ResponseFinished).status == 200  # type: ignore[attr-defined]
    assert results[3].stop_reason == "end_turn"

    # the tool-free hard question: the panel answers
    route = first(panel, RouteChosen)
    assert route.tier == "plan" and "panel=" in route.route  # type: ignore[attr-defined]
    assert len([e for e in panel if isinstance(e, PanelMemberFinished)]) >= 2
    assert results[4].route.startswith("mode=smart; tier=plan;") and "panel=" in results[4].route

    # a person can follow it: one header per step, each result's route on its line
    assert sum(line.startswith("\n== ") for line in lines) == len(SCRIPT)
    assert any("[forced:" in line for line in lines) == any(r.forced for r in results)


async def test_headless_demo_in_single_mode_forces_and_says_so(
        tmp_path: Path, test_model_dir: Path) -> None:
    settings = demo_settings(tmp_path, test_model_dir)
    settings = settings.model_copy(update={"routing": settings.routing.model_copy(
        update={"mode": "single"})})
    results = await run_headless(settings, write=lambda _: None)
    assert all(r.ok for r in results)
    forced = [r for r in results if r.step.tier is not None]
    assert forced and all("sent at" in r.forced for r in forced)
    assert "council=" in results[2].route  # a forced plan tool turn convenes a council


def test_the_bundled_config_is_the_repositorys() -> None:
    assert BUNDLED_CONFIG.read_bytes() == (REPO / "config.yaml").read_bytes()


def test_demo_runs_on_the_bundled_config_outside_the_repository(
        tmp_path: Path, test_model_dir: Path) -> None:
    cwd, home = tmp_path / "elsewhere", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("FUSION_", "XDG_"))}
    env.update(HOME=str(home), HF_HUB_OFFLINE="1", FUSION_SERVER__PORT="0",
               FUSION_TEST_MODEL_DIR=str(test_model_dir))
    done = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "demo", "--headless"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"config {BUNDLED_CONFIG} (bundled)" in done.stderr
    assert sum(line.startswith("== ") for line in done.stdout.splitlines()) == len(SCRIPT)
    assert list((home / ".local" / "share" / "fusion-tui" / "sessions").glob("demo-*.jsonl"))
    assert not any(cwd.iterdir())  # nothing written where it ran


def test_only_run_and_demo_fall_back_to_the_bundled_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FUSION_CONFIG", raising=False)
    args = build_parser().parse_args(["demo"])
    path, notice = config_file(args, bundled=True)
    assert path == BUNDLED_CONFIG and notice and "bundled" in notice
    assert config_file(args) == (None, None)  # serve, check: no fallback
    (tmp_path / "config.yaml").write_text("{}\n")
    assert config_file(args, bundled=True) == (Path("config.yaml"), None)
    monkeypatch.setenv("FUSION_CONFIG", str(tmp_path / "missing.yaml"))
    assert config_file(args, bundled=True) == (tmp_path / "missing.yaml", None)
