"""Service functions that record a run's inputs and outputs as versions and links.

The SDK, autolog and the importers all go through these. Digesting happens before the
write transaction opens (hashing a large file never holds a database lock); each call is
then one transaction whose ledger entries are the new assets, versions, links and the
run's context change.

Identity rules (docs/lineage.md):

- ``name=`` wins: the asset is ``KIND:NAME``.
- Otherwise a digest already recorded for an asset of the same kind names that asset, so
  the same bytes or the same table are recognised wherever they appear.
- Otherwise a file or folder is named by its stem, a table by ``source=`` (the file it
  was read from) or ``table-<12 hex digits of its digest>``.
- A table read from a file (``source=``) is a version of the file's asset, linked
  ``table derived_from file`` by the run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.catalog.assets import ensure_asset_in, ensure_version, parse_asset_id
from tutela.catalog.links import add_link_in
from tutela.catalog.runs import (
    RunOut,
    finish_run_in,
    require_run,
    start_run_in,
    update_run_context_in,
)
from tutela.errors import InputError, UsageError
from tutela.lineage.identity import Observed, observe, observe_path
from tutela.store.models import AssetKind, LinkKind, Run, RunStatus, Version
from tutela.workspace import Transaction, Workspace

__all__ = [
    "Recorded",
    "finish_run",
    "link_kind_for",
    "link_refs",
    "record_input",
    "record_observed_in",
    "record_output",
    "start_run",
]

EVALUATION_ROLES = frozenset({"evaluation", "eval", "validation", "test", "holdout"})
DEPENDENCY_ROLES = frozenset({"config", "code", "dependency", "reference", "tokenizer"})
BASE_ROLES = frozenset({"base", "base_model", "pretrained", "parent"})


@dataclass(frozen=True)
class Recorded:
    """One input or output of a run as recorded: the asset, its version and the role."""

    asset_id: str
    version_id: str
    digest: str
    location: str | None
    role: str


def link_kind_for(output_kind: AssetKind, role: str) -> LinkKind:
    """The link from an output to an input read in ``role``."""
    r = role.lower()
    if r in EVALUATION_ROLES:
        return LinkKind.EVALUATED_ON
    if r in DEPENDENCY_ROLES:
        return LinkKind.DEPENDS_ON
    if r in BASE_ROLES:
        return LinkKind.DERIVED_FROM
    if output_kind is AssetKind.MODEL:
        return LinkKind.TRAINED_ON
    if output_kind is AssetKind.DATASET:
        return LinkKind.DERIVED_FROM
    return LinkKind.DEPENDS_ON


def start_run(
    ws: Workspace,
    name: str,
    *,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> RunOut:
    with ws.transaction(actor) as tx:
        return start_run_in(tx, name, params=params, context=context, actor=actor)


def finish_run(
    ws: Workspace,
    run_id: str,
    status: RunStatus,
    *,
    metrics: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> RunOut:
    with ws.transaction(actor) as tx:
        return finish_run_in(tx, run_id, status, metrics=metrics, error=error)


def _kind(kind: AssetKind | str) -> AssetKind:
    try:
        return AssetKind(kind)
    except ValueError:
        raise InputError(
            "unknown asset kind", found=str(kind), expected=", ".join(k.value for k in AssetKind)
        ) from None


def _known_asset(session: Session, digest: str, kind: AssetKind) -> str | None:
    """The asset of the same kind that already has a version with this digest."""
    for asset_id in session.execute(
        select(Version.asset_id).where(Version.digest == digest).order_by(Version.created_at)
    ).scalars():
        if asset_id.startswith(kind.value + ":"):
            return asset_id
    return None


def _asset_id(
    session: Session,
    seen: Observed,
    kind: AssetKind,
    name: str | None,
    source: Observed | None,
) -> str:
    if name is not None:
        asset_id = f"{kind.value}:{name}"
        parse_asset_id(asset_id)
        return asset_id
    known = _known_asset(session, seen.digest, kind)
    if known is not None:
        return known
    if source is not None:
        return _known_asset(session, source.digest, kind) or f"{kind.value}:{source.default_name}"
    return f"{kind.value}:{seen.default_name}"


def _ensure(
    tx: Transaction, asset_id: str, seen: Observed, extra: Mapping[str, Any] | None = None
) -> Version:
    ensure_asset_in(tx, asset_id)
    meta = {"form": seen.form, **seen.meta, **(extra or {})}
    return ensure_version(tx, asset_id, seen.digest, location=seen.location, metadata=meta)


def _entry(version: Version, seen: Observed, role: str) -> dict[str, Any]:
    return {
        "asset_id": version.asset_id,
        "version_id": version.id,
        "digest": version.digest,
        "form": seen.form,
        "location": seen.location,
        "role": role,
        "at": datetime.now(UTC).isoformat(),
    }


def _asset_kind_of(asset_id: str) -> AssetKind:
    return AssetKind(asset_id.partition(":")[0])


def record_observed_in(
    tx: Transaction,
    run_id: str,
    seen: Observed,
    *,
    direction: str,
    kind: AssetKind | str = AssetKind.DATASET,
    role: str = "input",
    name: str | None = None,
    source: Observed | None = None,
    extra_meta: Mapping[str, Any] | None = None,
) -> Recorded:
    """Record something already digested as an ``input`` or ``output`` of a run."""
    if direction not in ("input", "output"):
        raise UsageError("direction is input or output", found=direction)
    asset_kind = _kind(kind)
    run = require_run(tx.session, run_id)
    asset_id = _asset_id(tx.session, seen, asset_kind, name, source)
    meta = dict(extra_meta or {})
    if direction == "output":
        meta["produced_by"] = run_id
    version = _ensure(tx, asset_id, seen, meta)
    if source is not None:
        source_version = _ensure(tx, asset_id, source)
        if source_version.id != version.id:
            add_link_in(tx, LinkKind.DERIVED_FROM, version.id, source_version.id, run_id=run_id)
    context = dict(run.context or {})
    if direction == "input":
        for out in context.get("outputs", []):
            _link(tx, out["version_id"], _asset_kind_of(out["asset_id"]), version.id, role, run_id)
    else:
        for inp in context.get("inputs", []):
            _link(tx, version.id, asset_kind, inp["version_id"], inp["role"], run_id)
    key = "inputs" if direction == "input" else "outputs"
    role = role if direction == "input" else "output"
    update_run_context_in(tx, run_id, f"run.{direction}", {key: [_entry(version, seen, role)]})
    return Recorded(version.asset_id, version.id, version.digest, seen.location, role)


def _link(
    tx: Transaction, out_id: str, out_kind: AssetKind, in_id: str, role: str, run_id: str
) -> None:
    if out_id != in_id:  # written back unchanged: not an edge
        add_link_in(tx, link_kind_for(out_kind, role), out_id, in_id, run_id=run_id)


def record_input(
    ws: Workspace,
    run_id: str,
    data: object,
    *,
    role: str = "input",
    name: str | None = None,
    kind: AssetKind | str = AssetKind.DATASET,
    source: str | os.PathLike[str] | None = None,
    actor: str | None = None,
) -> Recorded:
    """Digest ``data`` (a path or a table) and record it as read by the run."""
    seen = observe(data)
    origin = observe_path(source) if source is not None else None
    if origin is not None and seen.form != "table":
        raise UsageError("source= is for tables read from a file", subject=str(source))
    with ws.transaction(actor) as tx:
        return record_observed_in(
            tx, run_id, seen, direction="input", kind=kind, role=role, name=name, source=origin
        )


def record_output(
    ws: Workspace,
    run_id: str,
    data: object,
    *,
    kind: AssetKind | str = AssetKind.DATASET,
    name: str | None = None,
    actor: str | None = None,
    extra_meta: Mapping[str, Any] | None = None,
) -> Recorded:
    """Digest ``data`` and record it as written by the run, linked to all its inputs."""
    seen = observe(data)
    with ws.transaction(actor) as tx:
        return record_observed_in(
            tx, run_id, seen, direction="output", kind=kind, name=name, extra_meta=extra_meta
        )


def run_io(session: Session, run_ids: Sequence[str]) -> dict[str, Run]:
    """The runs by id (for renderers that show who wrote what)."""
    if not run_ids:
        return {}
    return {r.id: r for r in session.execute(select(Run).where(Run.id.in_(run_ids))).scalars()}


def link_refs(
    ws: Workspace,
    src_ref: str,
    kind: LinkKind | str,
    dst_ref: str,
    *,
    actor: str | None = None,
) -> tuple[str, str]:
    """Link two recorded versions by hand (``model@v deployed_as deployment@v``)."""
    from tutela.lineage.graph import resolve_versions

    with ws.transaction(actor) as tx:
        src = resolve_versions(tx.session, src_ref, latest_only=True)[0]
        dst = resolve_versions(tx.session, dst_ref, latest_only=True)[0]
        add_link_in(tx, kind, src.id, dst.id)
        return f"{src.asset_id}@{src.digest}", f"{dst.asset_id}@{dst.digest}"
