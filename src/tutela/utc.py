"""Times as Tutela stores them: UTC, whatever the database hands back.

SQLite returns naive datetimes for values written as UTC, PostgreSQL returns aware ones in
the session's time zone; every comparison and every rendering goes through here so both
read the same.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc", "iso_z"]


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (microseconds only when there are any)."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")
