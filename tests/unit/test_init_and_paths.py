"""`fusion-tui init`, config discovery in the user's config folder, platform paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusion_tui import cli
from fusion_tui.cli_init import STARTER_CONFIG
from fusion_tui.config import load_settings, paths, resolve_config_path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder and private XDG folders (platformdirs reads them on Linux)."""
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    monkeypatch.delenv("FUSION_CONFIG", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def test_paths_follow_the_platform_folders(home: Path) -> None:
    assert paths.user_config_file() == home / "config" / "fusion-tui" / "config.yaml"
    assert paths.sessions_dir() == home / "data" / "fusion-tui" / "sessions"
    assert paths.state_dir() == home / "state" / "fusion-tui"
    assert paths.cache_dir() == home / "cache" / "fusion-tui"
    assert cli.log_file() == home / "state" / "fusion-tui" / "fusion-tui.log"
    assert load_settings(STARTER_CONFIG).sessions.path == home / "data" / "fusion-tui" / "sessions"


def test_serve_without_config_says_where_it_looked(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve"])
    assert exit_.value.code == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert str(paths.user_config_file()) in err
    assert str(home / "work" / "config.yaml") in err
    assert "fusion-tui init" in err


def test_init_writes_a_starter_every_command_then_finds(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert resolve_config_path() is None
    assert cli.main(["init"]) == 0
    target = paths.user_config_file()
    assert target.read_text() == STARTER_CONFIG.read_text()
    assert resolve_config_path() == target
    settings = load_settings()
    # Simulated models ready; the real ones are there only as comments with their key variable.
    assert {u.type for u in settings.upstreams} == {"simulated"}
    assert "api_key_env: ANTHROPIC_API_KEY" in target.read_text()
    capsys.readouterr()
    assert cli.main(["check"]) == 0
    assert f"# {target}: valid" in capsys.readouterr().out


def test_init_never_overwrites_without_force(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = paths.user_config_file()
    target.parent.mkdir(parents=True)
    target.write_text("# mine\n")
    assert cli.main(["init"]) == 1
    assert "exists" in capsys.readouterr().err
    assert target.read_text() == "# mine\n"
    assert cli.main(["init", "--force"]) == 0
    assert target.read_text() == STARTER_CONFIG.read_text()


def test_a_local_config_wins_over_the_users(home: Path) -> None:
    assert cli.main(["init"]) == 0
    Path("config.yaml").write_text(STARTER_CONFIG.read_text())
    assert resolve_config_path() == Path("config.yaml")
