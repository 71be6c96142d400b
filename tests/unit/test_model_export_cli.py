"""`fusion-tui model export` without the export extra says what to install (the main
environment has no torch; the export itself is tested in tests/export)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from fusion_tui import cli, cli_model


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None,
                    reason="the export extra is installed here")
def test_export_without_the_extra_names_it(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["model", "export", "some/model", "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "pip install 'fusion-tui[export]'" in err
    assert not (tmp_path / "out").exists()


def test_default_destination_is_named_after_the_source(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert cli_model.default_dest("BAAI/bge-small-en-v1.5") == (
        tmp_path / "fusion-tui" / "models" / "bge-small-en-v1.5-int8")
    assert cli_model.default_dest("/x/my model/").name == "my-model-int8"
