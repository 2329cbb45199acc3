"""Declared card fields: what only a person can say about a model.

Two places declare them, the later overriding the earlier key by key:

1. a YAML file: ``<name>.card.yaml`` beside the model file (the version's location; for a
   directory, ``card.yaml`` inside it), else ``.tutela/cards/<asset id>.yaml`` with ``:``
   and ``/`` in the id replaced by ``_``;
2. values set with ``tutela card set MODEL KEY=VALUE``, recorded as ``card`` evidence by
   producer ``cards.declared`` (so each change is in the ledger; the latest wins per key).

Only the keys in :data:`DECLARED_KEYS` are accepted; anything else is rejected with its
file and line, so a typo never silently drops a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.cards.catalogue import CARD_FIELDS
from tutela.catalog.assets import require_asset
from tutela.errors import InputError, LimitExceeded
from tutela.readlimit import read_limited
from tutela.store.models import Evidence, EvidenceKind, Version
from tutela.workspace import Workspace

__all__ = [
    "DECLARED_KEYS",
    "DECLARED_PRODUCER",
    "Declared",
    "card_file_candidates",
    "load_declared",
    "load_declared_sources",
    "parse_assignments",
    "parse_card_yaml",
    "set_declared",
]

DECLARED_PRODUCER = "cards.declared"

# The one list of card fields, shared with the crosswalk's ``card`` namespace.
DECLARED_KEYS: tuple[str, ...] = CARD_FIELDS

_MAX_FILE = 256 * 1024
_MAX_VALUE = 16 * 1024


@dataclass(frozen=True)
class Declared:
    """One declared value and where it was declared (a file path or an evidence id)."""

    value: str
    source: str


def _check_value(key: str, value: str, where: str) -> str:
    if len(value) > _MAX_VALUE:
        raise LimitExceeded(
            f"declared field {key} is too long",
            subject=where,
            expected=f"<= {_MAX_VALUE} characters",
            found=str(len(value)),
        )
    return value.strip()


def _unknown_key(key: str, where: str) -> InputError:
    return InputError(
        "unknown card field",
        subject=where,
        found=key,
        expected=", ".join(DECLARED_KEYS),
    )


def parse_card_yaml(text: str, *, source: str) -> dict[str, str]:
    """The declared fields of one ``.card.yaml`` text; errors name ``source:line``."""
    if len(text.encode("utf-8")) > _MAX_FILE:
        raise LimitExceeded("card file is too large", subject=source, expected=f"<= {_MAX_FILE}")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError("the card file is not valid YAML", subject=where, found=problem) from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise InputError(
            "a card file is a mapping of field: text",
            subject=f"{source}:{node.start_mark.line + 1}",
            found=node.tag.rsplit(":", 1)[-1],
        )
    out: dict[str, str] = {}
    for key_node, value_node in node.value:
        where = f"{source}:{key_node.start_mark.line + 1}"
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or key not in DECLARED_KEYS:
            raise _unknown_key(str(key), where)
        if not isinstance(value_node, yaml.ScalarNode):
            raise InputError(
                f"card field {key} must be text",
                subject=where,
                found="a list or mapping",
                hint="write it as one string (YAML `|` keeps line breaks)",
            )
        if key in out:
            raise InputError(f"card field {key} is given twice", subject=where)
        out[key] = _check_value(key, str(value_node.value), where)
    return out


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` arguments of ``tutela card set`` as a mapping, keys checked."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep:
            raise InputError("expected KEY=VALUE", found=pair[:80])
        if key not in DECLARED_KEYS:
            raise _unknown_key(key, "tutela card set")
        out[key] = _check_value(key, value, "tutela card set")
    return out


def _safe_id(asset_id: str) -> str:
    return asset_id.replace(":", "_").replace("/", "_")


def card_file_candidates(ws: Workspace, asset_id: str, location: str | None) -> list[Path]:
    """Where a card file for this asset may be, in the order they are tried."""
    out: list[Path] = []
    if location:
        path = Path(location)
        if not path.is_absolute():
            path = ws.layout.root / path
        if path.is_dir():
            out.append(path / "card.yaml")
        else:
            out.append(path.with_name(f"{path.stem}.card.yaml"))
            out.append(path.with_name(f"{path.name}.card.yaml"))
    out.append(ws.layout.dir / "cards" / f"{_safe_id(asset_id)}.yaml")
    return out


def _read_file(path: Path) -> str:
    data = read_limited(path, _MAX_FILE, "card file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the card file is not UTF-8 text", subject=str(path)) from None


def _set_values(session: Session, asset_id: str) -> dict[str, Declared]:
    rows = session.execute(
        select(Evidence)
        .where(
            Evidence.asset_id == asset_id,
            Evidence.kind == EvidenceKind.CARD,
            Evidence.producer == DECLARED_PRODUCER,
        )
        .order_by(Evidence.created_at, Evidence.id)
    ).scalars()
    out: dict[str, Declared] = {}
    for row in rows:  # oldest first, so the latest value of each key wins
        fields: Any = row.payload.get("fields", {})
        if not isinstance(fields, dict):
            continue
        for key, value in fields.items():
            if key in DECLARED_KEYS and isinstance(value, str):
                out[key] = Declared(value, row.id)
    return out


def load_declared_sources(
    ws: Workspace, asset_id: str, *, session: Session | None = None, location: str | None = None
) -> dict[str, Declared]:
    """Declared fields with their source; ``location`` defaults to the latest version's."""

    def _load(s: Session) -> dict[str, Declared]:
        require_asset(s, asset_id)
        where = location
        if where is None:
            latest = s.execute(
                select(Version)
                .where(Version.asset_id == asset_id)
                .order_by(Version.created_at.desc(), Version.id)
                .limit(1)
            ).scalar_one_or_none()
            where = latest.location if latest is not None else None
        out: dict[str, Declared] = {}
        for path in card_file_candidates(ws, asset_id, where):
            if path.is_file():
                parsed = parse_card_yaml(_read_file(path), source=str(path))
                out = {k: Declared(v, str(path)) for k, v in parsed.items()}
                break
        out.update(_set_values(s, asset_id))
        return {k: out[k] for k in DECLARED_KEYS if k in out}

    if session is not None:
        return _load(session)
    with ws.reader() as s:
        return _load(s)


def load_declared(ws: Workspace, asset_id: str) -> dict[str, str]:
    """Declared fields of ``asset_id``: its card file, overridden by ``tutela card set``."""
    return {k: d.value for k, d in load_declared_sources(ws, asset_id).items()}


def set_declared(
    ws: Workspace, asset_id: str, values: dict[str, str], *, actor: str | None = None
) -> str:
    """Record declared values as ``card`` evidence (one ledger entry); returns its id."""
    from tutela.catalog.evidence import record_evidence
    from tutela.version import tutela_version

    if not values:
        raise InputError("nothing to set", hint="give one or more KEY=VALUE")
    for key, value in values.items():
        if key not in DECLARED_KEYS:
            raise _unknown_key(key, "tutela card set")
        _check_value(key, value, "tutela card set")
    evidence = record_evidence(
        ws,
        actor=actor,
        asset_id=asset_id,
        kind="card",
        producer=DECLARED_PRODUCER,
        producer_version=tutela_version(),
        payload={"fields": dict(sorted(values.items()))},
        summary={"declared": sorted(values)},
    )
    return evidence.id
