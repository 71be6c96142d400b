"""Settings: the YAML file, environment overrides, errors that name the key and the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fusion_tui.cli import main, masked_config
from fusion_tui.config import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    for name in list(os.environ):
        if name.startswith("FUSION_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_bundled_config_loads_and_works_without_keys() -> None:
    settings = load_settings(REPO / "config.yaml")
    actor = settings.upstream(settings.pools.actor[0])
    assert actor.simulated
    assert settings.server.host == "127.0.0.1" and settings.server.port == 8787
    assert settings.routing.mode == "smart"
    assert settings.routing.embeddings.offline_fallback
    assert all(settings.upstream(u).simulated for u in settings.pools.council)


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "upstreams: [{id: a, type: simulated, model: m}]\n"
                           "pools: {actor: [a]}\nserver: {port: 1000}\n")
    monkeypatch.setenv("FUSION_SERVER__PORT", "2000")
    assert load_settings(path).server.port == 2000
    monkeypatch.setenv("FUSION_CONFIG", str(path))
    assert load_settings().pools.actor == ["a"]


@pytest.mark.parametrize(("text", "needles"), [
    ("server: {port: eighty}\nupstreams: [{id: a, type: simulated, model: m}]\n"
     "pools: {actor: [a]}\n", ["server.port", "integer", "'eighty'"]),
    ("upstreams: [{id: a, type: carrier-pigeon, model: m}]\npools: {actor: [a]}\n",
     ["upstreams.0.type", "'ollama' or 'simulated'"]),
    ("upstreams: [{id: a, type: simulated, model: m}]\npools: {actor: [b]}\n",
     ["pools.actor names 'b'", "known: a"]),
    ("upstreams: [{id: a, type: simulated, model: m}]\npools: {actor: [a]}\nsurprise: 1\n",
     ["surprise", "Extra inputs are not permitted"]),
    ("- just\n- a list\n", ["mapping at the top level"]),
    ("server: {port: [\n", ["not valid YAML"]),
])
def test_bad_files_name_the_file_the_key_and_the_expectation(tmp_path: Path, text: str,
                                                             needles: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_check_exits_2_on_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "upstreams: [{id: a, type: nope, model: m}]\npools: {actor: [a]}\n")
    with pytest.raises(SystemExit) as info:
        main(["check", "--config", str(path)])
    assert info.value.code == 2
    assert "upstreams.0.type" in capsys.readouterr().err


def test_check_prints_resolved_config_with_secrets_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    out = subprocess.run([sys.executable, "-m", "fusion_tui.cli", "check", "--config",
                          str(REPO / "config.yaml")], capture_output=True, text=True, check=True,
                         cwd=REPO).stdout
    assert "ANTHROPIC_API_KEY (set)" in out
    assert "sk-ant-very-secret" not in out
    assert "port: 8787" in out


def test_masked_config_reports_missing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    data = masked_config(load_settings(REPO / "config.yaml"))
    opus = next(u for u in data["upstreams"] if u["id"] == "opus")  # type: ignore[attr-defined]
    assert opus["api_key_env"] == "ANTHROPIC_API_KEY (missing)"
