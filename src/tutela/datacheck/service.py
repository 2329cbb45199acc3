"""`tutela data check` as a service: read, run every check, record evidence."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from tutela.datacheck.backdoor import BackdoorSettings, find_backdoors
from tutela.datacheck.features import Prepared, prepare
from tutela.datacheck.interface import (
    DataCheckError,
    DataCheckReport,
    Deadline,
    Finding,
    FindingKind,
    Limits,
    require_libraries,
)
from tutela.datacheck.reader import read_dataset

__all__ = ["PRODUCER", "check_dataset", "dataset_asset_id", "record_report"]

PRODUCER: Final = "datacheck"
ALL_CHECKS: Final = tuple(kind.value for kind in FindingKind)
_NEEDS_LABELS: Final = {"label_error", "imbalance", "backdoor"}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._\-/:+]+")


def dataset_asset_id(path: Path) -> str:
    """``dataset:<file name>``, with characters asset ids do not allow replaced by '-'."""
    name = _UNSAFE_NAME.sub("-", path.name).lstrip("._-/:+") or "dataset"
    return f"dataset:{name[:200]}"


def _run(
    report: DataCheckReport, deadline: Deadline, check: str, work: Callable[[], list[Finding]]
) -> None:
    if deadline.expired():
        report.skipped[check] = "time limit reached before this check"
        return
    report.findings.extend(work())


def check_dataset(
    path: Path | str,
    *,
    labels: str | None = None,
    test: Path | str | None = None,
    sensitive: Sequence[str] = (),
    ids: Sequence[str] = (),
    exclude: Sequence[str] = (),
    checks: Sequence[str] | None = None,
    limits: Limits | None = None,
    model: str = "auto",
    backdoor: BackdoorSettings | None = None,
    seed: int = 0,
    workspace: Any = None,
    asset: str | None = None,
) -> DataCheckReport:
    """Check a dataset file for label errors, duplicates, leakage, outliers, imbalance,
    PII and backdoor triggers; record the report as evidence when given a workspace."""
    from tutela.datacheck.labels import MODELS
    from tutela.digest import file_digest

    require_libraries()
    source = Path(path)
    limits = limits or Limits()
    chosen = tuple(checks) if checks else ALL_CHECKS
    unknown = sorted(set(chosen) - set(ALL_CHECKS))
    if unknown:
        raise DataCheckError(
            "unknown check", found=", ".join(unknown), expected=", ".join(ALL_CHECKS)
        )
    if model not in MODELS:
        raise DataCheckError("unknown model", found=model, expected=", ".join(MODELS))
    deadline = Deadline(limits.max_seconds)
    loaded = read_dataset(source, limits=limits)
    digest = file_digest(source).digest  # after a successful read: the bytes we checked
    data = prepare(loaded.frame, label=labels, ids=ids, sensitive=sensitive, exclude=exclude)
    report = DataCheckReport(
        dataset=str(source),
        digest=digest,
        format=loaded.format,
        rows=data.n_rows,
        columns=list(loaded.frame.columns),
        label_column=labels,
        truncated=loaded.truncated,
    )
    if loaded.truncated:
        report.skipped["rows"] = f"only the first {limits.max_rows} rows were checked"
    for name in chosen:
        if name in _NEEDS_LABELS and data.labels is None:
            report.skipped[name] = "no label column (--labels)"
            continue
        if name == "leakage" and test is None and data.labels is None:
            report.skipped[name] = "no --test file and no labels to compare"
            continue
        work = _check(
            name,
            set(chosen),
            data,
            report,
            test,
            limits,
            ids,
            sensitive,
            exclude,
            model,
            backdoor,
            seed,
        )
        _run(report, deadline, name, work)
    if workspace is not None:
        report.evidence_id = record_report(workspace, report, asset or dataset_asset_id(source))
    return report


def _check(
    name: str,
    chosen: set[str],
    data: Prepared,
    report: DataCheckReport,
    test: Path | str | None,
    limits: Limits,
    ids: Sequence[str],
    sensitive: Sequence[str],
    exclude: Sequence[str],
    model: str,
    backdoor: BackdoorSettings | None,
    seed: int,
) -> Callable[[], list[Finding]]:
    def label_error() -> list[Finding]:
        from tutela.datacheck.labels import find_label_errors

        found, why = find_label_errors(data, model=model, seed=seed)
        used = found[0].details["model"] if found else model
        report.methods["label_error"] = f"confident learning (cleanlab), {used} out-of-fold"
        if why:
            report.skipped["label_error"] = why
        return found

    def duplicate() -> list[Finding]:
        from tutela.datacheck.duplicates import find_duplicates

        report.methods["duplicate"] = "row hash (exact); nearest neighbour, standardised (near)"
        found = find_duplicates(data, ids=ids, exclude=exclude, seed=seed)
        # Label conflicts come out of the same grouping; they belong to leakage.
        return [f for f in found if f.kind is FindingKind.DUPLICATE or "leakage" in chosen]

    def leakage() -> list[Finding]:
        from tutela.datacheck.duplicates import _conflicts, _key_columns, find_leakage

        found: list[Finding] = []
        if data.labels is not None and "duplicate" not in chosen:
            found += _conflicts(data, _key_columns(data, ids, exclude))
        if test is not None:
            other = read_dataset(Path(test), limits=limits).frame
            found += find_leakage(data, other, ids=ids, exclude=exclude)
        report.methods["leakage"] = "row hash and nearest neighbour against --test; conflicts"
        return found

    def outlier() -> list[Finding]:
        from tutela.datacheck.outliers import find_outliers

        report.methods["outlier"] = "robust z (MAD) per column + IsolationForest"
        return find_outliers(data, seed=seed)

    def imbalance() -> list[Finding]:
        from tutela.datacheck.imbalance import find_imbalance

        report.methods["imbalance"] = "class shares and majority/minority ratio"
        return find_imbalance(data, sensitive=sensitive)

    def pii() -> list[Finding]:
        from tutela.datacheck.pii import find_pii

        report.methods["pii"] = "sampled value patterns with checksums (Luhn, mod 97)"
        columns = [c for c in data.frame.columns if c not in set(exclude)]
        return find_pii(data.frame, columns, seed=seed)

    def backdoor_() -> list[Finding]:
        settings = backdoor or BackdoorSettings(seed=seed)
        found, stats = find_backdoors(data, columns=data.feature_columns, settings=settings)
        report.methods["backdoor"] = (
            "rule mining (Fisher exact, Bonferroni per family) + label surprise + spectral "
            f"signatures; tested {stats}"
        )
        return found

    table: dict[str, Callable[[], list[Finding]]] = {
        "label_error": label_error,
        "duplicate": duplicate,
        "leakage": leakage,
        "outlier": outlier,
        "imbalance": imbalance,
        "pii": pii,
        "backdoor": backdoor_,
    }
    return table[name]


def record_report(ws: Any, report: DataCheckReport, asset_id: str) -> str:
    """One ``scan`` evidence record on the dataset version, in one ledger transaction."""
    from tutela.catalog.assets import parse_asset_id
    from tutela.catalog.evidence import record_on_asset
    from tutela.store.models import AssetKind

    kind, _ = parse_asset_id(asset_id)
    if kind is not AssetKind.DATASET:
        raise DataCheckError(
            "data check results belong to a dataset asset",
            subject=asset_id,
            expected="dataset:NAME",
        )
    payload = report.to_dict()
    payload.pop("evidence", None)
    top = report.max_severity()
    summary: dict[str, Any] = {
        "max_severity": top.label() if top is not None else None,
        "findings": len(report.findings),
        "rows": report.rows,
        **{f"findings.{k}": v for k, v in report.counts().items()},
    }
    return record_on_asset(
        ws,
        asset_id=asset_id,
        description="Dataset checked by `tutela data check`",
        tags=["source:datacheck"],
        kind="scan",
        producer=PRODUCER,
        payload=payload,
        summary=summary,
        version_digest=report.digest,
        location=report.dataset,
    ).id
