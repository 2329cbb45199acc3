"""What the asset page shows, read from the services and shaped for the template.

Each section is read on its own: a section whose service fails with a Tutela error shows
that error's one-line message, and the rest of the page still renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from markupsafe import Markup

from tutela.catalog.evidence import list_evidence
from tutela.errors import TutelaError
from tutela.server.dashboard.charts import Series, bar_chart, line_chart
from tutela.server.dashboard.lineage_svg import lineage_svg
from tutela.workspace import Workspace

__all__ = ["Section", "arena_section", "card_section", "compliance_section", "drift_section",
           "findings_section", "lineage_section", "read"]  # fmt: skip

T = TypeVar("T")

_DRIFT_PRODUCER = "monitor.drift"  # tutela.monitor.storage.DRIFT_PRODUCER, by value:
# the server front does not import a producer's internals to read its evidence.
_MAX_DRIFT_COLUMNS = 6
_HISTORY = 50


@dataclass
class Section:
    data: Any = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read(work: Callable[[], T]) -> Section:
    try:
        return Section(work())
    except TutelaError as exc:
        return Section(error=exc.diagnostics())


def lineage_section(ws: Workspace, asset_id: str) -> Section:
    from tutela.lineage.graph import upstream

    def work() -> dict[str, Any]:
        graph = upstream(ws, asset_id)
        return {
            "svg": lineage_svg(graph) if graph.nodes else None,
            "nodes": len(graph.nodes),
            "runs": graph.runs,
            "truncated": graph.truncated,
        }

    return read(work)


def findings_section(ws: Workspace, asset_id: str) -> Section:
    def work() -> list[dict[str, Any]]:
        scans = list_evidence(ws, asset_id=asset_id, kind="scan", limit=20)
        return [
            {
                "id": ev.id,
                "at": ev.created_at,
                "digest": ev.version_digest,
                "artifact": ev.payload.get("artifact") or ev.payload.get("path"),
                "verdict": ev.summary.get("verdict"),
                "max_severity": ev.summary.get("max_severity"),
                "findings": [f for f in ev.payload.get("findings", []) if isinstance(f, dict)],
            }
            for ev in scans
        ]

    return read(work)


def _category_rates(summary: dict[str, Any]) -> dict[str, float]:
    return {
        key.removeprefix("asr."): float(value)
        for key, value in sorted(summary.items())
        if key.startswith("asr.") and isinstance(value, int | float)
    }


def arena_section(ws: Workspace, asset_id: str) -> Section:
    def work() -> list[dict[str, Any]]:
        runs = list_evidence(ws, asset_id=asset_id, kind="evaluation", limit=10)
        out = []
        for ev in runs:
            rates = _category_rates(ev.summary)
            title = f"Attack success rate by category ({ev.created_at:%Y-%m-%d %H:%M})"
            out.append(
                {
                    "id": ev.id,
                    "at": ev.created_at,
                    "producer": ev.producer,
                    "digest": ev.version_digest,
                    "asr": ev.summary.get("asr"),
                    "risk": ev.summary.get("risk"),
                    "attempts": ev.summary.get("attempts"),
                    "errors": ev.summary.get("errors"),
                    "chart": bar_chart(rates, title=title) if rates else None,
                }
            )
        return out

    return read(work)


def _drift_charts(checks: list[Any]) -> list[Markup]:
    # Numbered: two checks within one second still get their own place on the axis.
    labels = [f"{i}: {ev.created_at:%m-%d %H:%M}" for i, ev in enumerate(checks, 1)]
    pairs = list(zip(labels, checks, strict=True))
    share = Series(
        "share of columns drifted",
        [(x, float(ev.summary.get("drifted_share") or 0.0)) for x, ev in pairs],
    )
    effects: dict[str, list[tuple[str, float]]] = {}
    for x, ev in pairs:
        for column in ev.payload.get("columns", []):
            if isinstance(column, dict) and isinstance(column.get("effect"), int | float):
                name = str(column.get("column"))
                effects.setdefault(name, []).append((x, float(column["effect"])))
    top = sorted(effects, key=lambda c: -max(v for _, v in effects[c]))[:_MAX_DRIFT_COLUMNS]
    charts = [line_chart([share], title="Dataset drift over time", y_label="share")]
    if top:
        charts.append(
            line_chart(
                [Series(c, effects[c]) for c in top],
                title=f"Per-column effect size (top {len(top)})",
                y_label="effect",
            )
        )
    return charts


def drift_section(ws: Workspace, asset_id: str) -> Section:
    def work() -> dict[str, Any]:
        found = list_evidence(
            ws, asset_id=asset_id, kind="drift", producer=_DRIFT_PRODUCER, limit=_HISTORY
        )
        checks = sorted(found, key=lambda ev: (ev.created_at, ev.id))
        latest = checks[-1] if checks else None
        return {
            "checks": len(checks),
            "charts": _drift_charts(checks) if checks else [],
            "latest": latest,
            "windows": len(list_evidence(ws, asset_id=asset_id, kind="drift", limit=_HISTORY)),
        }

    return read(work)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_shown(v)}" for k, v in value.items()) or "—"
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def card_section(ws: Workspace, asset_id: str) -> Section:
    from tutela.cards.build import build_card

    def work() -> dict[str, Any]:
        card = build_card(ws, asset_id)
        sections = [
            {
                "title": s.title,
                "fields": [
                    {"name": k, "value": _shown(f.value), "provenance": f.provenance}
                    for k, f in s.fields.items()
                ],
            }
            for s in card.sections
        ]
        missing = sum(
            1 for s in card.sections for f in s.fields.values() if f.provenance == "missing"
        )
        return {"type": card.card_type, "sections": sections, "missing": missing}

    return read(work)


def compliance_section(ws: Workspace, asset_id: str) -> Section:
    try:
        from tutela.cards.comply import assess
    except ImportError:
        return Section(error="the compliance crosswalk is not installed")

    def work() -> dict[str, Any]:
        report = assess(ws, asset_id, framework="eu-ai-act")
        gaps = [i for i in report.items if i.status != "satisfied"]
        return {"report": report, "gaps": gaps}

    return read(work)
