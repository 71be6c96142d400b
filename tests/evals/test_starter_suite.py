"""Every starter task is a real task: its check fails on the repo as shipped (hidden tests
included) and passes once the reference solution is applied."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fusion_tui.evals.tasks import STARTER_SUITE, load_tasks

TASKS = load_tasks(STARTER_SUITE)


def _check(task, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", task.check], cwd=workdir, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_check_fails_as_shipped_and_passes_when_solved(task, tmp_path: Path):
    if task.language == "javascript" and shutil.which("node") is None:
        pytest.skip("node is not installed")
    work = task.fresh_copy(tmp_path / "repo")
    task.add_hidden(work)
    before = _check(task, work)
    assert before.returncode != 0, before.stdout + before.stderr
    shutil.copytree(task.folder / "solution", work, dirs_exist_ok=True)
    after = _check(task, work)
    assert after.returncode == 0, after.stdout + after.stderr
