"""`tutela monitor watch`: the watch file, and one cycle of checks, rules and delivery.

A watch file (YAML) lists checks (``canaries``, and ``drift`` entries described in
``tutela.monitor.drift_watch``; other check kinds register through ``extra_checks``), alert
rules over the checks' metrics, and delivery channels::

    canaries:
      - service: chat.yaml        # an Arena target config, relative to this file
        samples: 10
        prompts: prompts.yaml     # optional; the shipped set otherwise
    rules:
      - {name: slow, metric: canary.latency_p50, op: ">", threshold: 2, persistence: 2}
    deliver:
      - {kind: stdout}
      - {kind: webhook, url: "http://127.0.0.1:9000/alerts", timeout: 5}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.errors import InputError
from tutela.monitor.alerts import (
    Alert,
    Channel,
    Check,
    CheckOutcome,
    Delivery,
    Rule,
    deliver,
    evaluate,
    parse_channels,
    parse_rules,
    read_yaml,
    record_alerts,
)

__all__ = ["CycleResult", "WatchPlan", "load_watch", "run_cycle"]

MAX_CHECKS = 100


@dataclass(slots=True)
class WatchPlan:
    checks: list[Check]
    rules: list[Rule]
    channels: list[Channel]
    every: float | None = None


@dataclass(slots=True)
class CycleResult:
    outcomes: list[CheckOutcome]
    alerts: list[Alert]
    deliveries: list[Delivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if any(a.severity != "info" for a in self.alerts):
            return 1
        if self.errors or any(o.status in ("inconclusive", "error") for o in self.outcomes):
            return 4
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": [o.to_dict() for o in self.outcomes],
            "alerts": [a.to_dict() for a in self.alerts],
            "deliveries": [d.to_dict() for d in self.deliveries],
            "errors": self.errors,
        }


def _canary(raw: Any, i: int, base: Path) -> Check:
    from tutela.monitor.canary import CanaryCheck, load_service_config
    from tutela.monitor.canary_prompts import load_prompt_set

    where = f"canaries[{i}]"
    if not isinstance(raw, dict):
        raise InputError("a canary must be a mapping", subject=where)
    service = raw.get("service")
    if isinstance(service, str):
        config = load_service_config(base / service)
    elif isinstance(service, dict):
        config = dict(service)
    else:
        raise InputError(
            "a canary needs 'service': a config file or an inline target", subject=where
        )
    prompts = raw.get("prompts")
    samples, alpha = raw.get("samples", 10), raw.get("alpha", 0.01)
    if isinstance(samples, bool) or not isinstance(samples, int):
        raise InputError("samples must be an integer", subject=where)
    if isinstance(alpha, bool) or not isinstance(alpha, float | int):
        raise InputError("alpha must be a number", subject=where)
    return CanaryCheck(
        name=str(raw.get("name", f"canary:{config.get('id')}")),
        config=config,
        prompts=load_prompt_set(base / prompts) if isinstance(prompts, str) else None,
        samples=samples,
        alpha=float(alpha),
        kernel=str(raw.get("kernel", "hamming")),
        timeout=float(raw.get("timeout", 30.0)),
    )


def load_watch(path: Path, extra_checks: Sequence[Check] = ()) -> WatchPlan:
    """Parse a watch file; relative paths inside it are read from its folder."""
    data = read_yaml(path, "watch file")
    if not isinstance(data, dict):
        raise InputError(
            "the watch file must be a mapping",
            subject=str(path),
            expected="canaries, rules, deliver",
        )
    unknown = set(data) - {"canaries", "drift", "rules", "deliver", "every"}
    if unknown:
        raise InputError(
            f"unknown keys: {', '.join(sorted(map(str, unknown)))}",
            subject=str(path),
            expected="canaries, drift, rules, deliver, every",
        )
    canaries = data.get("canaries") or []
    if not isinstance(canaries, list) or len(canaries) > MAX_CHECKS:
        raise InputError(f"'canaries' must be a list of at most {MAX_CHECKS}", subject=str(path))
    checks: list[Check] = [_canary(raw, i, path.parent) for i, raw in enumerate(canaries)]
    drift = data.get("drift") or []
    if not isinstance(drift, list) or len(drift) > MAX_CHECKS:
        raise InputError(f"'drift' must be a list of at most {MAX_CHECKS}", subject=str(path))
    if drift:
        from tutela.monitor.drift_watch import parse_drift_check

        checks.extend(parse_drift_check(raw, i, path.parent) for i, raw in enumerate(drift))
    checks.extend(extra_checks)
    rules = data.get("rules")
    if isinstance(rules, str):
        rules = read_yaml(path.parent / rules, "rules file")
    every = data.get("every")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int | float)):
        raise InputError("'every' must be a number of seconds", subject=str(path))
    return WatchPlan(
        checks,
        parse_rules(rules or [], str(path)),
        parse_channels(data.get("deliver"), f"{path}: deliver"),
        None if every is None else float(every),
    )


def run_cycle(ws: Any, plan: WatchPlan) -> CycleResult:
    """Run every check once, evaluate the rules on each check's series, record, deliver."""
    from tutela.errors import TutelaError

    outcomes: list[CheckOutcome] = []
    alerts: list[Alert] = []
    errors: list[str] = []
    for check in plan.checks:
        try:
            outcome = check.run(ws)
        except TutelaError as exc:  # one failing service must not stop the others
            errors.append(f"{check.name}: {exc.diagnostics()}")
            outcomes.append(
                CheckOutcome(
                    check.name, None, {}, status="error", details={"error": exc.diagnostics()}
                )
            )
            continue
        outcomes.append(outcome)
        alerts.extend(outcome.alerts)  # the check's own decisions are already recorded
        fired = evaluate(plan.rules, outcome.history)
        kind = str(getattr(check, "evidence_kind", "drift"))
        record_alerts(ws, fired, kind=kind)
        outcome.alerts.extend(fired)
        alerts.extend(fired)
    return CycleResult(outcomes, alerts, deliver(plan.channels, alerts), errors)
