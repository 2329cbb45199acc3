"""Suppressions: accepted findings, keyed by fingerprint, with a justification and an expiry.

They live in the store (table ``suppressions``), apart from the findings, so they survive
every rescan; each one is a ledger entry; each lapses by itself at its expiry.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from tutela.errors import InputError
from tutela.store.models import Suppression
from tutela.workspace import Workspace

__all__ = [
    "SuppressionOut",
    "active_fingerprints",
    "add_suppression",
    "list_suppressions",
    "parse_expiry",
    "revoke_suppression",
]

_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")
_MAX_DAYS = 366 * 2  # an acceptance is reviewed at least every two years


class SuppressionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    fingerprint: str
    producer: str
    justification: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def is_active(self, now: datetime | None = None) -> bool:
        moment = now or datetime.now(UTC)
        return self.revoked_at is None and _aware(self.expires_at) > moment


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for values stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_expiry(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO date or datetime in the future, at most two years ahead."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            "cannot read the expiry", expected="an ISO date such as 2027-03-31", found=text
        ) from None
    moment = _aware(moment)
    current = now or datetime.now(UTC)
    if moment <= current:
        raise InputError("the expiry is in the past", found=text)
    if (moment - current).days > _MAX_DAYS:
        raise InputError(
            "the expiry is too far away", expected=f"within {_MAX_DAYS} days", found=text
        )
    return moment


def add_suppression(
    ws: Workspace,
    fingerprint: str,
    *,
    justification: str,
    expires_at: datetime,
    producer: str = "scan",
    actor: str | None = None,
) -> SuppressionOut:
    if not _FINGERPRINT.match(fingerprint):
        raise InputError(
            "not a finding fingerprint", expected="sha256:<64 hex digits>", found=fingerprint
        )
    if len(justification.strip()) < 10:
        raise InputError(
            "a suppression needs a justification", expected="at least 10 characters of reason"
        )
    with ws.transaction(actor) as tx:
        row = Suppression(
            id=str(uuid.uuid4()),
            fingerprint=fingerprint,
            producer=producer,
            justification=justification.strip(),
            created_by=tx.actor,
            created_at=datetime.now(UTC),
            expires_at=_aware(expires_at),
            revoked_at=None,
        )
        tx.session.add(row)
        tx.session.flush()
        out = SuppressionOut.model_validate(row)
        tx.record("suppression.add", fingerprint, out.model_dump(mode="json"))
    return out


def revoke_suppression(ws: Workspace, suppression_id: str, *, actor: str | None = None) -> None:
    with ws.transaction(actor) as tx:
        row = tx.session.get(Suppression, suppression_id)
        if row is None:
            raise InputError("no such suppression", subject=suppression_id)
        if row.revoked_at is not None:
            return
        row.revoked_at = datetime.now(UTC)
        tx.record("suppression.revoke", row.fingerprint, {"id": row.id})


def list_suppressions(ws: Workspace, *, producer: str | None = None) -> list[SuppressionOut]:
    with ws.reader() as session:
        query = select(Suppression).order_by(Suppression.created_at)
        if producer:
            query = query.where(Suppression.producer == producer)
        return [SuppressionOut.model_validate(r) for r in session.execute(query).scalars()]


def active_fingerprints(ws: Workspace, *, producer: str = "scan") -> dict[str, SuppressionOut]:
    now = datetime.now(UTC)
    return {s.fingerprint: s for s in list_suppressions(ws, producer=producer) if s.is_active(now)}
