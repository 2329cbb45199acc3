"""Class imbalance: proportions, the majority/minority ratio and the minority classes.

A class is a minority class when its share is below half of the uniform share 1/K. The
finding is raised from a ratio of 3 (low), 10 (medium) and 100 (high). Declared sensitive
columns add their group shares and the label distribution within each group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from tutela.datacheck.features import Prepared
from tutela.datacheck.interface import Finding, FindingKind, Severity, capped

__all__ = ["find_imbalance"]

_LEVELS: Final = ((100.0, Severity.HIGH), (10.0, Severity.MEDIUM), (3.0, Severity.LOW))
_MAX_GROUPS: Final = 30


def _groups(data: Prepared, sensitive: Sequence[str]) -> dict[str, Any]:
    assert data.labels is not None
    out: dict[str, Any] = {}
    for name in sensitive:
        values = data.frame[name].astype("string").fillna("<missing>").to_numpy(dtype=object)
        uniq, counts = np.unique(values, return_counts=True)
        order = np.argsort(-counts)[:_MAX_GROUPS]
        groups = []
        for i in order:
            mask = (values == uniq[i]) & (data.labels >= 0)
            labels = np.bincount(data.labels[mask], minlength=len(data.classes))
            total = max(int(labels.sum()), 1)
            groups.append(
                {
                    "group": str(uniq[i]),
                    "rows": int(counts[i]),
                    "share": round(float(counts[i] / len(values)), 6),
                    "label_shares": {
                        str(c): round(float(k / total), 6)
                        for c, k in zip(data.classes, labels, strict=True)
                    },
                }
            )
        out[name] = groups
    return out


def find_imbalance(data: Prepared, *, sensitive: Sequence[str] = ()) -> list[Finding]:
    assert data.labels is not None
    labels = data.labels[data.labels >= 0]
    counts = np.bincount(labels, minlength=len(data.classes))
    present = counts[counts > 0]
    k = len(data.classes)
    ratio = float(present.max() / present.min())
    shares = counts / counts.sum()
    minority = [data.classes[i] for i in range(k) if shares[i] < 0.5 / k]
    severity = next((s for bound, s in _LEVELS if ratio >= bound), None)
    if severity is None:
        return []
    minority_rows = np.flatnonzero(
        np.isin(data.labels, [i for i in range(k) if shares[i] < 0.5 / k])
    )
    return [
        Finding(
            kind=FindingKind.IMBALANCE,
            check="imbalance.classes",
            severity=severity,
            message=f"class imbalance ratio {ratio:.1f}:1; minority classes: "
            + (", ".join(map(str, minority)) or "none below half the uniform share"),
            rows=capped(minority_rows),
            row_count=int(minority_rows.size),
            columns=[data.label_column or ""],
            details={
                "class_counts": {str(c): int(n) for c, n in zip(data.classes, counts, strict=True)},
                "class_shares": {
                    str(c): round(float(s), 6) for c, s in zip(data.classes, shares, strict=True)
                },
                "imbalance_ratio": round(ratio, 4),
                "minority_classes": minority,
                "sensitive_groups": _groups(data, sensitive),
            },
        )
    ]
