"""Monitoring facts: drift checks (``drift.*``) and service canaries (``canary.*``).

Drift is read from ``drift`` evidence (decisions of ``monitor.drift``, stored windows of
``monitor.profile``, late labels of ``monitor.performance``, alerts of ``monitor.alerts``)
on the asset and the assets it is ``deployed_as``. Drift decisions are usually recorded
without a version (they are about live data); one pinned to another version is stale.

Canaries watch services, so for a model they are read from the services its version
``calls`` (plus the asset itself when it is a service), whatever the service's version:
the canary producer keeps one baseline per service and prompt set, not per version.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from tutela.facts.common import as_utc, services_called
from tutela.facts.interface import Fact, FactContext, FactSpec
from tutela.facts.scope import Scope, Seen, scope_of, seen, timing
from tutela.store.models import AssetKind, EvidenceKind

__all__ = ["CanaryFacts", "DriftFacts"]

DRIFT = "monitor.drift"  # tutela.monitor.storage.DRIFT_PRODUCER
PROFILE = "monitor.profile"
PERFORMANCE = "monitor.performance"
ALERTS = "monitor.alerts"  # tutela.monitor.alerts.PRODUCER
CANARY = "monitor.canary"  # tutela.monitor.canary.PRODUCER
RECENT = timedelta(days=30)
_CONCLUSIVE = frozenset({"baseline", "changed", "unchanged"})


def _green(decision: Seen) -> bool:
    return not decision.summary.get("drifted") and not decision.summary.get("drifted_columns")


def _recent(ctx: FactContext, rows: list[Seen]) -> list[Seen]:
    return [r for r in rows if r.at > as_utc(ctx.at) - RECENT]


class DriftFacts:
    """Facts from drift checks on the asset's data."""

    id: ClassVar[str] = "facts.drift"
    namespace: ClassVar[str] = "drift"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("configured", "bool", "Drift monitoring evidence (a window, a decision, a "
                 "performance record or an alert) exists for the asset or its deployment."),
        FactSpec("checks", "int", "Drift decisions recorded in the 30 days before the "
                 "evaluation moment."),
        FactSpec("last_check_at", "timestamp", "When the newest drift decision was recorded."),
        FactSpec("age_days", "double", "Days from the newest drift decision to the evaluation "
                 "moment.", unit="days"),
        FactSpec("green", "bool", "The newest drift decision found no drifted column and no "
                 "dataset drift."),
        FactSpec("drifted_columns", "list", "Columns the newest drift decision found drifted."),
        FactSpec("dataset_drift", "bool", "The newest drift decision declared dataset drift."),
        FactSpec("alerts_open", "int", "Drift alerts fired since the newest drift decision "
                 "that found no drift (all of them when there is none)."),
    )  # fmt: skip

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        rows = seen(ctx, EvidenceKind.DRIFT, [DRIFT, PROFILE, PERFORMANCE, ALERTS])
        if not rows:
            none = "no drift monitoring evidence is recorded for this asset"
            return {"configured": Fact(False, note=none), "checks": Fact(0, note=none)}
        decisions = [r for r in rows if r.producer == DRIFT]
        current = [r for r in decisions if r.current]
        stale = bool(decisions) and not current
        used = current or decisions
        note = "drift was checked only on another version of the asset" if stale else None
        recent = _recent(ctx, used)
        out = {
            "configured": Fact(True, (rows[0].id,)),
            "checks": Fact(len(recent), tuple(r.id for r in recent), stale, note),
        }
        if not used:
            out["checks"] = Fact(0, note="monitored, but no drift decision is recorded yet")
            return out
        last = used[0]
        ids = (last.id,)
        columns = [str(c) for c in last.summary.get("drifted_columns") or []]
        dataset = bool(last.summary.get("drifted"))
        out |= {
            "green": Fact(_green(last), ids, stale, note),
            "drifted_columns": Fact(sorted(columns), ids, stale, note),
            "dataset_drift": Fact(dataset, ids, stale, note),
            "alerts_open": _alerts_open(rows, used, stale),
        }
        return out | timing(ctx, last, "last_check_at", stale=stale, note=note)


def _alerts_open(rows: list[Seen], decisions: list[Seen], stale: bool) -> Fact:
    green = next((d for d in decisions if _green(d)), None)
    alerts = [r for r in rows if r.producer == ALERTS and (stale or r.current)]
    open_ = [a for a in alerts if green is None or a.at > green.at]
    evidence = tuple(a.id for a in open_) + ((green.id,) if green else ())
    return Fact(len(open_), evidence)


class CanaryFacts:
    """Facts from canaries on the services the version calls (or on the service itself)."""

    id: ClassVar[str] = "facts.canary"
    namespace: ClassVar[str] = "canary"
    specs: ClassVar[tuple[FactSpec, ...]] = (
        FactSpec("services", "list", "Service asset ids, called by the version (or the asset "
                 "itself), that have canary runs."),
        FactSpec("baseline", "bool", "Every called service has a canary baseline."),
        FactSpec("changed", "bool", "The newest conclusive canary run of some service found "
                 "its behaviour changed from the baseline."),
        FactSpec("status", "map", "Per service, the status of its newest canary run "
                 "(baseline, unchanged, changed, inconclusive).", value_type="string"),
        FactSpec("checks", "int", "Conclusive canary runs in the 30 days before the "
                 "evaluation moment, over all services."),
        FactSpec("last_check_at", "timestamp", "When the newest conclusive canary run was "
                 "recorded (the stalest service's, when there are several)."),
        FactSpec("age_days", "double", "Days from last_check_at to the evaluation moment.",
                 unit="days"),
    )  # fmt: skip

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        services = services_called(ctx.session, scope_of(ctx).versions)
        if ctx.asset.kind == AssetKind.SERVICE:
            services.add(ctx.asset.id)
        if not services:
            note = "the version calls no service and is not one"
            return {"services": Fact([], note=note), "baseline": Fact(False, note=note)}
        area = Scope(frozenset(), frozenset(services), frozenset(services))
        rows = seen(ctx, EvidenceKind.CANARY, [CANARY], area)
        by_service = {s: [r for r in rows if r.asset_id == s] for s in sorted(services)}
        watched = {s: runs for s, runs in by_service.items() if runs}
        if not watched:
            note = f"no canary run is recorded for {', '.join(sorted(services))}"
            return {"services": Fact([], note=note), "baseline": Fact(False, note=note)}
        return _canary(ctx, by_service, watched)


def _canary(
    ctx: FactContext, by_service: dict[str, list[Seen]], watched: dict[str, list[Seen]]
) -> dict[str, Fact]:
    conclusive = {
        s: [r for r in runs if r.summary.get("status") in _CONCLUSIVE]
        for s, runs in watched.items()
    }
    baselines = {
        s: next((r for r in runs if r.summary.get("role") == "baseline"), None)
        for s, runs in conclusive.items()
    }
    missing = sorted(s for s in by_service if baselines.get(s) is None)
    base_ids = tuple(b.id for b in baselines.values() if b is not None)
    out = {
        "services": Fact(sorted(watched), tuple(runs[0].id for runs in watched.values())),
        "baseline": Fact(
            not missing,
            base_ids,
            note=f"no canary baseline for {', '.join(missing)}" if missing else None,
        ),
        "status": Fact(
            {s: str(runs[0].summary.get("status", "")) for s, runs in watched.items()},
            tuple(runs[0].id for runs in watched.values()),
        ),
    }
    newest = {s: runs[0] for s, runs in conclusive.items() if runs}
    recent = [r for runs in conclusive.values() for r in _recent(ctx, runs)]
    out["checks"] = Fact(len(recent), tuple(r.id for r in recent))
    if not newest:
        return out
    ids = tuple(r.id for r in newest.values())
    stalest = min(newest.values(), key=lambda r: r.at)
    changed = [s for s, r in newest.items() if r.summary.get("status") == "changed"]
    out |= {
        "changed": Fact(
            bool(changed), ids, note=f"changed: {', '.join(changed)}" if changed else None
        ),
    }
    return out | timing(ctx, stalest, "last_check_at")
