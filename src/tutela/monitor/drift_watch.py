"""Drift as a scheduled check of `tutela monitor watch`.

A watch file's ``drift`` entries compare a reference (a table, a ``.tprof`` profile, a
stored ``window:ID`` or ``lineage:MODEL``) with the current table each cycle::

    drift:
      - asset: model:fraud
        reference: lineage:model:fraud   # or train.parquet, window:..., ref.tprof
        current: incoming/today.parquet  # re-read every cycle
        alpha: 0.05
        min_effect: {amount: 0.2}

Each cycle is one window: its index (for the alpha spending in ``tutela.monitor.drift``)
is one more than the number of drift decisions already recorded for the asset, so the
false-alarm rate stays bounded however long the watch runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.errors import InputError
from tutela.monitor.alerts import Alert, CheckOutcome, WindowValues

__all__ = ["DriftCheck", "parse_drift_check"]

_HISTORY = 100


@dataclass(slots=True)
class DriftCheck:
    name: str
    asset: str
    reference: str
    current: str
    alpha: float = 0.05
    min_effect: dict[str, float] = field(default_factory=dict)
    evidence_kind: str = "drift"

    def run(self, workspace: Any) -> CheckOutcome:
        from tutela.monitor.drift import DriftConfig, compare
        from tutela.monitor.sources import load_pair
        from tutela.monitor.storage import record_drift

        decided, earlier = _earlier(workspace, self.asset)
        config = DriftConfig(
            alpha=self.alpha, window_index=decided + 1, min_effect=dict(self.min_effect)
        )
        config.check()
        ref, cur = load_pair(self.reference, self.current, workspace)
        report = compare(ref, cur, config)
        evidence_id = record_drift(
            workspace, report, asset_id=self.asset, reference=self.reference,
            current=self.current,
        )  # fmt: skip
        metrics = report.metrics()
        history = [WindowValues(i, m, asset=self.asset) for i, m in reversed(earlier)]
        history.append(WindowValues(evidence_id, metrics, asset=self.asset))
        alerts: list[Alert] = []
        if report.drifted:
            columns = ", ".join(report.drifted_columns) or "the domain classifier"
            alerts.append(
                Alert(
                    rule="drift.dataset",
                    metric="drift.dataset.drifted",
                    message=f"{self.asset}: drift in {columns}",
                    asset=self.asset,
                    value=1.0,
                    windows=(evidence_id,),
                    details={"drifted_columns": report.drifted_columns},
                )
            )
        return CheckOutcome(
            self.name,
            self.asset,
            metrics,
            alerts=alerts,
            evidence_id=evidence_id,
            status="changed" if report.drifted else "ok",
            details={"window_index": config.window_index, "alpha": self.alpha},
            history=history[-_HISTORY:],
        )


def _earlier(ws: Any, asset: str) -> tuple[int, list[tuple[str, dict[str, float]]]]:
    """How many drift decisions this asset has, and the newest ``_HISTORY`` of them as
    (evidence id, metric values), newest first. Only those payloads are read: the count
    alone sets the window index."""
    from sqlalchemy import func, select

    from tutela.monitor.storage import DRIFT_PRODUCER
    from tutela.store.models import Evidence, EvidenceKind

    mine = (
        Evidence.asset_id == asset,
        Evidence.kind == EvidenceKind.DRIFT,
        Evidence.producer == DRIFT_PRODUCER,
    )
    with ws.reader() as session:
        count = session.execute(
            select(func.count()).select_from(Evidence).where(*mine)
        ).scalar_one()
        rows = session.execute(
            select(Evidence.id, Evidence.payload)
            .where(*mine)
            .order_by(Evidence.created_at.desc(), Evidence.id)
            .limit(_HISTORY)
        ).all()
    recent: list[tuple[str, dict[str, float]]] = []
    for evidence_id, payload in rows:
        raw = (payload or {}).get("metrics") or {}
        values = {k: float(v) for k, v in raw.items() if isinstance(v, int | float)}
        recent.append((evidence_id, values))
    return int(count), recent


def parse_drift_check(raw: Any, i: int, base: Path) -> DriftCheck:
    """One ``drift`` entry of a watch file; relative paths are read from its folder."""
    where = f"drift[{i}]"
    if not isinstance(raw, dict):
        raise InputError("a drift check must be a mapping", subject=where)
    missing = [k for k in ("asset", "reference", "current") if not isinstance(raw.get(k), str)]
    if missing:
        raise InputError(
            f"a drift check needs {', '.join(missing)}",
            subject=where,
            expected="asset, reference, current (strings)",
        )
    alpha = raw.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        raise InputError("alpha must be a number", subject=where)
    effects = raw.get("min_effect") or {}
    if not isinstance(effects, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in effects.values()
    ):
        raise InputError("min_effect must map columns to numbers", subject=where)

    def place(ref: str) -> str:
        if ref.startswith(("window:", "lineage:")) or Path(ref).is_absolute():
            return ref
        return str(base / ref)

    return DriftCheck(
        name=str(raw.get("name", f"drift:{raw['asset']}")),
        asset=str(raw["asset"]),
        reference=place(str(raw["reference"])),
        current=place(str(raw["current"])),
        alpha=float(alpha),
        min_effect={str(k): float(v) for k, v in effects.items()},
    )
