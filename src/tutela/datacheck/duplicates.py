"""Exact and near duplicates, label conflicts, and train/test leakage.

Exact: rows are hashed (pandas ``hash_pandas_object``, 64-bit) over every column but ids
and excluded ones, with numbers compared as float64 and everything else as text, so a
value parsed as int in one file and float in another still matches.

Near: the nearest neighbour of each row in the standardised feature space; two rows are
near duplicates when the root-mean-square difference of their features is below
``min(0.05, 0.2 × the median nearest-neighbour RMS distance)`` standard deviations. The
relative bound keeps low-dimensional, coarsely measured data (iris) from matching
ordinary close neighbours; 0.05 sd is far below the natural spacing of real rows (the
closest pair in breast cancer, wine or digits is 0.12-0.32 sd apart).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tutela.datacheck.features import Prepared, numeric_values
from tutela.datacheck.interface import Finding, FindingKind, Severity, capped

__all__ = ["find_duplicates", "find_leakage", "row_hashes"]

ABSOLUTE_RMS: Final = 0.05
RELATIVE_RMS: Final = 0.2
MAX_NN_ROWS: Final = 50_000  # near-duplicate search samples beyond this many rows
_MAX_GROUPS: Final = 50


def row_hashes(frame: Any, columns: Sequence[str]) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each row over ``columns`` (numbers as float64, the rest as text)."""
    import pandas as pd

    canon = {}
    for name in columns:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            canon[name] = pd.to_numeric(series).astype("float64")
        else:
            canon[name] = series.astype("string")
    table = pd.DataFrame(canon, index=range(len(frame)))
    return np.asarray(pd.util.hash_pandas_object(table, index=False).to_numpy(), np.uint64)


def _groups(hashes: npt.NDArray[np.uint64]) -> list[npt.NDArray[np.intp]]:
    order = np.argsort(hashes, kind="stable")
    sorted_h = hashes[order]
    starts = np.flatnonzero(np.r_[True, sorted_h[1:] != sorted_h[:-1]])
    bounds = np.r_[starts, len(order)]
    return [np.sort(order[a:b]) for a, b in itertools.pairwise(bounds) if b - a > 1]


def _key_columns(data: Prepared, ids: Sequence[str], exclude: Sequence[str]) -> list[str]:
    skip = {*ids, *exclude, *([data.label_column] if data.label_column else [])}
    return [c for c in data.frame.columns if c not in skip]


def near_threshold(nn_rms: npt.NDArray[np.float64]) -> float:
    positive = nn_rms[nn_rms > 0]
    median = float(np.median(positive)) if positive.size else ABSOLUTE_RMS
    return min(ABSOLUTE_RMS, RELATIVE_RMS * median)


def _nearest(matrix: npt.NDArray[np.float64], seed: int) -> tuple[Any, Any, Any]:
    from sklearn.neighbors import NearestNeighbors  # type: ignore[import-untyped]

    n = matrix.shape[0]
    rows = np.arange(n)
    if n > MAX_NN_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(n, MAX_NN_ROWS, replace=False))
    sample = matrix[rows]
    dist, idx = NearestNeighbors(n_neighbors=2).fit(sample).kneighbors(sample)
    rms = dist[:, 1] / np.sqrt(matrix.shape[1])
    return rows, rms, rows[idx[:, 1]]


def find_duplicates(
    data: Prepared, *, ids: Sequence[str] = (), exclude: Sequence[str] = (), seed: int = 0
) -> list[Finding]:
    """Exact duplicates, near duplicates and identical-features-different-label conflicts."""
    findings: list[Finding] = []
    features = _key_columns(data, ids, exclude)
    with_label = features + ([data.label_column] if data.label_column else [])
    exact_groups = _groups(row_hashes(data.frame, with_label))
    n = data.n_rows
    if exact_groups:
        extra = sum(len(g) - 1 for g in exact_groups)
        share = extra / n
        findings.append(
            Finding(
                kind=FindingKind.DUPLICATE,
                check="duplicate.exact",
                severity=Severity.MEDIUM if share >= 0.05 else Severity.LOW,
                message=f"{extra} rows ({share:.1%}) repeat an earlier row exactly "
                f"({len(exact_groups)} groups)",
                rows=capped(np.concatenate(exact_groups)),
                row_count=int(sum(len(g) for g in exact_groups)),
                columns=with_label,
                details={
                    "groups": [[int(r) for r in g[:20]] for g in exact_groups[:_MAX_GROUPS]],
                    "group_count": len(exact_groups),
                    "redundant_rows": extra,
                    "method": "64-bit row hash over all non-id columns",
                },
            )
        )
    in_exact = np.zeros(n, bool)
    for g in exact_groups:
        in_exact[g] = True
    if data.labels is not None:
        findings.extend(_conflicts(data, features))
    rows, rms, partner = _nearest(data.standardized, seed)
    tau = near_threshold(rms)
    near = (rms < tau) & ~(in_exact[rows] & in_exact[partner])
    if data.numeric:
        # Missing numbers are filled with the median, so two rows that both lack a value
        # would look alike for a reason that says nothing about the rows: leave them out.
        complete = data.frame[data.numeric].notna().all(axis=1).to_numpy()
        near &= complete[rows] & complete[partner]
    if near.any():
        pairs = sorted(
            {
                (int(min(a, b)), int(max(a, b)))
                for a, b in zip(rows[near], partner[near], strict=True)
            }
        )
        members = sorted({r for pair in pairs for r in pair})
        findings.append(
            Finding(
                kind=FindingKind.DUPLICATE,
                check="duplicate.near",
                severity=Severity.LOW,
                message=f"{len(pairs)} pairs of rows are near duplicates "
                f"(RMS difference below {tau:.3g} standard deviations)",
                rows=capped(members),
                row_count=len(members),
                columns=data.feature_columns,
                details={
                    "pairs": [list(p) for p in pairs[:_MAX_GROUPS]],
                    "pair_count": len(pairs),
                    "threshold_rms_sd": round(tau, 6),
                    "sampled": bool(len(rows) < n),
                    "method": "nearest neighbour on standardised features",
                },
            )
        )
    return findings


def _conflicts(data: Prepared, features: list[str]) -> list[Finding]:
    assert data.labels is not None
    groups = _groups(row_hashes(data.frame, features))
    conflicted = [g for g in groups if len(set(data.labels[g].tolist()) - {-1}) > 1]
    if not conflicted:
        return []
    members = np.concatenate(conflicted)
    return [
        Finding(
            kind=FindingKind.LEAKAGE,
            check="leakage.label_conflict",
            severity=Severity.MEDIUM,
            message=f"{len(conflicted)} groups of rows share features but not labels",
            rows=capped(members),
            row_count=int(members.size),
            columns=features,
            details={
                "groups": [[int(r) for r in g[:20]] for g in conflicted[:_MAX_GROUPS]],
                "group_count": len(conflicted),
            },
        )
    ]


def find_leakage(
    data: Prepared, test: Any, *, ids: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Finding]:
    """Rows of the ``test`` frame that also appear, exactly or nearly, in the dataset."""
    from sklearn.neighbors import NearestNeighbors

    features = [c for c in _key_columns(data, ids, exclude) if c in test.columns]
    if not features:
        return []
    findings: list[Finding] = []
    train_h = row_hashes(data.frame, features)
    test_h = row_hashes(test, features)
    seen = np.isin(test_h, train_h)
    if seen.any():
        train_rows = np.flatnonzero(np.isin(train_h, test_h[seen]))
        findings.append(
            Finding(
                kind=FindingKind.LEAKAGE,
                check="leakage.test_exact",
                severity=Severity.HIGH,
                message=f"{int(seen.sum())} of {len(test)} test rows appear in the dataset",
                rows=capped(train_rows),
                row_count=int(train_rows.size),
                columns=features,
                details={
                    "test_rows": capped(np.flatnonzero(seen)),
                    "test_row_count": int(seen.sum()),
                    "test_share": round(float(seen.mean()), 6),
                },
            )
        )
    numeric: list[str] = []
    train_cols: list[npt.NDArray[np.float64]] = []
    test_cols: list[npt.NDArray[np.float64]] = []
    for name in data.numeric:
        theirs = numeric_values(test[name]) if name in features else None
        if theirs is not None:
            numeric.append(name)
            train_cols.append(data.matrix[:, data.matrix_sources.index(name)])
            test_cols.append(theirs)
    if not numeric:
        return findings
    train_x = np.column_stack(train_cols)
    test_x = np.column_stack(test_cols)
    mean = train_x.mean(axis=0)
    scale = train_x.std(axis=0)
    scale[scale == 0] = 1.0
    train_z = (train_x - mean) / scale
    test_z = np.nan_to_num((test_x - mean) / scale)
    index = NearestNeighbors(n_neighbors=2).fit(train_z)
    own, _ = index.kneighbors(train_z)
    tau = near_threshold(own[:, 1] / np.sqrt(len(numeric)))
    dist, idx = index.kneighbors(test_z, n_neighbors=1)
    rms = dist[:, 0] / np.sqrt(len(numeric))
    close = (rms < tau) & ~seen
    if close.any():
        train_rows = np.unique(idx[close, 0])
        findings.append(
            Finding(
                kind=FindingKind.LEAKAGE,
                check="leakage.test_near",
                severity=Severity.MEDIUM,
                message=f"{int(close.sum())} test rows are near duplicates of dataset rows "
                f"(RMS difference below {tau:.3g} sd on {len(numeric)} numeric columns)",
                rows=capped(train_rows),
                row_count=int(train_rows.size),
                columns=numeric,
                details={
                    "test_rows": capped(np.flatnonzero(close)),
                    "test_row_count": int(close.sum()),
                    "threshold_rms_sd": round(tau, 6),
                },
            )
        )
    return findings
