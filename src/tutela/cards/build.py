"""Build an AI Card from the store: facts, a few evidence details, and declared fields.

The card is a pure function of the store at a ledger position: ``at`` (the moment facts
are evaluated against, e.g. for waiver expiry) defaults to the time of the last ledger
entry, not the wall clock, so two builds with nothing recorded in between are equal.
Only ``generated_at`` reads the clock, and it is left out of the canonical form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.cards.declared import Declared, load_declared_sources
from tutela.cards.model import (
    FIELD_LABELS,
    SECTION_TITLES,
    AICard,
    CardField,
    CardSection,
    CardSubject,
    CardType,
)
from tutela.errors import TutelaError
from tutela.facts.collect import FactSheet, collect_facts
from tutela.facts.interface import Fact
from tutela.ledger.canonical import plain
from tutela.store.models import Evidence, EvidenceKind, LedgerEntry, Version
from tutela.utc import as_utc
from tutela.workspace import Workspace

__all__ = ["build_card", "ledger_moment"]

ARENA_PRODUCER = "arena.llm"
GATE_PRODUCER = "policy.gate"
SCAN_PRODUCER = "scan"


@dataclass(frozen=True)
class _Ctx:
    sheet: FactSheet
    declared: dict[str, Declared]
    # evidence id -> version id of every evidence row a fact cites (None: asset-level)
    cited: dict[str, str | None]
    version_id: str | None
    versions: list[dict[str, Any]]
    arena: CardField
    gate: CardField
    latest_scan: CardField
    upstream: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    used_by: list[dict[str, Any]]


def ledger_moment(session: Session) -> tuple[int, datetime | None]:
    """(ledger size, time of the last entry): the position a card is built at."""
    row = session.execute(
        select(LedgerEntry.seq, LedgerEntry.body).order_by(LedgerEntry.seq.desc()).limit(1)
    ).first()
    if row is None:
        return 0, None
    body = json.loads(bytes(row[1]))
    when = datetime.fromisoformat(str(body["time"]).replace("Z", "+00:00"))
    return int(row[0]), when


# -- fields -----------------------------------------------------------------------------


def _from_fact(ctx: _Ctx, name: str, *, transform: Callable[[Any], Any] | None = None) -> CardField:
    fact: Fact | None = ctx.sheet.get(name)
    if fact is None:
        namespace = name.partition(".")[0]
        reason = ctx.sheet.errors.get(namespace)
        return CardField(note=reason or f"no fact {name} is known")
    value = plain(fact.value)
    if transform is not None and value is not None:
        value = transform(value)
    evidence = list(fact.evidence)
    if value is None:
        provenance = "missing"
    elif fact.stale:
        provenance = "stale"
    elif evidence and all(ctx.cited.get(e) is not None for e in evidence):
        provenance = "verified"
    else:
        provenance = "inferred"
    return CardField(value=value, provenance=provenance, evidence=evidence, note=fact.note)


def _declared(ctx: _Ctx, key: str) -> CardField:
    found = ctx.declared.get(key)
    if found is None:
        return CardField(note=f"not declared; add {key} to the card file or `tutela card set`")
    return CardField(value=found.value, provenance="declared", evidence=[found.source])


def _declared_or(ctx: _Ctx, key: str, fallback: CardField) -> CardField:
    return _declared(ctx, key) if key in ctx.declared else fallback


def _inferred(value: Any, note: str | None = None) -> CardField:
    if value is None or value == []:
        return CardField(value=None if value is None else [], note=note)
    return CardField(value=plain(value), provenance="inferred", note=note)


def _section(section_id: str, fields: dict[str, CardField]) -> CardSection:
    labelled = {
        key: field.model_copy(update={"label": FIELD_LABELS.get(f"{section_id}.{key}", key)})
        for key, field in fields.items()
    }
    return CardSection(id=section_id, title=SECTION_TITLES[section_id], fields=labelled)


# -- sections ---------------------------------------------------------------------------


def _identity(ctx: _Ctx) -> CardSection:
    asset = ctx.sheet.asset
    return _section(
        "identity",
        {
            "asset_id": _inferred(asset.id),
            "kind": _inferred(asset.kind.value),
            "name": _inferred(asset.name),
            "owner": _declared_or(
                ctx, "owner", _inferred(asset.owner, None if asset.owner else "no owner set")
            ),
            "description": _inferred(asset.description),
            "tags": _inferred(sorted(asset.tags)),
            "contact": _declared(ctx, "contact"),
        },
    )


def _intended_use(ctx: _Ctx) -> CardSection:
    keys = ("intended_use", "out_of_scope_use", "instructions_for_use", "human_oversight")
    return _section("intended_use", {k: _declared(ctx, k) for k in keys})


def _risk(ctx: _Ctx) -> CardSection:
    tier = ctx.sheet.asset.risk_tier.value
    return _section(
        "risk",
        {
            "risk_tier": CardField(
                value=tier,
                provenance="inferred",
                note="set with `tutela asset` (unassessed until someone decides)"
                if tier == "unassessed"
                else None,
            ),
            "risk_management": _declared(ctx, "risk_management"),
        },
    )


def _versions(ctx: _Ctx) -> CardSection:
    current = ctx.sheet.version
    return _section(
        "versions",
        {
            "current": _inferred(current.digest if current else None, "no version recorded"),
            "count": _inferred(len(ctx.versions)),
            "history": _inferred(ctx.versions),
        },
    )


def _lineage(ctx: _Ctx) -> CardSection:
    return _section(
        "lineage",
        {
            "known": _from_fact(ctx, "lineage.known"),
            "complete": _from_fact(ctx, "lineage.complete"),
            "sources": _from_fact(ctx, "lineage.sources"),
            "runs": _inferred(ctx.runs) if ctx.runs else _from_fact(ctx, "lineage.runs"),
            "gaps": _from_fact(ctx, "lineage.gaps"),
            "upstream": _inferred(ctx.upstream, "no recorded upstream versions"),
        },
    )


def _training_data(ctx: _Ctx) -> CardSection:
    datasets = [u for u in ctx.upstream if u["kind"] == "dataset"]
    return _section(
        "training_data",
        {
            "description": _declared(ctx, "training_data_description"),
            "datasets": _inferred(datasets, "no dataset linked in the lineage"),
            "checks": _from_fact(ctx, "data.max_severity")
            if ctx.sheet.get("data.checked") is None
            else _data_checks(ctx),
        },
    )


def _data_checks(ctx: _Ctx) -> CardField:
    parts = {n: ctx.sheet.get(f"data.{n}") for n in ("checked", "max_severity", "findings")}
    value = {n: plain(f.value) for n, f in parts.items() if f is not None}
    checked = _from_fact(ctx, "data.checked")
    evidence = sorted({e for f in parts.values() if f is not None for e in f.evidence})
    return checked.model_copy(update={"value": value, "evidence": evidence})


def _evaluation(ctx: _Ctx, *, ml: bool) -> CardSection:
    fields = {
        "arena_evaluated": _from_fact(ctx, "arena.evaluated"),
        "arena_suites": _from_fact(ctx, "arena.suites"),
        "arena_scores": ctx.arena,
        "arena_attempts": _from_fact(ctx, "arena.attempts"),
        "arena_last_run_at": _from_fact(ctx, "arena.last_run_at"),
        "arena_version_evaluated": _from_fact(ctx, "arena.version_evaluated"),
    }
    if ml:
        fields |= {
            "ml_evaluated": _from_fact(ctx, "arena_ml.evaluated"),
            "ml_evasion_rate": _from_fact(ctx, "arena_ml.evasion_rate"),
            "ml_measures": _from_fact(ctx, "arena_ml.measures"),
            "ml_last_run_at": _from_fact(ctx, "arena_ml.last_run_at"),
            "performance_metrics": _declared(ctx, "performance_metrics"),
            "accuracy_metrics": _declared(ctx, "accuracy_metrics"),
        }
    return _section("evaluation", fields)


def _supply_chain(ctx: _Ctx) -> CardSection:
    names = ("scanned", "max_severity", "open_findings", "waived_findings", "last_scan_at")
    fields = {n: _from_fact(ctx, f"scan.{n}") for n in names}
    fields["artifacts"] = _from_fact(ctx, "scan.artifacts")
    fields["latest_scan"] = ctx.latest_scan
    fields["cybersecurity_measures"] = _declared(ctx, "cybersecurity_measures")
    return _section("supply_chain", fields)


def _monitoring(ctx: _Ctx) -> CardSection:
    fields = {
        "drift_configured": _from_fact(ctx, "drift.configured"),
        "drift_checks": _from_fact(ctx, "drift.checks"),
        "drift_last_check_at": _from_fact(ctx, "drift.last_check_at"),
        "drift_green": _from_fact(ctx, "drift.green"),
        "drifted_columns": _from_fact(ctx, "drift.drifted_columns"),
        "alerts_open": _from_fact(ctx, "drift.alerts_open"),
        "canary_baseline": _from_fact(ctx, "canary.baseline"),
        "canary_changed": _from_fact(ctx, "canary.changed"),
        "canary_last_check_at": _from_fact(ctx, "canary.last_check_at"),
        "logging": _declared(ctx, "logging"),
    }
    return _section("monitoring", fields)


def _services(ctx: _Ctx) -> CardSection:
    names = ("called", "without_canary", "without_arena", "without_approval", "governed")
    return _section("services", {n: _from_fact(ctx, f"services.{n}") for n in names})


def _governance(ctx: _Ctx) -> CardSection:
    return _section(
        "governance",
        {
            "gate_decision": ctx.gate,
            "approvals": _from_fact(ctx, "approvals.count"),
            "approvers": _from_fact(ctx, "approvals.approvers"),
            "approval_roles": _from_fact(ctx, "approvals.roles"),
            "pending": _from_fact(ctx, "approvals.pending"),
        },
    )


def _open_risks(ctx: _Ctx, *, data: bool) -> CardSection:
    findings = _from_fact(ctx, "data.findings" if data else "scan.open_findings")
    return _section(
        "open_risks",
        {"findings": findings, "waivers": _from_fact(ctx, "approvals.waivers")},
    )


def _limitations(ctx: _Ctx) -> CardSection:
    keys = ("limitations", "ethical_considerations")
    return _section("limitations", {k: _declared(ctx, k) for k in keys})


def _composition(ctx: _Ctx) -> CardSection:
    return _section(
        "composition",
        {
            "description": _declared(ctx, "training_data_description"),
            "versions": _inferred(ctx.versions),
            "used_by": _inferred(ctx.used_by, "no model recorded as trained on this data"),
        },
    )


def _data_quality(ctx: _Ctx) -> CardSection:
    return _section(
        "data_quality",
        {
            "checked": _from_fact(ctx, "data.checked"),
            "max_severity": _from_fact(ctx, "data.max_severity"),
            "findings": _from_fact(ctx, "data.findings"),
        },
    )


def _sections(ctx: _Ctx, kind: str) -> tuple[CardType, list[CardSection]]:
    head = [_identity(ctx), _intended_use(ctx), _risk(ctx), _versions(ctx)]
    tail = [_limitations(ctx)]
    if kind == "dataset":
        body = [
            _composition(ctx),
            _lineage(ctx),
            _data_quality(ctx),
            _governance(ctx),
            _open_risks(ctx, data=True),
        ]
        return "datasheet", head + body + tail
    if kind == "service":
        body = [
            _evaluation(ctx, ml=False),
            _monitoring(ctx),
            _governance(ctx),
            _open_risks(ctx, data=False),
        ]
        return "service_card", head + body + tail
    body = [
        _lineage(ctx),
        _training_data(ctx),
        _evaluation(ctx, ml=True),
        _supply_chain(ctx),
        _monitoring(ctx),
        _services(ctx),
        _governance(ctx),
        _open_risks(ctx, data=False),
    ]
    return "model_card", head + body + tail


# -- evidence details beyond facts ------------------------------------------------------


def _latest(
    session: Session, asset_id: str, kind: EvidenceKind, producer: str, version_id: str | None
) -> Evidence | None:
    """The latest evidence of a kind, preferring rows about the version under review."""
    query = (
        select(Evidence)
        .where(Evidence.asset_id == asset_id, Evidence.kind == kind, Evidence.producer == producer)
        .order_by(Evidence.created_at.desc(), Evidence.id)
    )
    rows = list(session.execute(query.limit(200)).scalars())
    for row in rows:
        if version_id is not None and row.version_id == version_id:
            return row
    return rows[0] if rows else None


def _provenance_of(row: Evidence, version_id: str | None) -> str:
    if row.version_id is None:
        return "inferred"
    return "verified" if row.version_id == version_id else "stale"


def _arena_scores(session: Session, asset_id: str, version_id: str | None) -> CardField:
    row = _latest(session, asset_id, EvidenceKind.EVALUATION, ARENA_PRODUCER, version_id)
    if row is None:
        return CardField(note="no Arena evaluation recorded")
    payload = row.payload
    scores: list[dict[str, Any]] = []
    groups = dict(payload.get("by_category") or {})
    if isinstance(payload.get("overall"), dict):
        groups = {"overall": payload["overall"], **dict(sorted(groups.items()))}
    for category, rate in groups.items():
        if not isinstance(rate, dict):
            continue
        interval = rate.get("interval") or {}
        scores.append(
            {
                "category": category,
                "asr": rate.get("asr"),
                "low": interval.get("low"),
                "high": interval.get("high"),
                "trials": rate.get("trials"),
            }
        )
    value = {
        "run_id": payload.get("run_id"),
        "evaluated_at": plain(as_utc(row.observed_at)),
        "version_evaluated": _digest_of(session, row.version_id),
        "risk": payload.get("risk"),
        "scores": scores,
    }
    provenance = _provenance_of(row, version_id)
    note = "evaluated on an older version" if provenance == "stale" else None
    return CardField(value=value, provenance=provenance, evidence=[row.id], note=note)


def _gate(session: Session, asset_id: str, version_id: str | None) -> CardField:
    row = _latest(session, asset_id, EvidenceKind.DECISION, GATE_PRODUCER, version_id)
    if row is None:
        return CardField(note="no gate decision recorded (run `tutela gate`)")
    source = {**row.payload, **row.summary}
    value = {k: plain(source.get(k)) for k in ("passed", "failed_rules", "stage")}
    value["decided_at"] = plain(as_utc(row.observed_at))
    provenance = _provenance_of(row, version_id)
    return CardField(value=value, provenance=provenance, evidence=[row.id])


def _scan(session: Session, asset_id: str, version_id: str | None) -> CardField:
    row = _latest(session, asset_id, EvidenceKind.SCAN, SCAN_PRODUCER, version_id)
    if row is None:
        return CardField(note="never scanned (run `tutela scan`)")
    keys = ("verdict", "max_severity", "findings", "suppressed", "format")
    value = {k: plain(row.summary.get(k)) for k in keys}
    value["scanned_at"] = plain(as_utc(row.observed_at))
    provenance = _provenance_of(row, version_id)
    note = "the latest scan is of an older version" if provenance == "stale" else None
    return CardField(value=value, provenance=provenance, evidence=[row.id], note=note)


def _digest_of(session: Session, version_id: str | None) -> str | None:
    if version_id is None:
        return None
    version = session.get(Version, version_id)
    return version.digest if version is not None else None


def _cited(session: Session, sheet: FactSheet) -> dict[str, str | None]:
    ids = sorted({e for fact in sheet.facts.values() for e in fact.evidence})
    out: dict[str, str | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(Evidence.id, Evidence.version_id).where(Evidence.id.in_(chunk))
        rows = session.execute(query)
        out.update({str(i): v for i, v in rows})
    return out


def _graph_rows(ws: Workspace, ref: str, direction: str) -> tuple[list[Any], list[Any]]:
    from tutela.lineage.graph import downstream, upstream

    try:
        graph = upstream(ws, ref) if direction == "up" else downstream(ws, ref)
    except TutelaError:
        return [], []
    rows = [
        {
            "asset_id": n.asset_id,
            "kind": n.asset_kind,
            "digest": n.digest,
            "depth": n.depth,
        }
        for n in graph.nodes
        if n.depth > 0
    ]
    runs = [
        {
            "id": r.id,
            "name": r.name,
            "status": r.status.value,
            "started_at": plain(as_utc(r.started_at)),
            "code_commit": r.code_commit,
        }
        for r in graph.runs
    ]
    key = lambda r: (r.get("depth", 0), r.get("asset_id", ""), r.get("digest", ""))  # noqa: E731
    return sorted(rows, key=key), sorted(runs, key=lambda r: (r["started_at"], r["id"]))


def build_card(
    ws: Workspace, asset_id: str, *, version: str | None = None, at: datetime | None = None
) -> AICard:
    """The card of ``asset_id`` at ``version`` (digest or prefix; default the latest)."""
    with ws.reader() as session:
        size, last = ledger_moment(session)
    moment = as_utc(at) if at is not None else (last or datetime(1970, 1, 1, tzinfo=UTC))
    sheet = collect_facts(ws, asset_id, version=version, at=moment)
    current = sheet.version
    version_id = current.id if current else None
    upstream_rows: list[Any] = []
    runs: list[Any] = []
    used_by: list[Any] = []
    if current is not None:
        ref = f"{asset_id}@{current.digest}"
        upstream_rows, runs = _graph_rows(ws, ref, "up")
        if sheet.asset.kind.value == "dataset":
            used_by = _graph_rows(ws, ref, "down")[0]
    with ws.reader() as session:
        rows = session.execute(
            select(Version).where(Version.asset_id == asset_id).order_by(Version.created_at)
        ).scalars()
        versions = [
            {
                "digest": v.digest,
                "created_at": plain(as_utc(v.created_at)),
                "location": v.location,
                "current": v.id == version_id,
            }
            for v in rows
        ]
        ctx = _Ctx(
            sheet=sheet,
            declared=load_declared_sources(
                ws, asset_id, session=session, location=current.location if current else None
            ),
            cited=_cited(session, sheet),
            version_id=version_id,
            versions=versions,
            arena=_arena_scores(session, asset_id, version_id),
            gate=_gate(session, asset_id, version_id),
            latest_scan=_scan(session, asset_id, version_id),
            upstream=upstream_rows,
            runs=runs,
            used_by=used_by,
        )
    card_type, sections = _sections(ctx, sheet.asset.kind.value)
    return AICard(
        card_type=card_type,
        subject=CardSubject(
            asset_id=sheet.asset.id,
            kind=sheet.asset.kind.value,
            name=sheet.asset.name,
            version_id=version_id,
            version_digest=current.digest if current else None,
        ),
        ledger_size=size,
        sections=sections,
        generated_at=datetime.now(UTC),
    )
