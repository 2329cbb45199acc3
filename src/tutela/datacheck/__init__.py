"""Training-data checks: label errors, duplicates, leakage, outliers, imbalance, PII and
backdoor triggers, recorded as evidence on the dataset's version (docs/data-check.md).

``check_dataset(path, labels=...)`` is the entry point; heavy libraries (pandas,
scikit-learn, cleanlab) load only when a check runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tutela.datacheck.interface import (
    DataCheckError,
    DataCheckReport,
    Finding,
    FindingKind,
    Limits,
    Severity,
    require_libraries,
)

if TYPE_CHECKING:
    from tutela.datacheck.backdoor import BackdoorSettings
    from tutela.datacheck.service import check_dataset, dataset_asset_id

__all__ = [
    "BackdoorSettings",
    "DataCheckError",
    "DataCheckReport",
    "Finding",
    "FindingKind",
    "Limits",
    "Severity",
    "check_dataset",
    "dataset_asset_id",
]

_LAZY = {
    "check_dataset": "tutela.datacheck.service",
    "dataset_asset_id": "tutela.datacheck.service",
    "BackdoorSettings": "tutela.datacheck.backdoor",
}


def __getattr__(name: str) -> Any:
    from importlib import import_module

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tutela.datacheck' has no attribute {name!r}")
    require_libraries()  # before numpy and pandas are imported by the implementation
    return getattr(import_module(module), name)
