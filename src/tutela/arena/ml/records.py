"""Attacks and measurements as ``Attempt`` records, and per-attack summaries.

Each attacked row is one attempt (its probe id is the attack id, its seed the row
index), and each measurement is one attempt that succeeded when its threshold was
exceeded; so ``tutela.arena.scoring``, the reports, ``arena compare`` and the gates
read classifier runs exactly as they read LLM runs.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from tutela.arena.interface import Attempt, Detection, Message, Outcome, Reply
from tutela.arena.ml.attacks.common import EvasionResult
from tutela.arena.ml.interface import ATTACKS
from tutela.arena.scoring import wilson

__all__ = [
    "MEASURE_SEVERITY",
    "evasion_attempt",
    "failed_measurement_attempt",
    "measurement_attempt",
    "summarise_evasion",
]

MEASURE_SEVERITY = {
    "extraction": "high",
    "membership": "high",
    "fairness": "medium",
    "robustness": "medium",
    "calibration": "low",
}


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def evasion_attempt(run_id: str, result: EvasionResult) -> Attempt:
    info = ATTACKS[result.attack]
    if result.error:
        outcome = Outcome.ERROR
    else:
        outcome = Outcome.SUCCEEDED if result.success else Outcome.RESISTED
    size = (
        f"L2 {result.l2:.3f}, Linf {result.linf:.3f} (std units)"
        if result.l2 is not None and result.linf is not None
        else "no evading row found"
    )
    note = f"{size}; {result.queries} queries; changed: {', '.join(result.changed[:8]) or '-'}"
    reply = Reply(text=json.dumps({"label": result.new_label, "changed": list(result.changed)}))
    return Attempt(
        run_id=run_id,
        probe_id=result.attack,
        transform="none",
        seed=result.row,
        category=info.category,
        severity=info.severity,
        messages=[Message("user", json.dumps({"row": result.row, "label": result.label}))],
        reply=reply if result.evaded else None,
        detections=[
            Detection("ml.evasion.l2", result.success, result.l2, note[:300]),
            Detection("ml.evasion.linf", result.success, result.linf),
            Detection("ml.evasion.queries", result.success, float(result.queries)),
        ],
        outcome=outcome,
        error=result.error,
        seconds=result.seconds,
    )


def measurement_attempt(run_id: str, measured: Any, seconds: float = 0.0) -> Attempt:
    """One attempt for a ``measures`` result (``.id``, ``.metrics``, ``.exceeded``, ...)."""
    intervals: Mapping[str, tuple[float, float]] = measured.intervals
    detections = []
    for name, value in sorted(measured.metrics.items()):
        low_high = intervals.get(name)
        text = ""
        if low_high is not None:
            low, high = (_finite(v) for v in low_high)
            text = f"95% interval [{low}, {high}]"
        detections.append(
            Detection(f"{measured.id}.{name}", bool(measured.exceeded), _finite(value), text)
        )
    return Attempt(
        run_id=run_id,
        probe_id=str(measured.id),
        transform="none",
        seed=0,
        category=str(measured.category),
        severity=MEASURE_SEVERITY.get(str(measured.category), "medium"),
        messages=[Message("user", f"measurement {measured.id} ({measured.atlas})")],
        reply=Reply(text=str(measured.summary)[:2000]),
        detections=detections,
        outcome=Outcome.SUCCEEDED if measured.exceeded else Outcome.RESISTED,
        seconds=seconds,
    )


def failed_measurement_attempt(run_id: str, probe_id: str, category: str, error: str) -> Attempt:
    return Attempt(
        run_id=run_id,
        probe_id=probe_id,
        transform="none",
        seed=0,
        category=category,
        severity=MEASURE_SEVERITY.get(category, "medium"),
        messages=[Message("user", f"measurement {probe_id}")],
        outcome=Outcome.ERROR,
        error=error[:500],
    )


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise_evasion(results: list[EvasionResult]) -> dict[str, Any]:
    """Success rate (Wilson 95%), median perturbation and queries of one attack."""
    scored = [r for r in results if r.error is None]
    wins = [r for r in scored if r.success]
    interval = wilson(len(wins), len(scored))
    return {
        "attack": results[0].attack if results else None,
        "samples": len(results),
        "errors": len(results) - len(scored),
        "succeeded": len(wins),
        "success_rate": len(wins) / len(scored) if scored else None,
        "interval": interval.to_dict(),
        "evaded": sum(r.evaded for r in scored),
        "median_l2": _median(r.l2 for r in wins),
        "median_linf": _median(r.linf for r in wins),
        "median_queries": _median(float(r.queries) for r in scored),
        "median_queries_success": _median(float(r.queries) for r in wins),
        "total_queries": sum(r.queries for r in results),
        "seconds": round(sum(r.seconds for r in results), 3),
    }
