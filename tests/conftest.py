"""Shared fixtures."""

from __future__ import annotations

import pytest
from support import small

from simulation.model.scenario import Scenario


@pytest.fixture
def baseline_small() -> Scenario:
    return small()
