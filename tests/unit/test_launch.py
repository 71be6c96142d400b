"""The agent launcher: options vs pass-through, the environment, seeding Claude Code's
settings without clobbering a user's."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from fusion_tui import launch
from fusion_tui.launch import Agent, LaunchError


def fake_bin(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_options_come_first_and_everything_else_passes_through() -> None:
    options = launch.parse_options(Agent.CLAUDE, [
        "--url", "http://127.0.0.1:9000", "--session=s1", "-p", "hi --url x", "--url", "y"])
    assert options.url == "http://127.0.0.1:9000" and options.session == "s1"
    assert options.passthrough == ["-p", "hi --url x", "--url", "y"]
    after_dashes = launch.parse_options(Agent.CLAUDE, ["--no-seed", "--", "--url", "z"])
    assert not after_dashes.seed and after_dashes.passthrough == ["--url", "z"]
    with pytest.raises(LaunchError, match="--url needs a value"):
        launch.parse_options(Agent.CLAUDE, ["--url"])


def test_claude_env_points_at_the_proxy_and_keeps_the_users_headers(tmp_path: Path) -> None:
    binary = fake_bin(tmp_path, "claude")
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path / "home"),
           "ANTHROPIC_AUTH_TOKEN": "real-token", "ANTHROPIC_CUSTOM_HEADERS": "x-team: blue"}
    plan = launch.plan(Agent.CLAUDE, ["--url", "http://127.0.0.1:9/v1/", "--session", "s9",
                                      "--resume"], env, tmp_path)
    assert plan.program == binary and plan.argv == [str(binary), "--resume"]
    assert plan.env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9"
    assert plan.env["ANTHROPIC_API_KEY"] == launch.LOCAL_KEY
    assert "ANTHROPIC_AUTH_TOKEN" not in plan.env  # it would win over the proxy's key
    assert plan.env["ANTHROPIC_CUSTOM_HEADERS"].splitlines() == ["x-team: blue",
                                                                 "x-fusion-session: s9"]
    assert plan.env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"


def test_the_proxys_client_key_is_used_and_its_absence_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin(tmp_path, "claude")
    config = tmp_path / "config.yaml"
    config.write_text("server: {port: 9911, auth_key_env: MY_PROXY_KEY}\n"
                      "upstreams: [{id: sim, type: simulated, model: sim}]\n"
                      "pools: {actor: [sim]}\n")
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path / "home"), "MY_PROXY_KEY": "k" * 30}
    plan = launch.plan(Agent.CLAUDE, ["--config", str(config)], env, tmp_path)
    assert plan.env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9911"
    assert plan.env["ANTHROPIC_API_KEY"] == "k" * 30
    del env["MY_PROXY_KEY"]
    with pytest.raises(LaunchError, match=r"\$MY_PROXY_KEY is not set"):
        launch.plan(Agent.CLAUDE, ["--config", str(config)], env, tmp_path)


def test_a_missing_binary_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="not on PATH") as missing:
        launch.find_binary(Agent.CLAUDE, None, {"PATH": str(tmp_path)})
    assert missing.value.code == launch.EXIT_NOT_FOUND
    with pytest.raises(LaunchError, match=r"\$FUSION_CODEX_BIN"):
        launch.find_binary(Agent.CODEX, None, {"PATH": "", "FUSION_CODEX_BIN": "/nope"})
    binary = fake_bin(tmp_path, "codex")
    assert launch.find_binary(Agent.CODEX, str(binary), {"PATH": ""}) == binary


def test_seeding_an_empty_home_then_a_users_settings_without_clobbering(
        tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    project = tmp_path / "proj"
    added = launch.seed_claude_config(path, "sk-proxy-" + "a" * 30, project)
    assert added and json.loads(path.read_text()) == {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": ["a" * 20], "rejected": []},
        "projects": {str(project): {"hasTrustDialogAccepted": True}}}
    assert launch.seed_claude_config(path, "sk-proxy-" + "a" * 30, project) == []

    user = {"hasCompletedOnboarding": False, "theme": "light", "oauthAccount": {"id": 1},
            "customApiKeyResponses": {"approved": ["old"], "rejected": ["b" * 20]},
            "projects": {str(project): {"hasTrustDialogAccepted": False,
                                        "allowedTools": ["Read"]}}}
    path.write_text(json.dumps(user))
    assert launch.seed_claude_config(path, "b" * 20, project) == []  # a rejected key stays
    assert json.loads(path.read_text()) == user
    assert launch.seed_claude_config(path, "c" * 20, tmp_path / "other") == [
        "approved key", f"trusted {tmp_path / 'other'}"]
    after = json.loads(path.read_text())
    assert after["hasCompletedOnboarding"] is False and after["theme"] == "light"
    assert after["customApiKeyResponses"]["approved"] == ["old", "c" * 20]
    assert after["projects"][str(project)] == user["projects"][str(project)]

    path.write_text("[1, 2]")
    with pytest.raises(LaunchError, match="not a JSON object"):
        launch.seed_claude_config(path, "k", project)
    assert path.read_text() == "[1, 2]"


def test_codex_gets_a_provider_on_the_proxy_without_writing_its_config(tmp_path: Path) -> None:
    binary = fake_bin(tmp_path, "codex")
    plan = launch.plan(Agent.CODEX, ["--url", "http://127.0.0.1:7", "exec", "hi"],
                       {"PATH": str(tmp_path), "HOME": str(tmp_path)}, tmp_path)
    assert plan.argv[0] == str(binary) and plan.argv[-2:] == ["exec", "hi"]
    assert "model_provider=fusion" in plan.argv
    assert any('base_url = "http://127.0.0.1:7/v1"' in a for a in plan.argv)
    assert 'model="fusion"' in plan.argv
    assert plan.env["FUSION_API_KEY"] == launch.LOCAL_KEY
    assert not (tmp_path / ".codex").exists()
    mine = launch.plan(Agent.CODEX, ["--url", "http://127.0.0.1:7", "exec", "-m", "o9", "hi"],
                       {"PATH": str(tmp_path), "HOME": str(tmp_path)}, tmp_path)
    assert 'model="fusion"' not in mine.argv  # the user's model wins
