"""The export tests need the `export` extra (torch, optimum): they run in `make export-test`'s
own cached environment, which sets FUSION_EXPORT_TESTS=1; elsewhere they are skipped."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("FUSION_EXPORT_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="export tests run in `make export-test` (torch environment)")
    for item in items:
        if "tests/export/" in item.nodeid:
            item.add_marker(skip)
