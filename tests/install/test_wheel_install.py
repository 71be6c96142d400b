"""The package as users get it: a wheel built from this tree, installed the three ways users
install it (a plain venv with pip, `uv tool install`, `pipx install`), in a home with no config
and no network to the Hugging Face hub. `fusion-tui init` writes the starter config, `serve`
starts on it, and a smart request through the official SDK is routed by the offline model.

Slow-ish (it builds and installs; uv's and pip's caches keep repeat runs short) and bounded:
every step has a deadline. It needs network to PyPI for the dependencies, as any install does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[2]
OFFLINE_MODEL = "all-MiniLM-L6-v2-int8 (offline fallback)"
INSTALL_TIMEOUT_S = 420
READY_TIMEOUT_S = 240


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.fail("uv is not installed (it is in the dev extra)")
    return found


def _run(cmd: list[str | Path], *, env: dict[str, str] | None = None,
         timeout: float = INSTALL_TIMEOUT_S, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {done.returncode}\n{done.stdout[-4000:]}\n"
        f"{done.stderr[-4000:]}")
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([_uv(), "build", "--wheel", "--out-dir", out, REPO])
    (built,) = out.glob("fusion_tui-*.whl")
    return built


def _user_env(home: Path) -> dict[str, str]:
    """A user with an empty home, no config, and a hub that cannot be reached."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("FUSION_", "HF_", "XDG_", "VIRTUAL_ENV", "UV_", "PIPX_"))}
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
        "HF_HOME": str(home / "hf"), "HF_HUB_OFFLINE": "1",
        # Also unroutable, should anything ignore HF_HUB_OFFLINE.
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "FUSION_SERVER__PORT": "0",
    })
    # The installers keep their download caches where they were, so repeat runs are quick.
    for name, default in (("UV_CACHE_DIR", "uv"), ("PIP_CACHE_DIR", "pip")):
        env[name] = os.environ.get(name) or str(Path.home() / ".cache" / default)
    return env


def _install(how: str, wheel: Path, root: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """Install the wheel as a user would; the `fusion-tui` command and the python of the
    environment it runs in."""
    uv = _uv()
    if how == "pip-venv":
        venv = root / "venv"
        _run([sys.executable, "-m", "venv", venv], env=env)
        _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], env=env)
        return venv / "bin" / "fusion-tui", venv / "bin" / "python"
    if how == "uv-tool":
        tool_env = {**env, "UV_TOOL_DIR": str(root / "uv-tools"),
                    "UV_TOOL_BIN_DIR": str(root / "bin"), "UV_PYTHON_DOWNLOADS": "never"}
        _run([uv, "tool", "install", "--python", sys.executable, wheel], env=tool_env)
        return root / "bin" / "fusion-tui", root / "uv-tools" / "fusion-tui" / "bin" / "python"
    assert how == "pipx"
    pipx_env = {**env, "PIPX_HOME": str(root / "pipx"), "PIPX_BIN_DIR": str(root / "bin"),
                "PIPX_MAN_DIR": str(root / "man")}
    _run([sys.executable, "-m", "pipx", "install", "--python", sys.executable, wheel],
         env=pipx_env)
    return root / "bin" / "fusion-tui", root / "pipx" / "venvs" / "fusion-tui" / "bin" / "python"


@pytest.fixture
def server_log(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "serve.log"


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as answer:  # loopback only
        return dict(json.loads(answer.read()))


@pytest.mark.parametrize("how", ["pip-venv", "uv-tool", "pipx"])
def test_installed_wheel_routes_smart_requests_on_the_offline_model(
        how: str, wheel: Path, tmp_path: Path, server_log: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"  # no config.yaml here
    work.mkdir()
    env = _user_env(home)
    command, python = _install(how, wheel, tmp_path / "install", env)
    assert command.is_file(), f"{how} did not install a fusion-tui command at {command}"
    _check_packaged_data(python, env, work)

    # A first run without a config says where it looked; init writes the starter there.
    first = subprocess.run([command, "serve"], cwd=work, env=env, capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert first.returncode == 2
    assert "fusion-tui init" in first.stderr
    assert "wrote " in _run([command, "init"], env=env, cwd=work, timeout=60)

    with server_log.open("w") as log:
        server = subprocess.Popen([command, "serve"], cwd=work, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        address = _wait_listening(server, server_log)
        health = _wait_classifier_ready(server, f"{address}/health", server_log)
        classifier = health["classifier"]
        assert isinstance(classifier, dict)
        assert classifier["model"] == OFFLINE_MODEL, classifier
        assert "HF_HUB_OFFLINE" in str(classifier["fallback_reason"]), classifier

        client = anthropic.Anthropic(base_url=address, api_key="anything",
                                     max_retries=0, timeout=60)
        raw = client.messages.with_raw_response.create(
            model="fusion", max_tokens=200,
            messages=[{"role": "user", "content": "rename the variable x to count"}])
        assert raw.http_response.status_code == 200
        route = raw.headers["x-fusion-route"]
        assert route.startswith("mode=smart; tier=") and "tier=-" not in route, route
        assert "scores=" in route, route  # the gate judged it: it did not fall through
        assert raw.parse().content[0].type == "text"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _check_packaged_data(python: Path, env: dict[str, str], cwd: Path) -> None:
    """The themes (top-level themes/ in the tree) and the offline tokenizer are inside the
    installed package, and onnxruntime is the CPU build alone."""
    probe = ("import json; from fusion_tui.tui.theming import THEMES_DIR, load_themes; "
             "from fusion_tui.routing import modelstore, onnx_builds; "
             "print(json.dumps({'themes': str(THEMES_DIR), "
             "'names': sorted(t.name for t in load_themes()), "
             "'tokenizer': str(modelstore._TOKENIZER_DIR / 'tokenizer.json'), "
             "'ort': onnx_builds.install_problem()}))")
    # Not from the repository: `python -c` imports from its working folder first.
    found = json.loads(_run([python, "-c", probe], env=env, timeout=60, cwd=cwd))
    assert "site-packages" in found["themes"] and found["themes"].endswith("fusion_tui/themes")
    assert found["names"] == ["fusion-contrast", "fusion-dark", "fusion-light"]
    assert Path(found["tokenizer"]).is_file() and "site-packages" in found["tokenizer"]
    assert found["ort"] is None


def _wait_listening(server: subprocess.Popen[bytes], log: Path) -> str:
    """The base URL the server reports on its first line (http://127.0.0.1:PORT)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"listening"' in line:
                return str(json.loads(line)["listening"])
        assert server.poll() is None, f"serve exited {server.returncode}:\n{log.read_text()}"
        time.sleep(0.2)
    pytest.fail(f"serve did not report its address in 90 s:\n{log.read_text()[-4000:]}")


def _wait_classifier_ready(server: subprocess.Popen[bytes], url: str,
                           log: Path) -> dict[str, object]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    health: dict[str, object] = {}
    while time.monotonic() < deadline:
        assert server.poll() is None, f"serve exited {server.returncode}:\n{log.read_text()}"
        health = _get_json(url)
        classifier = health.get("classifier")
        assert isinstance(classifier, dict)
        if classifier.get("state") == "failed":
            pytest.fail(f"the classifier failed: {classifier}\n{log.read_text()[-4000:]}")
        if classifier.get("ready"):
            return health
        time.sleep(0.5)
    pytest.fail(f"classifier not ready in {READY_TIMEOUT_S} s: {health}")
