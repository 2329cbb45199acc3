"""Alert rules over per-window metrics, alerts as evidence, delivery over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tutela.catalog.evidence import list_evidence
from tutela.errors import InputError
from tutela.ledger.log import iter_entries
from tutela.monitor.alerts import (
    Alert,
    Channel,
    Rule,
    WindowValues,
    deliver,
    evaluate,
    load_rules,
    parse_channels,
    parse_rules,
    record_alerts,
    slack_payload,
)
from tutela.workspace import Workspace


class Hook:
    """A real webhook receiver on 127.0.0.1: /ok answers 200, /fail 500, /slow sleeps 2 s."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.received.append((self.path, body, dict(self.headers)))
                if self.path == "/slow":
                    time.sleep(2.0)
                status = 500 if self.path == "/fail" else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up waiting (the /slow case)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with Hook() as running:
        yield running


RULES = """
rules:
  - name: refusals-up
    metric: llm.refusal_rate
    op: ">"
    threshold: 0.2
    persistence: 2
    window: 1h
  - metric: drift.age.wasserstein
    op: ">="
    threshold: 0.1
    severity: critical
"""


def test_rules_file_round_trip(tmp_path: Path) -> None:
    """YAML rules parse with defaults (name = metric, persistence 1, severity warning)."""
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    first, second = load_rules(path)
    assert (first.name, first.op, first.threshold, first.persistence, first.window) == (
        "refusals-up",
        ">",
        0.2,
        2,
        "1h",
    )
    assert (second.name, second.persistence, second.severity) == (
        "drift.age.wasserstein",
        1,
        "critical",
    )


@pytest.mark.parametrize(
    "rule",
    [
        {"metric": "m", "op": "=>", "threshold": 1},
        {"metric": "m", "threshold": "high"},
        {"metric": "m", "threshold": 1, "persistence": 0},
        {"threshold": 1},
        {"metric": "m", "threshold": 1, "window": "soon"},
        {"metric": "m", "threshold": 1, "x": 1},
        {"metric": "m", "threshold": float("nan")},
    ],
)
def test_bad_rules_are_input_errors(rule: dict[str, Any]) -> None:
    """Unknown operators, non-numeric thresholds, bad persistence or windows are refused."""
    with pytest.raises(InputError):
        parse_rules({"rules": [rule]})


def test_persistence_needs_consecutive_breaches() -> None:
    """A rule with persistence 2 fires only when the newest two windows both breach."""
    rule = Rule("up", "llm.refusal_rate", ">", 0.2, persistence=2)
    assert evaluate([rule], [{"llm.refusal_rate": 0.5}]) == []
    assert (
        evaluate(
            [rule],
            [{"llm.refusal_rate": 0.5}, {"llm.refusal_rate": 0.1}, {"llm.refusal_rate": 0.3}],
        )
        == []
    )
    fired = evaluate(
        [rule], [{"llm.refusal_rate": 0.1}, {"llm.refusal_rate": 0.3}, {"llm.refusal_rate": 0.4}]
    )
    assert len(fired) == 1 and fired[0].windows == ("#1", "#2") and fired[0].value == 0.4
    assert "for 2 consecutive windows" in fired[0].message


def test_missing_values_and_window_sizes() -> None:
    """A gap (missing or NaN) resets persistence; windows of another size are skipped."""
    rule = Rule("up", "m", ">", 1.0, persistence=2, window="1h")
    gap = [
        WindowValues("a", {"m": 2.0}, "1h"),
        WindowValues("b", {"m": float("nan")}, "1h"),
        WindowValues("c", {"m": 3.0}, "1h"),
    ]
    assert evaluate([rule], gap) == []
    mixed = [
        WindowValues("a", {"m": 2.0}, "1h"),
        WindowValues("b", {"m": 0.0}, "1d"),
        WindowValues("c", {"m": 3.0}, "1h"),
    ]
    assert [a.windows for a in evaluate([rule], mixed)] == [("a", "c")]


def test_every_operator() -> None:
    """Each comparison means what it says at the threshold."""
    expected = {">": False, ">=": True, "<": False, "<=": True, "==": True, "!=": False}
    for op, fires in expected.items():
        assert bool(evaluate([Rule("r", "m", op, 1.0)], [{"m": 1.0}])) is fires, op


def _alert(severity: str = "warning") -> Alert:
    return Alert(
        rule="canary.answers",
        metric="canary.p_value",
        severity=severity,
        message="answers changed <on> 2 prompts & more",
        asset="service:chat",
        value=0.001,
        windows=("run-1",),
    )


def test_webhook_and_slack_delivery_over_http(hook: Hook) -> None:
    """The JSON webhook gets the schema'd alert list with headers; Slack gets text and
    blocks with its control characters escaped; severity filters per channel."""
    channels = parse_channels(
        [
            {"kind": "webhook", "url": hook.url + "/ok", "headers": {"X-Token": "t"}},
            {"kind": "slack", "url": hook.url + "/slack"},
            {"kind": "webhook", "url": hook.url + "/critical", "min_severity": "critical"},
            {"kind": "stdout"},
        ]
    )
    results = deliver(channels, [_alert(), _alert("info")])
    assert [(r.ok, r.alerts) for r in results] == [(True, 2), (True, 2), (True, 2)]
    by_path = {path: (body, headers) for path, body, headers in hook.received}
    assert "/critical" not in by_path
    body, headers = by_path["/ok"]
    assert body["schema"] == "monitor.alerts/1" and headers["X-Token"] == "t"
    assert body["alerts"][0]["rule"] == "canary.answers" and body["alerts"][0]["windows"] == [
        "run-1"
    ]
    slack, _ = by_path["/slack"]
    assert slack["text"].startswith("Tutela: 2 alerts")
    assert slack["blocks"][0]["type"] == "header"
    assert "&lt;on&gt;" in slack["blocks"][1]["text"]["text"]
    assert "&amp;" in slack["blocks"][1]["text"]["text"]


def test_failing_and_slow_webhooks_are_reported_not_raised(hook: Hook) -> None:
    """A 500 is retried once then reported; a timeout is reported; neither raises."""
    fail, slow = deliver(
        [Channel("webhook", hook.url + "/fail"), Channel("webhook", hook.url + "/slow", 0.3)],
        [_alert()],
    )
    assert not fail.ok and fail.error == "HTTP 500"
    assert [p for p, _, _ in hook.received].count("/fail") == 2
    assert not slow.ok and "Timeout" in (slow.error or "")


def test_bad_channels_are_input_errors() -> None:
    """A webhook without an http(s) URL or with a silly timeout is refused."""
    for raw in (
        {"kind": "webhook"},
        {"kind": "webhook", "url": "file:///etc/passwd"},
        {"kind": "sms"},
        {"kind": "slack", "url": "http://x", "timeout": 0},
    ):
        with pytest.raises(InputError):
            parse_channels([raw])


def test_slack_payload_is_bounded() -> None:
    """Many alerts still fit Slack's 50-block limit."""
    payload = slack_payload([_alert()] * 80)
    assert len(payload["blocks"]) <= 50


def test_alerts_are_evidence_and_ledger_entries(workspace: Workspace) -> None:
    """Each alert becomes evidence on its asset and a monitor.alert ledger entry."""
    ids = record_alerts(workspace, [_alert()], kind="drift")
    record_alerts(workspace, [Alert(rule="r", metric="m", message="no asset")])
    evidence = list_evidence(workspace, asset_id="service:chat")
    assert [e.id for e in evidence] == ids
    assert evidence[0].kind.value == "drift" and evidence[0].summary["alert"] == "canary.answers"
    with workspace.reader() as session:
        entries = [e.data() for e in iter_entries(session)]
    alerts = [e for e in entries if e["action"] == "monitor.alert"]
    assert len(alerts) == 2
