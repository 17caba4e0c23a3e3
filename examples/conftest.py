"""The notebooks in this folder run as tests through nbmake (`--nbmake`, pyproject.toml).
Each runs the model many times (the quick start takes about a minute on two cores), so they
are marked slow: `python -m pytest -m "not slow"` leaves them out."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
