"""Fixtures for the classifier Arena tests: scikit-learn's bundled datasets."""

from __future__ import annotations

import pytest
from arena_ml_helpers import dataset

from tutela.arena.ml.data import Dataset


@pytest.fixture(scope="module")
def wine() -> Dataset:
    return dataset("wine")


@pytest.fixture(scope="module")
def breast_cancer() -> Dataset:
    return dataset("breast_cancer")
