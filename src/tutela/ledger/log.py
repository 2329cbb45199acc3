"""The ledger in the database: append in the caller's transaction, checkpoint, verify.

Appends lock the single ``ledger_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's
writer already holds the database lock from ``BEGIN IMMEDIATE``), so concurrent writers
serialise and the chain never forks. :meth:`LedgerWriter.lock` takes that lock before
anything is read, which is how a write transaction serialises from its start. The head
row carries the Merkle frontier, so the root after any append costs O(log n), not a
rescan.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tutela.errors import InputError, IntegrityError
from tutela.ledger.bundle import PROOF_TYPE, BundleWriter
from tutela.ledger.canonical import canonical_json, isoformat
from tutela.ledger.checkpoint import SignedCheckpoint, sign_checkpoint
from tutela.ledger.keys import PublicKey, SigningKey
from tutela.ledger.merkle import CompactRange, inclusion_proof, leaf_hash
from tutela.ledger.verify import ChainVerifier, Problem, VerifyReport, next_chain
from tutela.store.models import Checkpoint, LedgerEntry, LedgerHead

__all__ = [
    "ENTRY_TYPE",
    "EntryRecord",
    "LedgerWriter",
    "default_actor",
    "export_bundle",
    "inclusion_document",
    "iter_entries",
    "latest_checkpoint",
    "ledger_size",
    "load_checkpoints",
    "verify_database",
]

ENTRY_TYPE = "tutela.entry/1"
_FETCH = 10_000


def default_actor() -> str:
    """Who is acting: ``TUTELA_ACTOR`` if set, else user@host."""
    env = os.environ.get("TUTELA_ACTOR")
    if env:
        return env
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class EntryRecord:
    seq: int
    body: bytes
    chain: bytes

    def data(self) -> dict[str, Any]:
        parsed = json.loads(self.body)
        if not isinstance(parsed, dict):
            raise IntegrityError("ledger entry is not a JSON object", subject=f"entry {self.seq}")
        return parsed


class LedgerWriter:
    """Appends entries inside one open write transaction (``session``)."""

    def __init__(self, session: Session, *, actor: str) -> None:
        self._session = session
        self._actor = actor
        self._head: LedgerHead | None = None
        self._range: CompactRange | None = None
        self._pending: list[dict[str, Any]] = []
        self._appended = False

    def lock(self) -> None:
        """Take the head lock now, before the transaction reads anything.

        Under PostgreSQL's READ COMMITTED each statement sees what had committed when it
        started, so a check made before this lock can miss a row that a writer ahead of
        us commits while we wait; checks made after it see every earlier write.
        """
        self._lock_head()

    def _lock_head(self) -> tuple[LedgerHead, CompactRange]:
        if self._head is None or self._range is None:
            head = self._session.execute(
                select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
            ).scalar_one_or_none()
            if head is None:
                raise IntegrityError(
                    "the ledger head row is missing", hint="run `tutela ledger verify`"
                )
            frontier = CompactRange.from_state(head.frontier)
            if frontier.size != head.size:
                raise IntegrityError(
                    "the ledger head is inconsistent", hint="run `tutela ledger verify`"
                )
            self._head, self._range = head, frontier
        return self._head, self._range

    def append(self, action: str, subject: str, data: Mapping[str, Any]) -> int:
        """Record one change; returns its sequence number. Written at :meth:`flush`."""
        if not action or not isinstance(action, str):
            raise InputError("a ledger entry needs an action name")
        head, frontier = self._lock_head()
        seq = head.size + 1
        body = canonical_json(
            {
                "type": ENTRY_TYPE,
                "seq": seq,
                "time": isoformat(datetime.now(UTC)),
                "actor": self._actor,
                "action": action,
                "subject": subject,
                "data": data,
            }
        )
        leaf = leaf_hash(body)
        chain = next_chain(head.chain, leaf)
        frontier.append(leaf)
        head.size = seq
        head.chain = chain
        self._pending.append({"seq": seq, "body": body, "chain": chain})
        self._appended = True
        return seq

    def flush(self) -> None:
        if not self._pending:
            return
        head, frontier = self._lock_head()
        self._session.execute(insert(LedgerEntry), self._pending)
        head.frontier = frontier.to_state()
        self._pending = []
        self._session.flush()

    @property
    def appended(self) -> bool:
        return self._appended

    def checkpoint(self, key: SigningKey) -> SignedCheckpoint:
        """Sign the current head in this transaction (after :meth:`flush`)."""
        self.flush()
        head, frontier = self._lock_head()
        signed = sign_checkpoint(key, size=head.size, root=frontier.root(), chain=head.chain)
        self._session.add(
            Checkpoint(
                size=head.size, body=signed.body, signature=signed.signature, key_id=signed.key_id
            )
        )
        self._session.flush()
        return signed


def ledger_size(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one())


def load_checkpoints(session: Session) -> list[SignedCheckpoint]:
    rows = session.execute(select(Checkpoint).order_by(Checkpoint.size, Checkpoint.id)).scalars()
    return [SignedCheckpoint(bytes(r.body), bytes(r.signature), r.key_id) for r in rows]


def latest_checkpoint(session: Session) -> SignedCheckpoint | None:
    row = session.execute(
        select(Checkpoint).order_by(Checkpoint.size.desc(), Checkpoint.id.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    return SignedCheckpoint(bytes(row.body), bytes(row.signature), row.key_id)


def iter_entries(
    session: Session, *, start: int = 1, stop: int | None = None
) -> Iterator[EntryRecord]:
    """Entries in sequence order, fetched in batches (a server-side cursor on PostgreSQL)."""
    query = select(LedgerEntry.seq, LedgerEntry.body, LedgerEntry.chain).where(
        LedgerEntry.seq >= start
    )
    if stop is not None:
        query = query.where(LedgerEntry.seq <= stop)
    result = session.execute(
        query.order_by(LedgerEntry.seq), execution_options={"yield_per": _FETCH}
    )
    for seq, body, chain in result:
        yield EntryRecord(int(seq), bytes(body), bytes(chain))


def verify_database(
    session: Session, key: PublicKey, *, extra_checkpoints: Iterable[SignedCheckpoint] = ()
) -> VerifyReport:
    """Verify every entry, the head row and every checkpoint (stored or held elsewhere)."""
    checkpoints = load_checkpoints(session) + list(extra_checkpoints)
    verifier = ChainVerifier(key, _unique(checkpoints))
    verifier.feed_rows(_raw_rows(session))
    report = verifier.finish()
    head = session.get(LedgerHead, 1)
    if head is None:
        report.problems.append(_head_problem("the ledger head row is missing"))
    elif head.size != report.entries or bytes(head.chain) != report.chain:
        report.problems.append(
            _head_problem(
                f"the head records {head.size} entries but {report.entries} were found"
                if head.size != report.entries
                else "the head's chain hash differs from the last entry's"
            )
        )
    else:
        try:
            stored_root = CompactRange.from_state(head.frontier).root()
        except IntegrityError as exc:
            report.problems.append(_head_problem(exc.problem))
        else:
            if stored_root != report.root:
                report.problems.append(_head_problem("the head's Merkle frontier was altered"))
    return report


def _raw_rows(session: Session) -> Iterator[tuple[int, bytes, bytes]]:
    """All entries as plain tuples, straight from the driver: verification touches every
    row, and ORM row objects would cost more than the hashing."""
    conn = session.connection()
    sql = "SELECT seq, body, chain FROM ledger_entries ORDER BY seq"
    if conn.dialect.name == "sqlite":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(_FETCH):
                yield from batch
        finally:
            cursor.close()
        return
    result = conn.execution_options(stream_results=True, yield_per=_FETCH).exec_driver_sql(sql)
    for seq, body, chain in result:
        yield int(seq), bytes(body), bytes(chain)


def _head_problem(message: str) -> Problem:
    return Problem("head", message)


def _unique(checkpoints: list[SignedCheckpoint]) -> list[SignedCheckpoint]:
    seen: set[tuple[bytes, bytes]] = set()
    out = []
    for cp in checkpoints:
        key = (cp.body, cp.signature)
        if key not in seen:
            seen.add(key)
            out.append(cp)
    return out


def export_bundle(session: Session, handle: IO[str], key: PublicKey) -> int:
    """Stream every entry and checkpoint into a bundle; returns the entry count."""
    size = ledger_size(session)
    writer = BundleWriter(handle, key, size)
    for entry in iter_entries(session):
        writer.entry(entry.seq, entry.body, entry.chain)
    for cp in load_checkpoints(session):
        writer.checkpoint(cp)
    return size


def inclusion_document(session: Session, seq: int, key: PublicKey) -> dict[str, Any]:
    """An offline-checkable proof that entry ``seq`` is in the latest signed tree."""
    cp = latest_checkpoint(session)
    if cp is None or cp.size < seq:
        raise InputError(
            f"entry {seq} is not covered by a signed checkpoint yet",
            hint="run `tutela ledger checkpoint` first",
        )
    if seq < 1:
        raise InputError("entry numbers start at 1", found=str(seq))
    target: EntryRecord | None = None
    leaves: list[bytes] = []
    for entry in iter_entries(session, stop=cp.size):
        leaves.append(leaf_hash(entry.body))
        if entry.seq == seq:
            target = entry
    if target is None:
        raise InputError(f"entry {seq} does not exist", subject="ledger")
    path = inclusion_proof(leaves, seq - 1, cp.size)
    return {
        "type": PROOF_TYPE,
        "key_id": key.key_id,
        "public_key": key.pem(),
        "seq": seq,
        "body": target.body.decode("utf-8"),
        "path": [node.hex() for node in path],
        "checkpoint": cp.to_dict(),
    }
