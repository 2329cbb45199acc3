"""The workspace: settings, store, ledger and keys, passed explicitly to every service.

Every state change goes through :meth:`Workspace.transaction`: the caller's writes and
their ledger entries commit together, and a signed checkpoint is added in the same
transaction when anything was appended. A crash at any point leaves either the whole
change or none of it.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.config import DIR_NAME, Layout, Settings, find_workspace
from tutela.errors import SigningKeyError, TutelaError, WorkspaceError
from tutela.ledger.canonical import isoformat
from tutela.ledger.checkpoint import SignedCheckpoint
from tutela.ledger.keys import PublicKey, SigningKey, generate_key
from tutela.ledger.log import (
    LedgerWriter,
    default_actor,
    export_bundle,
    inclusion_document,
    verify_database,
)
from tutela.ledger.verify import VerifyReport
from tutela.plugins import PluginRegistry
from tutela.store.db import Database
from tutela.store.models import LedgerEntry
from tutela.version import tutela_version

__all__ = ["Transaction", "Workspace"]

_MAX_WITNESS_LINE = 64 * 1024


@dataclass
class Transaction:
    """An open write transaction and the ledger writer bound to it."""

    session: Session
    ledger: LedgerWriter
    actor: str

    def record(self, action: str, subject: str, data: dict[str, Any]) -> int:
        return self.ledger.append(action, subject, data)


class Workspace:
    def __init__(self, layout: Layout, settings: Settings, db: Database) -> None:
        self.layout = layout
        self.settings = settings
        self.db = db
        self.plugins = PluginRegistry()
        self._signing: SigningKey | None = None
        self._public: PublicKey | None = None

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, start: Path | None = None, *, migrate: bool = True) -> Workspace:
        layout = find_workspace(start)
        settings = Settings.load(layout)
        db = Database(settings.effective_url(layout))
        if db.dialect == "sqlite" and not Path(str(db.url.database)).is_file():
            raise WorkspaceError(
                "the workspace database is missing",
                subject=str(db.url.database),
                hint="restore it from a backup or run `tutela init` in a new directory",
            )
        if migrate:
            db.migrate()
        return cls(layout, settings, db)

    @classmethod
    def init(cls, directory: Path, *, database_url: str | None = None) -> Workspace:
        """Create ``DIRECTORY/.tutela`` atomically: on any failure nothing is left behind."""
        directory = directory.resolve()
        target = directory / DIR_NAME
        if target.exists():
            raise WorkspaceError(
                "a workspace already exists here", subject=str(target), hint="use it, or remove it"
            )
        if not directory.is_dir():
            raise WorkspaceError("not a directory", subject=str(directory))
        staging = directory / f"{DIR_NAME}.init-{uuid.uuid4().hex[:12]}"
        try:
            staging.mkdir(mode=0o755)
        except OSError as exc:
            raise WorkspaceError(
                "cannot create the workspace",
                subject=str(directory),
                found=exc.strerror,
                hint="choose a directory you can write to",
            ) from None
        try:
            db = cls._build(staging, database_url)
            db.dispose()
            staging.rename(target)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, TutelaError):
                raise WorkspaceError(
                    "cannot create the workspace", subject=str(directory), found=exc.strerror
                ) from None
            raise
        return cls.open(target)

    @classmethod
    def _build(cls, staging: Path, database_url: str | None) -> Database:
        layout = Layout(staging)
        layout.signing_key.parent.mkdir(mode=0o700)
        key = generate_key()
        key.write(layout.signing_key, layout.public_key)
        settings = Settings(
            workspace_id=str(uuid.uuid4()),
            created=isoformat(datetime.now(UTC)),
            key_id=key.public.key_id,
            database_url=database_url,
        )
        layout.config.write_text(settings.to_toml(), encoding="utf-8")
        db = Database(settings.effective_url(layout))
        try:
            db.migrate()
            with db.write() as session:
                if session.execute(select(LedgerEntry.seq).limit(1)).first() is not None:
                    raise WorkspaceError(
                        "that database already holds a Tutela ledger",
                        subject=db.display_url,
                        hint="open the workspace that owns it, or use an empty database or schema",
                    )
                writer = LedgerWriter(session, actor=default_actor())
                writer.append(
                    "workspace.init",
                    f"workspace:{settings.workspace_id}",
                    {
                        "workspace_id": settings.workspace_id,
                        "key_id": settings.key_id,
                        "public_key": key.public.pem(),
                        "tutela_version": _version(),
                    },
                )
                signed = writer.checkpoint(key)
            _append_witness(layout, signed)
        except BaseException:
            db.dispose()
            raise
        return db

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys --------------------------------------------------------------------------

    def signing_key(self) -> SigningKey:
        if self._signing is None:
            key = SigningKey.load(self.layout.signing_key)
            if key.public.key_id != self.settings.key_id:
                raise SigningKeyError(
                    "the signing key is not this workspace's key",
                    subject=str(self.layout.signing_key),
                    expected=self.settings.key_id,
                    found=key.public.key_id,
                    hint="restore the original keys/signing.key",
                )
            self._signing = key
        return self._signing

    def public_key(self) -> PublicKey:
        if self._public is None:
            key = PublicKey.load(self.layout.public_key)
            if key.key_id != self.settings.key_id:
                raise SigningKeyError(
                    "the public key is not this workspace's key",
                    subject=str(self.layout.public_key),
                    expected=self.settings.key_id,
                    found=key.key_id,
                )
            self._public = key
        return self._public

    # -- transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self, actor: str | None = None) -> Iterator[Transaction]:
        """Write transaction; ledger entries and a checkpoint commit with the data.

        Writers serialise from their first statement on both databases, as SQLite's
        ``BEGIN IMMEDIATE`` already makes them: the ledger head is locked before the
        caller reads anything, so check-then-insert (first writer wins) and
        read-modify-write inside a transaction see every write committed before it.
        Every state change appends to the ledger, so this lock was always taken; it is
        only taken earlier.
        """
        key = self.signing_key()  # fail before doing any work when the key is broken
        signed: SignedCheckpoint | None = None
        with self.db.write() as session:
            who = actor or default_actor()
            tx = Transaction(session, LedgerWriter(session, actor=who), who)
            tx.ledger.lock()
            yield tx
            if tx.ledger.appended:
                signed = tx.ledger.checkpoint(key)
        if signed is not None:
            _append_witness(self.layout, signed)

    @contextmanager
    def reader(self) -> Iterator[Session]:
        with self.db.read() as session:
            yield session

    # -- ledger ------------------------------------------------------------------------

    def checkpoint(self) -> SignedCheckpoint:
        key = self.signing_key()
        with self.db.write() as session:
            signed = LedgerWriter(session, actor=default_actor()).checkpoint(key)
        _append_witness(self.layout, signed)
        return signed

    def verify(self) -> VerifyReport:
        witness = read_witness(self.layout)
        with self.reader() as session:
            return verify_database(session, self.public_key(), extra_checkpoints=witness)

    def export(self, path: Path) -> int:
        self.checkpoint()  # a bundle is fully covered by a signature
        tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            with self.reader() as session, tmp.open("w", encoding="utf-8") as handle:
                count = export_bundle(session, handle, self.public_key())
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise WorkspaceError(
                "cannot write the bundle", subject=str(path), found=exc.strerror
            ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return count

    def prove(self, seq: int) -> dict[str, Any]:
        with self.reader() as session:
            return inclusion_document(session, seq, self.public_key())


def _append_witness(layout: Layout, cp: SignedCheckpoint) -> None:
    line = json.dumps(cp.to_dict(), separators=(",", ":")) + "\n"
    fd = os.open(layout.witness, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))  # one write: lines from concurrent writers never mix
    finally:
        os.close(fd)


def read_witness(layout: Layout) -> list[SignedCheckpoint]:
    """Checkpoints copied outside the database. Unparseable lines are ignored: the
    witness only ever adds checks, it never vouches for anything by itself."""
    out: list[SignedCheckpoint] = []
    try:
        handle = layout.witness.open("rb")
    except FileNotFoundError:
        return out
    except OSError as exc:
        raise WorkspaceError(
            "cannot read the witness file", subject=str(layout.witness), found=exc.strerror
        ) from None
    with handle:
        for raw in handle:
            if len(raw) > _MAX_WITNESS_LINE:
                continue
            try:
                out.append(SignedCheckpoint.from_dict(json.loads(raw)))
            except (ValueError, TutelaError):
                continue
    return out


def _version() -> str:
    return tutela_version()
