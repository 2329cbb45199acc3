"""Continuous oversight: mergeable profiles, drift decided by effect size, reports.

``tutela.monitor.log(model, inputs, outputs, labels)`` appends to the model's current
window; ``profile_file``, ``compare`` and ``render_html`` are the building blocks of the
``tutela monitor`` commands. Names are imported on first use, so importing the package
(for example for its alert rules) costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "DriftConfig",
    "DriftReport",
    "TableProfile",
    "compare",
    "log",
    "log_labels",
    "profile_file",
    "profile_rows",
    "render_html",
]

_HOME = {
    "DriftConfig": "tutela.monitor.drift",
    "DriftReport": "tutela.monitor.drift",
    "compare": "tutela.monitor.drift",
    "TableProfile": "tutela.monitor.profile",
    "log": "tutela.monitor.sdk",
    "log_labels": "tutela.monitor.sdk",
    "profile_file": "tutela.monitor.ingest",
    "profile_rows": "tutela.monitor.ingest",
    "render_html": "tutela.monitor.report",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'tutela.monitor' has no attribute {name!r}")
    return getattr(import_module(home), name)
