"""Fixtures shared by the unit tests."""

import pytest

from alertsim.core import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """The simulator's (and the client's) time: it moves only when a test advances it."""
    return ManualClock()
