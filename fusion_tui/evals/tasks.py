"""Tasks: a folder with repo/, prompt.md, task.yaml (check command, time limit) and optional
hidden/ files copied in only for the check. See docs/eval.md."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

STARTER_SUITE = Path(__file__).resolve().parent / "starter"
"""The task suite shipped with the package."""

DEFAULT_TIME_LIMIT_S = 300.0
CHECK_TIME_LIMIT_S = 120.0


class TaskError(Exception):
    """A task folder cannot be used; the message names the folder and the problem."""


@dataclass(frozen=True)
class Task:
    """One verifiable coding task."""

    name: str
    folder: Path
    prompt: str
    check: str
    time_limit_s: float
    check_time_limit_s: float
    language: str
    kind: str

    @property
    def repo(self) -> Path:
        """The starting state the agent works on (copied fresh for every run)."""
        return self.folder / "repo"

    @property
    def hidden(self) -> Path:
        """Files the agent never sees, copied into the work copy before the check."""
        return self.folder / "hidden"

    def fresh_copy(self, dest: Path) -> Path:
        """A fresh copy of the repo at `dest` (which must not exist)."""
        shutil.copytree(self.repo, dest)
        return dest

    def add_hidden(self, workdir: Path) -> None:
        """Copy the hidden files over the work copy (they win over the agent's files)."""
        if self.hidden.is_dir():
            shutil.copytree(self.hidden, workdir, dirs_exist_ok=True)


def _number(data: dict[str, object], key: str, default: float, where: Path) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise TaskError(f"{where}: {key} must be a positive number of seconds, got {value!r}")
    return float(value)


def load_task(folder: Path) -> Task:
    """Read one task folder."""
    spec = folder / "task.yaml"
    try:
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TaskError(f"{folder}: cannot read task.yaml: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise TaskError(f"{spec}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise TaskError(f"{spec}: expected a mapping")
    check = data.get("check")
    if not isinstance(check, str) or not check.strip():
        raise TaskError(f"{spec}: `check` (a shell command whose exit status 0 means pass) "
                        "is required")
    prompt_file = folder / "prompt.md"
    prompt = data.get("prompt")
    if prompt is None and prompt_file.is_file():
        prompt = prompt_file.read_text(encoding="utf-8")
    if not isinstance(prompt, str) or not prompt.strip():
        raise TaskError(f"{folder}: a prompt is required (prompt.md, or `prompt` in task.yaml)")
    if not (folder / "repo").is_dir():
        raise TaskError(f"{folder}: no repo/ folder (the files the agent starts from)")
    return Task(name=folder.name, folder=folder, prompt=prompt.strip(), check=check.strip(),
                time_limit_s=_number(data, "time_limit_s", DEFAULT_TIME_LIMIT_S, spec),
                check_time_limit_s=_number(data, "check_time_limit_s", CHECK_TIME_LIMIT_S,
                                           spec),
                language=str(data.get("language", "")), kind=str(data.get("kind", "")))


def load_tasks(folder: Path, only: list[str] | None = None) -> list[Task]:
    """Every task in `folder` (a folder holding task.yaml is itself one task), sorted by
    name; `only` keeps the named ones (an unknown name is an error)."""
    if not folder.is_dir():
        raise TaskError(f"{folder}: no such task folder")
    if (folder / "task.yaml").is_file():
        tasks = [load_task(folder)]
    else:
        tasks = [load_task(sub) for sub in sorted(folder.iterdir())
                 if sub.is_dir() and (sub / "task.yaml").is_file()]
    if not tasks:
        raise TaskError(f"{folder}: no tasks (folders with a task.yaml)")
    if only:
        names = {t.name for t in tasks}
        missing = [n for n in only if n not in names]
        if missing:
            raise TaskError(f"{folder}: no task named {', '.join(missing)}")
        tasks = [t for t in tasks if t.name in only]
    return tasks
