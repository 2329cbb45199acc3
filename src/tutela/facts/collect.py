"""Gather every registered provider's facts about one asset version into a fact sheet.

Consumers (policy gates, cards, ``tutela status``) call :func:`collect_facts` and never
import a producer. A provider that raises must not break a gate: its facts are left out
and the error is reported on the sheet, so a rule that needs them fails as "unknown".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.catalog.assets import require_asset
from tutela.catalog.schemas import AssetOut, VersionOut
from tutela.errors import InputError
from tutela.facts.interface import Fact, FactContext, FactProvider, FactSpec
from tutela.store.models import Version
from tutela.utc import as_utc, iso_z
from tutela.workspace import Workspace

__all__ = ["FactSheet", "collect_facts", "fact_catalogue", "fact_providers"]

log = logging.getLogger(__name__)

GROUP = "tutela.facts"


@dataclass(frozen=True)
class FactSheet:
    """Every fact known about one asset version at one moment, keyed ``namespace.name``."""

    asset: AssetOut
    version: VersionOut | None
    at: datetime
    stage: str | None
    facts: dict[str, Fact] = field(default_factory=dict)
    # provider namespace -> one-line reason its facts are absent
    errors: dict[str, str] = field(default_factory=dict)

    def activation(self) -> dict[str, dict[str, Any]]:
        """Nested ``{namespace: {name: value}}``: what a CEL rule sees."""
        out: dict[str, dict[str, Any]] = {}
        for full, fact in self.facts.items():
            namespace, _, name = full.partition(".")
            out.setdefault(namespace, {})[name] = fact.value
        return out

    def get(self, name: str) -> Fact | None:
        return self.facts.get(name)

    def evidence_for(self, names: Iterable[str]) -> list[str]:
        """Evidence ids behind the named facts, first-seen order, without repeats."""
        seen: dict[str, None] = {}
        for name in names:
            fact = self.facts.get(name)
            if fact is not None:
                seen.update(dict.fromkeys(fact.evidence))
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset.id,
            "version": self.version.digest if self.version else None,
            "at": iso_z(self.at),
            "stage": self.stage,
            "facts": {
                name: {
                    "value": _plain(fact.value),
                    "evidence": list(fact.evidence),
                    "stale": fact.stale,
                    "note": fact.note,
                }
                for name, fact in sorted(self.facts.items())
            },
            "errors": dict(sorted(self.errors.items())),
        }


def _plain(value: Any) -> Any:
    """JSON-safe copy of a fact value (timestamps become ISO 8601 strings)."""
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fact_providers(ws: Workspace) -> list[FactProvider]:
    """One instance of every registered provider, ordered by namespace."""
    providers: list[FactProvider] = []
    for plugin in ws.plugins.group(GROUP).values():
        obj = plugin.obj
        try:
            provider = obj() if isinstance(obj, type) else obj
        except Exception:  # a broken third-party provider must not break Tutela
            log.warning("cannot instantiate fact provider %s", plugin.id, exc_info=True)
            continue
        if not isinstance(provider, FactProvider):
            log.warning("fact provider %s does not follow the FactProvider contract", plugin.id)
            continue
        providers.append(provider)
    return sorted(providers, key=lambda p: p.namespace)


def fact_catalogue(ws: Workspace) -> dict[str, FactSpec]:
    """Every fact a registered provider may produce: full name -> spec."""
    out: dict[str, FactSpec] = {}
    for provider in fact_providers(ws):
        for spec in provider.specs:
            out[f"{provider.namespace}.{spec.name}"] = spec
    return dict(sorted(out.items()))


def _version_out(version: Version) -> VersionOut:
    return VersionOut(
        id=version.id,
        asset_id=version.asset_id,
        digest=version.digest,
        location=version.location,
        metadata=version.meta,
        created_at=as_utc(version.created_at),
    )


def resolve_version(session: Session, asset_id: str, version: str | None) -> Version | None:
    """The version named by digest or unique digest prefix; the latest when ``None``."""
    rows = list(
        session.execute(
            select(Version)
            .where(Version.asset_id == asset_id)
            .order_by(Version.created_at.desc(), Version.id)
        ).scalars()
    )
    if version is None:
        return rows[0] if rows else None
    wanted = version.strip()
    exact = [v for v in rows if v.digest == wanted]
    if exact:
        return exact[0]
    matches = [v for v in rows if v.digest.startswith(wanted)] if wanted else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(
            "no such version",
            subject=f"{asset_id}@{wanted}",
            hint=f"see `tutela asset show {asset_id}` for its versions",
        )
    raise InputError(
        "ambiguous version prefix",
        subject=f"{asset_id}@{wanted}",
        found=f"{len(matches)} versions",
        hint="give more of the digest",
    )


def _one_line(exc: BaseException) -> str:
    diagnostics = getattr(exc, "diagnostics", None)
    text = diagnostics() if callable(diagnostics) else f"{type(exc).__name__}: {exc}"
    return " ".join(str(text).split())


def _ask(
    ws: Workspace,
    provider: FactProvider,
    asset: AssetOut,
    version: VersionOut | None,
    at: datetime,
    stage: str | None,
    options: Mapping[str, Any] | None,
) -> dict[str, Fact]:
    # A session of its own: a provider whose query failed leaves its transaction unusable
    # (PostgreSQL aborts it), and the next provider must not inherit that.
    with ws.reader() as session:
        ctx = FactContext(
            session=session,
            asset=asset,
            version=version,
            at=at,
            stage=stage,
            options=dict(options or {}),
        )
        return provider.collect(ctx)


def collect_facts(
    ws: Workspace,
    asset_id: str,
    *,
    version: str | None = None,
    at: datetime | None = None,
    stage: str | None = None,
    namespaces: Iterable[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> FactSheet:
    """Ask every registered provider (or those in ``namespaces``) about one version."""
    moment = as_utc(at) if at is not None else datetime.now(UTC)
    wanted = set(namespaces) if namespaces is not None else None
    providers = [p for p in fact_providers(ws) if wanted is None or p.namespace in wanted]
    facts: dict[str, Fact] = {}
    errors: dict[str, str] = {}
    with ws.reader() as session:
        asset = AssetOut.model_validate(require_asset(session, asset_id))
        row = resolve_version(session, asset_id, version)
        version_out = _version_out(row) if row is not None else None
    for provider in providers:
        try:
            produced = _ask(ws, provider, asset, version_out, moment, stage, options)
        except Exception as exc:  # one broken provider must not break a gate
            log.warning("fact provider %s failed", provider.id, exc_info=True)
            errors[provider.namespace] = _one_line(exc)
            continue
        for name, fact in produced.items():
            facts[f"{provider.namespace}.{name}"] = fact
    return FactSheet(
        asset=asset,
        version=version_out,
        at=moment,
        stage=stage,
        facts=dict(sorted(facts.items())),
        errors=errors,
    )
