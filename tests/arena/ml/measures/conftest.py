"""Fixtures of the measurement tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Fit the small reference models on one thread: on a shared 2-core machine, BLAS
    threads fighting other processes made a logistic regression 70x slower."""
    with threadpool_limits(limits=1):
        yield
