"""The install tests build and install the wheel (minutes, network to PyPI): they run when
FUSION_INSTALL_TESTS=1 (`make test` and CI set it), else they are skipped."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("FUSION_INSTALL_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="install tests run with FUSION_INSTALL_TESTS=1 (make test)")
    for item in items:
        if item.get_closest_marker("install"):
            item.add_marker(skip)
