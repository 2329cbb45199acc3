"""Fixtures of the format scanner tests."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from scan_corpus import Payload


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    """The file a payload would create; asserted absent after each test."""
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "a payload ran during the scan"


@pytest.fixture
def evil_pickle(marker: Path) -> bytes:
    """A protocol 2 pickle whose REDUCE calls os.system."""
    return pickle.dumps(Payload(marker), protocol=2)
