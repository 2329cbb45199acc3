"""Alert rules over per-window metric values, alerts as evidence, and their delivery.

A rule names a metric, a comparison and a threshold; it fires when the comparison holds in
``persistence`` consecutive windows (the newest included), so one noisy window does not
page anyone. Metric values arrive as ``dict[str, float]`` per window (the shape the drift,
LLM-behaviour and canary checks all produce). Alerts are recorded as evidence (and so in the
ledger) and delivered to stdout (rendered by the CLI), a JSON webhook or a Slack-compatible
webhook (``text`` plus Block Kit ``blocks``).
"""

from __future__ import annotations

import math
import operator
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tutela.errors import InputError, LimitExceeded, TutelaError

__all__ = [
    "OPERATORS",
    "PRODUCER",
    "Alert",
    "Channel",
    "Check",
    "CheckOutcome",
    "Delivery",
    "DeliveryError",
    "Rule",
    "WindowValues",
    "deliver",
    "evaluate",
    "load_rules",
    "parse_channels",
    "parse_rules",
    "record_alerts",
    "slack_payload",
    "webhook_payload",
]

PRODUCER = "monitor.alerts"
PAYLOAD_VERSION = 1
MAX_RULES_BYTES = 1024 * 1024
MAX_RULES = 1000
SEVERITIES = ("info", "warning", "critical")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")
_WINDOW = re.compile(r"^(?:\d+(?:s|m|h|d)|\d+(?: rows)?)$")


class DeliveryError(TutelaError):
    """An alert channel could not be reached or refused the alert."""

    code = "delivery"


@dataclass(frozen=True, slots=True)
class Rule:
    """``metric op threshold`` held for ``persistence`` consecutive windows.

    ``window`` (``"1h"``, ``"15m"``, ``"1000 rows"``) selects the windows the rule reads: a
    window labelled with another size is skipped; unlabelled windows always count. ``asset``
    restricts the rule to one asset's series.
    """

    name: str
    metric: str
    op: str
    threshold: float
    persistence: int = 1
    window: str | None = None
    severity: str = "warning"
    asset: str | None = None
    description: str = ""

    def breached(self, value: float | None) -> bool:
        # A missing or NaN value is not a breach: a gap resets the persistence count.
        if value is None or not math.isfinite(value):
            return False
        return OPERATORS[self.op](value, self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "persistence": self.persistence,
            "window": self.window,
            "severity": self.severity,
            "asset": self.asset,
        }


@dataclass(frozen=True, slots=True)
class WindowValues:
    """One window's metric values; ``id`` names it (a time range, a run id, a count)."""

    id: str
    values: Mapping[str, float]
    size: str | None = None
    asset: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """A fired rule (or a check's own decision, such as a canary's detected change)."""

    rule: str
    metric: str
    message: str
    severity: str = "warning"
    asset: str | None = None
    value: float | None = None
    threshold: float | None = None
    op: str | None = None
    windows: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    fired_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "metric": self.metric,
            "message": self.message,
            "severity": self.severity,
            "asset": self.asset,
            "value": self.value,
            "threshold": self.threshold,
            "op": self.op,
            "windows": list(self.windows),
            "details": dict(self.details),
            "fired_at": self.fired_at,
        }


# --- rules -------------------------------------------------------------------------------


def _rule(raw: Any, index: int, subject: str) -> Rule:
    where = f"{subject}: rules[{index}]"
    if not isinstance(raw, dict):
        raise InputError("a rule must be a mapping", subject=where)
    known = {
        "name",
        "metric",
        "op",
        "threshold",
        "persistence",
        "window",
        "severity",
        "asset",
        "description",
    }
    unknown = set(raw) - known
    if unknown:
        raise InputError(
            f"unknown keys: {', '.join(sorted(map(str, unknown)))}",
            subject=where,
            expected=", ".join(sorted(known)),
        )
    metric = raw.get("metric")
    if not isinstance(metric, str) or not _NAME.match(metric):
        raise InputError("a rule needs a metric name", subject=where, found=repr(metric))
    name = raw.get("name", metric)
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError("invalid rule name", subject=where, found=repr(name))
    op = raw.get("op", ">")
    if op not in OPERATORS:
        raise InputError(
            "unknown comparison", subject=where, expected=" ".join(OPERATORS), found=repr(op)
        )
    threshold = raw.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InputError("a rule needs a numeric threshold", subject=where, found=repr(threshold))
    if not math.isfinite(threshold):
        raise InputError("the threshold must be finite", subject=where, found=repr(threshold))
    persistence = raw.get("persistence", 1)
    if (
        isinstance(persistence, bool)
        or not isinstance(persistence, int)
        or not (1 <= persistence <= 1000)
    ):
        raise InputError(
            "persistence must be a whole number of windows from 1 to 1000",
            subject=where,
            found=repr(persistence),
        )
    window = raw.get("window")
    if window is not None and (not isinstance(window, str | int) or not _WINDOW.match(str(window))):
        raise InputError(
            "invalid window",
            subject=where,
            expected="e.g. 15m, 1h, 1d, 1000 rows",
            found=repr(window),
        )
    severity = raw.get("severity", "warning")
    if severity not in SEVERITIES:
        raise InputError(
            "unknown severity", subject=where, expected=", ".join(SEVERITIES), found=repr(severity)
        )
    asset = raw.get("asset")
    if asset is not None and not isinstance(asset, str):
        raise InputError("asset must be an asset id string", subject=where)
    return Rule(
        name=name,
        metric=metric,
        op=op,
        threshold=float(threshold),
        persistence=persistence,
        window=None if window is None else str(window),
        severity=severity,
        asset=asset,
        description=str(raw.get("description", ""))[:500],
    )


def parse_rules(data: Any, subject: str = "rules") -> list[Rule]:
    """Rules from a parsed YAML document: ``{"rules": [...]}`` or a bare list."""
    items = data.get("rules", []) if isinstance(data, dict) else data
    if items is None:
        items = []
    if not isinstance(items, list):
        raise InputError("'rules' must be a list", subject=subject)
    if len(items) > MAX_RULES:
        raise LimitExceeded(
            "too many rules",
            subject=subject,
            expected=f"at most {MAX_RULES}",
            found=str(len(items)),
        )
    rules = [_rule(raw, i, subject) for i, raw in enumerate(items)]
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"duplicate rule names: {', '.join(dupes)}", subject=subject)
    return rules


def read_yaml(path: Path, what: str) -> Any:
    """A small YAML file, parsed safely, with a size limit and one-line errors."""
    import yaml

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the {what}", subject=str(path), found=exc.strerror) from None
    if size > MAX_RULES_BYTES:
        raise LimitExceeded(
            f"the {what} is too large",
            subject=str(path),
            expected=f"at most {MAX_RULES_BYTES} bytes",
            found=str(size),
        )
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"the {what} is not valid YAML", subject=str(path), found=first) from None


def load_rules(path: Path) -> list[Rule]:
    return parse_rules(read_yaml(path, "rules file"), str(path))


# --- evaluation ----------------------------------------------------------------------------


def _as_windows(series: Sequence[WindowValues | Mapping[str, float]]) -> list[WindowValues]:
    out: list[WindowValues] = []
    for i, item in enumerate(series):
        out.append(item if isinstance(item, WindowValues) else WindowValues(f"#{i}", dict(item)))
    return out


def evaluate(
    rules: Sequence[Rule], series: Sequence[WindowValues | Mapping[str, float]]
) -> list[Alert]:
    """Alerts for rules breached in the newest ``persistence`` consecutive windows.

    ``series`` is ordered oldest to newest; a plain ``dict[str, float]`` is a window named
    by its position. A rule fires at most once per evaluation, naming the windows involved.
    """
    windows = _as_windows(series)
    alerts: list[Alert] = []
    for rule in rules:
        relevant = [
            w
            for w in windows
            if (rule.window is None or w.size is None or w.size == rule.window)
            and (rule.asset is None or w.asset is None or w.asset == rule.asset)
        ]
        recent = relevant[-rule.persistence :]
        if len(recent) < rule.persistence:
            continue
        if not all(rule.breached(w.values.get(rule.metric)) for w in recent):
            continue
        latest = recent[-1]
        value = float(latest.values[rule.metric])
        streak = "" if rule.persistence == 1 else f" for {rule.persistence} consecutive windows"
        alerts.append(
            Alert(
                rule=rule.name,
                metric=rule.metric,
                message=f"{rule.metric} = {value:.4g} {rule.op} {rule.threshold:g}{streak}",
                severity=rule.severity,
                asset=latest.asset or rule.asset,
                value=value,
                threshold=rule.threshold,
                op=rule.op,
                windows=tuple(w.id for w in recent),
                details={
                    "values": [w.values.get(rule.metric) for w in recent],
                    "window": rule.window,
                },
            )
        )
    return alerts


# --- checks (what `tutela monitor watch` runs) ---------------------------------------------


@dataclass(slots=True)
class CheckOutcome:
    """What one check found in one cycle: its metrics, its own alerts, its evidence."""

    check: str
    asset: str | None
    metrics: dict[str, float]
    alerts: list[Alert] = field(default_factory=list)
    evidence_id: str | None = None
    status: str = "ok"  # ok | changed | baseline | inconclusive | error
    details: dict[str, Any] = field(default_factory=dict)
    history: list[WindowValues] = field(default_factory=list)  # earlier windows, oldest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "asset": self.asset,
            "status": self.status,
            "metrics": self.metrics,
            "alerts": [a.to_dict() for a in self.alerts],
            "evidence": self.evidence_id,
            "details": self.details,
        }


class Check(Protocol):
    """A scheduled check: canaries today; drift checks plug in the same way."""

    name: str

    def run(self, workspace: Any) -> CheckOutcome: ...


# --- recording -----------------------------------------------------------------------------


def record_alerts(ws: Any, alerts: Sequence[Alert], *, kind: str = "drift") -> list[str]:
    """Store each alert as evidence on its asset (kind ``canary`` or ``drift``), in the ledger.

    Alerts without an asset are recorded in the ledger only.
    """
    from tutela.catalog.assets import ensure_asset_in
    from tutela.catalog.evidence import record_evidence_in
    from tutela.version import tutela_version

    ids: list[str] = []
    if not alerts:
        return ids
    with ws.transaction() as tx:
        for alert in alerts:
            body = alert.to_dict()
            if alert.asset is None:
                tx.record("monitor.alert", "monitor", body)
                continue
            ensure_asset_in(
                tx, alert.asset, description="Monitored by tutela monitor", tags=["source:monitor"]
            )
            evidence = record_evidence_in(
                tx,
                asset_id=alert.asset,
                kind=kind,
                producer=PRODUCER,
                producer_version=tutela_version(),
                payload={"schema": f"{PRODUCER}/{PAYLOAD_VERSION}", "alert": body},
                summary={
                    "alert": alert.rule,
                    "metric": alert.metric,
                    "severity": alert.severity,
                    "value": alert.value,
                },
            )
            tx.record("monitor.alert", alert.asset, {**body, "evidence": evidence.id})
            ids.append(evidence.id)
    return ids


# --- delivery ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Channel:
    """Where alerts go: ``stdout``, ``webhook`` (JSON) or ``slack`` (Slack-compatible)."""

    kind: str
    url: str | None = None
    timeout: float = 5.0
    headers: Mapping[str, str] = field(default_factory=dict)
    min_severity: str = "info"


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    ok: bool
    alerts: int
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ok": self.ok,
            "alerts": self.alerts,
            "status": self.status,
            "error": self.error,
        }


def parse_channels(data: Any, subject: str = "deliver") -> list[Channel]:
    """Channels from ``deliver: [{kind: webhook, url: ..., timeout: 5}, ...]``."""
    if data is None:
        return [Channel("stdout")]
    if not isinstance(data, list):
        raise InputError("'deliver' must be a list of channels", subject=subject)
    channels: list[Channel] = []
    for i, raw in enumerate(data):
        where = f"{subject}[{i}]"
        if not isinstance(raw, dict):
            raise InputError("a channel must be a mapping", subject=where)
        kind = raw.get("kind")
        if kind not in ("stdout", "webhook", "slack"):
            raise InputError(
                "unknown channel kind",
                subject=where,
                expected="stdout, webhook or slack",
                found=repr(kind),
            )
        url = raw.get("url")
        if kind != "stdout" and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            raise InputError("a webhook channel needs an http(s) url", subject=where)
        timeout = raw.get("timeout", 5.0)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not (0 < timeout <= 120)
        ):
            raise InputError("timeout must be 0-120 seconds", subject=where, found=repr(timeout))
        headers = raw.get("headers") or {}
        if not isinstance(headers, dict):
            raise InputError("headers must be a mapping", subject=where)
        severity = raw.get("min_severity", "info")
        if severity not in SEVERITIES:
            raise InputError("unknown min_severity", subject=where, expected=", ".join(SEVERITIES))
        channels.append(
            Channel(
                kind, url, float(timeout), {str(k): str(v) for k, v in headers.items()}, severity
            )
        )
    return channels


def webhook_payload(alerts: Sequence[Alert]) -> dict[str, Any]:
    """The JSON webhook body (schema ``monitor.alerts/1``)."""
    return {
        "schema": f"{PRODUCER}/{PAYLOAD_VERSION}",
        "source": "tutela",
        "sent_at": datetime.now(UTC).isoformat(),
        "alerts": [a.to_dict() for a in alerts],
    }


_EMOJI = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


def _mrkdwn(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alerts: Sequence[Alert]) -> dict[str, Any]:
    """A Slack incoming-webhook body: a plain ``text`` fallback plus Block Kit ``blocks``."""
    title = f"Tutela: {len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}}
    ]
    for alert in alerts[:45]:  # Slack accepts at most 50 blocks per message
        where = f" on `{_mrkdwn(alert.asset)}`" if alert.asset else ""
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{_EMOJI.get(alert.severity, '')} *{_mrkdwn(alert.rule)}*{where}\n"
                    f"{_mrkdwn(alert.message)}"[:3000],
                },
            }
        )
    if len(alerts) > 45:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"and {len(alerts) - 45} more"}],
            }
        )
    lines = [f"[{a.severity}] {a.rule}: {a.message}" for a in alerts]
    return {"text": title + "\n" + "\n".join(lines)[:3500], "blocks": blocks}


def _post(channel: Channel, body: dict[str, Any], count: int) -> Delivery:
    import httpx

    name = f"{channel.kind} {channel.url}"
    last = "no attempt"
    for attempt in range(2):  # one retry for a timeout, a dropped connection or a 5xx
        try:
            response = httpx.post(
                str(channel.url),
                json=body,
                headers=dict(channel.headers),
                timeout=channel.timeout,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"[:300]
        else:
            if response.status_code < 300:
                return Delivery(name, True, count, response.status_code)
            last = f"HTTP {response.status_code}"
            if response.status_code < 500:
                return Delivery(name, False, count, response.status_code, last)
        if attempt == 0:
            time.sleep(0.2)
    return Delivery(name, False, count, None, last)


def deliver(channels: Sequence[Channel], alerts: Sequence[Alert]) -> list[Delivery]:
    """Send alerts to every channel; a failing channel is reported, never raised.

    ``stdout`` is only acknowledged here: library code never prints, the CLI renders it.
    """
    results: list[Delivery] = []
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    for channel in channels:
        chosen = [a for a in alerts if rank.get(a.severity, 1) >= rank[channel.min_severity]]
        if not chosen:
            continue
        if channel.kind == "stdout":
            results.append(Delivery("stdout", True, len(chosen)))
        elif channel.kind == "webhook":
            results.append(_post(channel, webhook_payload(chosen), len(chosen)))
        else:
            results.append(_post(channel, slack_payload(chosen), len(chosen)))
    return results
