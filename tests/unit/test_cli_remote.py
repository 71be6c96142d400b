"""The commands that talk to a running proxy: slash-command files, steer's arguments, the
status line as Claude Code runs it (a process reading JSON on stdin)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fusion_tui import cli, cli_remote


def test_install_commands_writes_the_slash_commands(tmp_path: Path) -> None:
    assert cli.main(["claude", "install-commands", "--project", str(tmp_path)]) == 0
    folder = tmp_path / ".claude" / "commands"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{n}.md" for n in cli_remote.COMMANDS)
    council = (folder / "council.md").read_text()
    assert council.startswith("---\ndescription: ")
    assert "allowed-tools: Bash(fusion-tui steer:*)" in council
    assert ("!`fusion-tui steer --from-claude --session ${CLAUDE_SESSION_ID} set_council "
            "enabled=true && fusion-tui steer --from-claude --session ${CLAUDE_SESSION_ID} "
            "force_tier tier=plan`") in council
    tier = (folder / "tier.md").read_text()
    assert "argument-hint: compact|regular|plan" in tier and "tier=$ARGUMENTS" in tier


def test_install_commands_keeps_a_file_it_did_not_write(tmp_path: Path, capsys) -> None:
    folder = tmp_path / ".claude" / "commands"
    folder.mkdir(parents=True)
    (folder / "solo.md").write_text("my own /solo\n")
    assert cli.main(["claude", "install-commands", "--project", str(tmp_path)]) == 0
    assert (folder / "solo.md").read_text() == "my own /solo\n"
    assert f"kept {folder / 'solo.md'} (not written by fusion-tui)" in capsys.readouterr().out
    (folder / "tier.md").write_text("stale\n" + cli_remote.MARKER)
    assert cli.main(["claude", "install-commands", "--project", str(tmp_path)]) == 0
    assert "force_tier" in (folder / "tier.md").read_text()  # ours: rewritten


def test_install_commands_for_the_user(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["claude", "install-commands", "--user"]) == 0
    assert (tmp_path / ".claude" / "commands" / "council.md").is_file()


def test_steer_arguments() -> None:
    assert cli_remote.steer_args("set-council", ["enabled=false"], "s1") == {
        "act": "set_council", "enabled": False, "session": "s1"}
    assert cli_remote.steer_args("set_judge", ["judge=null"], None) == {
        "act": "set_judge", "judge": None}
    with pytest.raises(ValueError, match="key=value"):
        cli_remote.steer_args("force_tier", ["plan"], "s1")


def test_steer_without_a_proxy_says_so(capsys, monkeypatch) -> None:
    monkeypatch.setenv("FUSION_CONTROL_TOKEN", "t")
    code = cli.main(["steer", "--url", "http://127.0.0.1:9", "--session", "s",
                     "force_tier", "tier=plan"])
    assert code == cli_remote.EXIT_UNREACHABLE
    assert "no proxy at http://127.0.0.1:9" in capsys.readouterr().err


def test_the_status_line_process_never_shows_a_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path),
           "FUSION_CONTROL_TOKEN": "t"}
    for stdin, expected in (('{"session_id": "abc", "model": {"display_name": "Opus"}}',
                             "fusion: proxy down (http://127.0.0.1:9)"),
                            ("{not json", "fusion: no session_id on stdin"),
                            ("", "fusion: no session_id on stdin")):
        done = subprocess.run([str(Path(sys.executable).parent / "fusion-tui"), "statusline",
                               "--url", "http://127.0.0.1:9"], input=stdin, capture_output=True,
                              text=True, env=env, timeout=60, check=False)
        assert done.returncode == 0
        assert done.stdout == expected + "\n"
        assert "Traceback" not in done.stderr
