"""RFC 8785 (JSON Canonicalization Scheme) bytes for everything the ledger hashes or signs.

Canonical JSON makes a hash depend on content only: key order, white space and number
spelling cannot change it. Values are first reduced to plain JSON (datetimes as RFC 3339
UTC strings, enums as their values, tuples as lists); anything else is an error rather than
a silent ``str()``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any

import rfc8785

from tutela.errors import InputError

__all__ = ["canonical_json", "isoformat", "plain"]

_MAX_DEPTH = 64


def isoformat(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z``: one spelling for one instant."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain(value: Any, _depth: int = 0) -> Any:
    """Reduce ``value`` to JSON types (dict with str keys, list, str, int, float, bool, None)."""
    if _depth > _MAX_DEPTH:
        raise InputError("value nests too deeply for the ledger", expected=f"<= {_MAX_DEPTH}")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value, _depth + 1)
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError("ledger data keys must be strings", found=repr(key)[:80])
            out[key] = plain(item, _depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [plain(item, _depth + 1) for item in value]
    raise InputError("value cannot be recorded as JSON", found=type(value).__name__)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` after :func:`plain`."""
    try:
        return bytes(rfc8785.dumps(plain(value)))
    except rfc8785.CanonicalizationError as exc:
        raise InputError(
            "value cannot be canonicalised (RFC 8785)",
            found=str(exc),
            hint="integers must fit in 53 bits and floats must be finite; store others as strings",
        ) from None
