"""Which onnxruntime build is installed, and what to do when it is not the right one.

The CPU build (`onnxruntime`, a plain dependency) and the GPU build (`onnxruntime-gpu`, the
`gpu` extra) install the same `onnxruntime` import folder: with both in one environment the
one installed last wins, file by file. fusion-tui says so instead of running on whatever won.
"""

from __future__ import annotations

import importlib.metadata

CPU_DIST = "onnxruntime"
GPU_DIST = "onnxruntime-gpu"

FIX_BOTH = (f"both {CPU_DIST} and {GPU_DIST} are installed in this environment and overwrite "
            f"each other's files; keep one: `pip uninstall -y {CPU_DIST} {GPU_DIST}`, then "
            f"`pip install '{GPU_DIST}[cuda,cudnn]'` for CUDA or `pip install {CPU_DIST}` "
            f"for the CPU (see docs/install.md)")
FIX_NONE = (f"onnxruntime is not installed: `pip install {CPU_DIST}` (CPU), or "
            f"`pip install 'fusion-tui[gpu]'` for CUDA (see docs/install.md)")


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def install_problem() -> str | None:
    """Why the onnxruntime install is wrong (none, or both builds at once), else None."""
    cpu, gpu = _installed(CPU_DIST), _installed(GPU_DIST)
    if cpu and gpu:
        return FIX_BOTH
    if not (cpu or gpu):
        return FIX_NONE
    return None


def preload_cuda_libraries() -> str | None:
    """Load the CUDA and cuDNN libraries that the `gpu` extra installs from PyPI (nvidia-*
    wheels), so the CUDA provider finds them; None when done or not needed, else why not."""
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None or "CUDAExecutionProvider" not in ort.get_available_providers():
        return None
    try:
        preload()
    except Exception as exc:  # a missing nvidia-* wheel: the CUDA session then says more
        return f"preloading CUDA libraries failed: {exc}"
    return None
