"""Config that cannot work ends in one message and exit 2, never a traceback: bytes that are
not UTF-8, nesting past any sense, bad JSON in a FUSION_ variable (blamed on the variable),
a sessions folder that is a file, hosts in URL notation, base URLs that are not http(s);
and `check` never prints a secret put in an upstream's headers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fusion_tui.cli import main
from fusion_tui.config import ConfigError, load_settings

UPSTREAM = "upstreams: [{id: a, type: simulated, model: m}]\npools: {actor: [a]}\n"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("FUSION_"):
            monkeypatch.delenv(name)


def check(tmp_path: Path, text: str | bytes, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(SystemExit) as info:
        main(["check", "--config", str(path)])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "Traceback" not in err and err.startswith("fusion-tui: ")
    return err


def test_a_file_that_is_not_utf8(tmp_path, capsys) -> None:
    err = check(tmp_path, UPSTREAM.encode() + b"# caf\xe9\n", capsys)
    assert "not UTF-8 text (byte 0xe9 on line 3)" in err


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}")])
def test_yaml_nested_thousands_deep(tmp_path, capsys, opener, closer) -> None:
    err = check(tmp_path, UPSTREAM + "ui: " + opener * 5000 + "1" + closer * 5000 + "\n",
                capsys)
    assert "nested too deeply" in err


def test_bad_json_in_a_variable_is_blamed_on_the_variable(tmp_path, capsys,
                                                          monkeypatch) -> None:
    monkeypatch.setenv("FUSION_UPSTREAMS", "[{not json")
    err = check(tmp_path, UPSTREAM, capsys)
    assert "environment variable FUSION_UPSTREAMS: not valid JSON" in err
    assert "config.yaml" not in err


def test_a_bad_value_in_a_variable_names_the_variable(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FUSION_SERVER__PORT", "many")
    err = check(tmp_path, UPSTREAM, capsys)
    assert "server.port" in err and "from environment variable FUSION_SERVER__PORT" in err
    assert "config.yaml" not in err


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_a_sessions_folder_that_is_a_file(tmp_path, capsys, where) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    folder = blocker if where == "file" else blocker / "sessions"
    err = check(tmp_path, UPSTREAM + f"sessions: {{dir: '{folder}'}}\n", capsys)
    assert "sessions.dir" in err and "is a file, not a folder" in err


def test_a_host_in_url_notation_is_understood(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(UPSTREAM + "server: {host: '[::1]'}\n")
    assert load_settings(path).server.host == "::1"


@pytest.mark.parametrize("host", ["bad host", "[::1", "::1]]", "a..b", ""])
def test_a_host_that_is_no_address(tmp_path, capsys, host) -> None:
    err = check(tmp_path, UPSTREAM + f"server: {{host: '{host}'}}\n", capsys)
    assert "server.host" in err


@pytest.mark.parametrize("url", ["not a url", "file:///etc", "ftp://h/", "http://", "http:///x",
                                 "https://h:99999", "http://user:pw@h/", "//h/v1"])
def test_a_base_url_that_is_not_http_is_refused_at_start(tmp_path, capsys, url) -> None:
    err = check(tmp_path, "upstreams: [{id: a, type: anthropic, model: m, "
                f"base_url: '{url}'}}]\npools: {{actor: [a]}}\n", capsys)
    assert "upstreams.0.base_url" in err


def test_check_hides_secrets_put_in_headers(tmp_path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("upstreams: [{id: a, type: openai-compatible, model: m, base_url: "
                    "'http://127.0.0.1:9/v1', headers: {Authorization: 'Bearer sk-in-config', "
                    "X-Api-Key: sk-other, X-Title: my-app}}]\npools: {actor: [a]}\n")
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "sk-in-config" not in out and "sk-other" not in out
    assert "X-Title: my-app" in out and "Authorization: (hidden)" in out


def test_config_error_is_raised_not_a_traceback_for_load_settings(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError):
        load_settings(path)
