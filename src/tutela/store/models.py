"""SQLAlchemy 2.0 typed models of the store: the nouns of docs/architecture.md.

Schema changes go through Alembic migrations (``tutela/store/migrations``); these
models are what the code reads and writes. JSON columns hold plain JSON values only.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiToken",
    "ApprovalRequest",
    "ApprovalReview",
    "Asset",
    "AssetKind",
    "Base",
    "Checkpoint",
    "Evidence",
    "EvidenceKind",
    "LedgerEntry",
    "LedgerHead",
    "Link",
    "LinkKind",
    "RiskTier",
    "Run",
    "RunStatus",
    "Suppression",
    "User",
    "Version",
]


class AssetKind(enum.StrEnum):
    MODEL = "model"
    DATASET = "dataset"
    SERVICE = "service"
    CODE = "code"
    ENVIRONMENT = "environment"
    DEPLOYMENT = "deployment"


class RiskTier(enum.StrEnum):
    """EU AI Act style tiers; ``unassessed`` until someone decides."""

    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"
    UNASSESSED = "unassessed"


class LinkKind(enum.StrEnum):
    TRAINED_ON = "trained_on"
    DERIVED_FROM = "derived_from"
    EVALUATED_ON = "evaluated_on"
    DEPENDS_ON = "depends_on"
    DEPLOYED_AS = "deployed_as"
    CALLS = "calls"


class EvidenceKind(enum.StrEnum):
    SCAN = "scan"
    DISCOVERY = "discovery"
    EVALUATION = "evaluation"
    DRIFT = "drift"
    CANARY = "canary"
    APPROVAL = "approval"
    WAIVER = "waiver"
    DECISION = "decision"
    CARD = "card"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as the enum's value (lower-case text), checked by a named constraint, so the
    # column reads the same from SQL, SQLite and PostgreSQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # "model:fraud-scorer"
    kind: Mapped[AssetKind] = mapped_column(_enum(AssetKind, "asset_kind"))
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str | None] = mapped_column(String(255))
    risk_tier: Mapped[RiskTier] = mapped_column(_enum(RiskTier, "risk_tier"))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    versions: Mapped[list[Version]] = relationship(
        back_populates="asset", order_by="Version.created_at"
    )


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("asset_id", "digest", name="uq_version_asset_digest"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="RESTRICT"), index=True)
    digest: Mapped[str] = mapped_column(String(80), index=True)  # "sha256:<hex>"
    location: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    asset: Mapped[Asset] = relationship(back_populates="versions")


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"))
    actor: Mapped[str] = mapped_column(String(255))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # code, environment
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Link(Base):
    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("kind", "src_version_id", "dst_version_id", "run_id", name="uq_link"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[LinkKind] = mapped_column(_enum(LinkKind, "link_kind"))
    # The edge reads "src <kind> dst": model-version trained_on dataset-version.
    src_version_id: Mapped[str] = mapped_column(ForeignKey("versions.id"), index=True)
    dst_version_id: Mapped[str] = mapped_column(ForeignKey("versions.id"), index=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_asset_kind", "asset_id", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[EvidenceKind] = mapped_column(_enum(EvidenceKind, "evidence_kind"))
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"))
    version_id: Mapped[str | None] = mapped_column(ForeignKey("versions.id"), index=True)
    producer: Mapped[str] = mapped_column(String(255))  # plugin id, e.g. "scan.pickle"
    producer_version: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LedgerEntry(Base):
    """One appended change. ``body`` is RFC 8785 canonical JSON; nothing else is trusted.

    ``chain`` is sha256(previous chain || leaf hash of body): the hash chain. The Merkle
    tree over leaf hashes is kept incrementally in ``LedgerHead``.
    """

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    body: Mapped[bytes] = mapped_column(LargeBinary)
    chain: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerHead(Base):
    """The single row every append locks: size, last chain hash, Merkle frontier."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chain: Mapped[bytes] = mapped_column(LargeBinary)
    frontier: Mapped[dict[str, Any]] = mapped_column(JSON)


class Checkpoint(Base):
    """A signed statement of (tree size, Merkle root, chain head)."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # canonical JSON that was signed
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(80))


class Suppression(Base):
    """A waiver: a decision to accept one finding (by fingerprint) or one policy rule.

    ``scope`` is ``finding`` (``fingerprint`` holds the finding's fingerprint) or ``rule``
    (``fingerprint`` holds the rule id). Kept apart from the findings so that it survives
    every rescan; lapses by itself at ``expires_at``. ``asset_id`` narrows a waiver to one
    asset (None: every asset). ``approved_by`` is the user who approved it, when the
    waiver went through approval.
    """

    __tablename__ = "suppressions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(80), index=True)
    producer: Mapped[str] = mapped_column(String(255))  # whose findings: "scan"
    justification: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(String(16), default="finding", server_default="finding")
    asset_id: Mapped[str | None] = mapped_column(String(255), index=True)
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person (or a service account) known to the workspace, with roles.

    Roles: viewer, engineer, risk-officer, admin. Approvals read them; the server maps an
    API token to its user.
    """

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """An API token, stored only as its SHA-256; shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"), index=True)
    token_hash: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApprovalRequest(Base):
    """A request to approve something: promoting a model version to a stage, or a waiver.

    ``subject`` is what is asked for: ``promote`` (asset version to ``stage``) or
    ``waiver:<suppression id>``. ``required_roles`` lists the roles whose approval is
    needed (one approval per role, from different people). ``status`` is pending,
    approved, rejected or withdrawn.
    """

    __tablename__ = "approval_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"), index=True)
    version_id: Mapped[str | None] = mapped_column(ForeignKey("versions.id"))
    subject: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(255))
    required_roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApprovalReview(Base):
    """One reviewer's decision on a request, in the role they acted in."""

    __tablename__ = "approval_reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("approval_requests.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
