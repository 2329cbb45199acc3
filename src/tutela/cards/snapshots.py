"""Published cards: signed snapshots in the store and the ledger, and diffs between them.

``publish_card`` freezes the current card as a DSSE-signed in-toto statement, records the
envelope as ``card`` evidence (producer ``cards.snapshot``) on the card's version, and
writes ``card.json``, ``envelope.json`` and any rendered formats under
``.tutela/cards/snapshots/<snapshot id>/``. A snapshot is read back only through its
signature, so an edited file or database row is refused rather than shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from tutela.cards.build import build_card
from tutela.cards.model import AICard
from tutela.cards.sign import sign_card, verify_envelope
from tutela.errors import InputError, IntegrityError, UsageError
from tutela.ledger.canonical import canonical_json
from tutela.store.models import Evidence, EvidenceKind
from tutela.utc import as_utc
from tutela.workspace import Workspace

__all__ = [
    "SNAPSHOT_PRODUCER",
    "Change",
    "Format",
    "Snapshot",
    "diff",
    "diff_cards",
    "list_snapshots",
    "load_snapshot",
    "publish_card",
    "verify_snapshot",
]

SNAPSHOT_PRODUCER = "cards.snapshot"
Format = Literal["md", "html", "pdf"]
_MAX_ENVELOPE = 16 * 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    id: str
    asset_id: str
    version_digest: str | None
    ledger_size: int
    created_at: datetime
    card: AICard
    envelope: dict[str, Any]
    directory: Path | None = None
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "asset_id": self.asset_id,
            "version_digest": self.version_digest,
            "ledger_size": self.ledger_size,
            "created_at": as_utc(self.created_at).isoformat().replace("+00:00", "Z"),
            "directory": str(self.directory) if self.directory else None,
            "files": self.files,
        }


@dataclass(frozen=True)
class Change:
    """One field that differs between two cards."""

    path: str
    before: Any
    after: Any
    provenance_before: str
    provenance_after: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "before": self.before,
            "after": self.after,
            "provenance_before": self.provenance_before,
            "provenance_after": self.provenance_after,
        }


def _snapshot_dir(ws: Workspace, snapshot_id: str) -> Path:
    return ws.layout.dir / "cards" / "snapshots" / snapshot_id


def _render(card: AICard, fmt: Format) -> bytes:
    if fmt == "md":
        from tutela.cards.render_md import render_markdown

        return render_markdown(card).encode("utf-8")
    if fmt == "html":
        from tutela.cards.render_html import render_html

        return render_html(card).encode("utf-8")
    from tutela.cards.render_pdf import render_pdf

    return render_pdf(card)


def publish_card(
    ws: Workspace,
    asset_id: str,
    *,
    version: str | None = None,
    actor: str | None = None,
    formats: Iterable[Format] = ("md", "html"),
) -> Snapshot:
    """Sign the current card, record it with the ledger and write its files."""
    from tutela.catalog.evidence import record_evidence
    from tutela.version import tutela_version

    card = build_card(ws, asset_id, version=version)
    wanted = list(dict.fromkeys(formats))
    rendered = {fmt: _render(card, fmt) for fmt in wanted}  # fail before recording anything
    envelope = sign_card(card, ws.signing_key())
    evidence = record_evidence(
        ws,
        actor=actor,
        asset_id=asset_id,
        kind="card",
        producer=SNAPSHOT_PRODUCER,
        producer_version=tutela_version(),
        payload={"envelope": envelope},
        summary={
            "ledger_size": card.ledger_size,
            "version": card.subject.version_digest,
            "card_type": card.card_type,
        },
        version_digest=card.subject.version_digest,
    )
    directory = _snapshot_dir(ws, evidence.id)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "card.json": json.dumps(card.to_json(), indent=2, sort_keys=True) + "\n",
        "envelope.json": json.dumps(envelope, indent=2) + "\n",
    }
    written: dict[str, str] = {}
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
        written[name.split(".")[0]] = str(directory / name)
    for fmt, data in rendered.items():
        (directory / f"card.{fmt}").write_bytes(data)
        written[fmt] = str(directory / f"card.{fmt}")
    return Snapshot(
        id=evidence.id,
        asset_id=asset_id,
        version_digest=card.subject.version_digest,
        ledger_size=card.ledger_size,
        created_at=evidence.created_at,
        card=card,
        envelope=envelope,
        directory=directory,
        files=written,
    )


def _card_from_envelope(ws: Workspace, envelope: Any, created_at: datetime) -> AICard:
    statement = verify_envelope(envelope, ws.public_key())
    try:
        return AICard.from_canonical(statement["predicate"], generated_at=created_at)
    except (KeyError, ValueError):
        raise IntegrityError("the signed statement does not hold a valid card") from None


def _from_row(ws: Workspace, row: Evidence) -> Snapshot:
    envelope = row.payload.get("envelope")
    card = _card_from_envelope(ws, envelope, as_utc(row.created_at))
    directory = _snapshot_dir(ws, row.id)
    return Snapshot(
        id=row.id,
        asset_id=row.asset_id,
        version_digest=card.subject.version_digest,
        ledger_size=card.ledger_size,
        created_at=as_utc(row.created_at),
        card=card,
        envelope=dict(envelope) if isinstance(envelope, dict) else {},
        directory=directory if directory.is_dir() else None,
    )


def _rows(ws: Workspace, asset_id: str | None = None) -> list[Evidence]:
    with ws.reader() as session:
        query = select(Evidence).where(
            Evidence.kind == EvidenceKind.CARD, Evidence.producer == SNAPSHOT_PRODUCER
        )
        if asset_id is not None:
            from tutela.catalog.assets import require_asset

            require_asset(session, asset_id)
            query = query.where(Evidence.asset_id == asset_id)
        rows = list(session.execute(query.order_by(Evidence.created_at, Evidence.id)).scalars())
        for row in rows:
            session.expunge(row)
        return rows


def list_snapshots(ws: Workspace, asset_id: str) -> list[Snapshot]:
    """Every published snapshot of ``asset_id``, oldest first, each signature checked."""
    return [_from_row(ws, row) for row in _rows(ws, asset_id)]


def load_snapshot(ws: Workspace, snapshot_id: str) -> Snapshot:
    with ws.reader() as session:
        row = session.get(Evidence, snapshot_id)
        if row is not None:
            session.expunge(row)
    if row is None or row.kind != EvidenceKind.CARD or row.producer != SNAPSHOT_PRODUCER:
        raise InputError(
            "no such card snapshot", subject=snapshot_id, hint="see `tutela card list MODEL`"
        )
    return _from_row(ws, row)


def verify_snapshot(ws: Workspace, id_or_file: str) -> Snapshot:
    """Check a snapshot's signature: by id (the stored envelope) or a file or directory.

    A file is an ``envelope.json`` (or the snapshot directory holding one); it is
    verified against the workspace's public key. Raises IntegrityError when tampered.
    """
    path = Path(id_or_file)
    if path.is_dir():
        path = path / "envelope.json"
    if not path.is_file():
        return load_snapshot(ws, id_or_file)
    if path.stat().st_size > _MAX_ENVELOPE:
        raise InputError("the envelope file is too large", subject=str(path))
    try:
        envelope = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise IntegrityError("the envelope file is not JSON", subject=str(path)) from None
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    card = _card_from_envelope(ws, envelope, when)
    return Snapshot(
        id=path.parent.name,
        asset_id=card.subject.asset_id,
        version_digest=card.subject.version_digest,
        ledger_size=card.ledger_size,
        created_at=when,
        card=card,
        envelope=envelope,
        directory=path.parent,
    )


def diff_cards(a: AICard, b: AICard) -> list[Change]:
    """Fields whose value or provenance differ from ``a`` to ``b``, in card order."""
    before, after = a.fields(), b.fields()
    paths = list(before) + [p for p in after if p not in before]
    changes: list[Change] = []
    for path in paths:
        fa, fb = before.get(path), after.get(path)
        va = fa.value if fa else None
        vb = fb.value if fb else None
        pa = fa.provenance if fa else "missing"
        pb = fb.provenance if fb else "missing"
        if canonical_json(va) != canonical_json(vb) or pa != pb:
            changes.append(Change(path, va, vb, pa, pb))
    if a.subject != b.subject:
        changes.insert(
            0,
            Change(
                "subject.version_digest",
                a.subject.version_digest,
                b.subject.version_digest,
                "inferred",
                "inferred",
            ),
        )
    return changes


def diff(
    ws: Workspace, asset_id: str, a: str | None = None, b: str | None = None
) -> tuple[str, str, list[Change]]:
    """Changes from snapshot ``a`` to snapshot ``b``; defaults: last snapshot vs current.

    Returns the labels of both sides and the changes.
    """
    if a is None:
        snapshots = list_snapshots(ws, asset_id)
        if not snapshots:
            raise UsageError(
                "no published card to compare with",
                subject=asset_id,
                hint=f"run `tutela card publish {asset_id}` first",
            )
        left, left_label = snapshots[-1].card, snapshots[-1].id
    else:
        left, left_label = _side(ws, asset_id, a), a
    if b is None:
        right, right_label = build_card(ws, asset_id), "current"
    else:
        right, right_label = _side(ws, asset_id, b), b
    return left_label, right_label, diff_cards(left, right)


def _side(ws: Workspace, asset_id: str, ref: str) -> AICard:
    if ref == "current":
        return build_card(ws, asset_id)
    snapshot = load_snapshot(ws, ref)
    if snapshot.asset_id != asset_id:
        raise UsageError(
            "the snapshot is of another asset", subject=ref, expected=asset_id,
            found=snapshot.asset_id,
        )  # fmt: skip
    return snapshot.card
