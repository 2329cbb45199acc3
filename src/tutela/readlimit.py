"""Read a user's file with a size limit, so a huge file is refused before it is parsed.

A leaf module (imports only ``tutela.errors``): consumers and producers alike read policy,
card and configuration files through it.
"""

from __future__ import annotations

from pathlib import Path

from tutela.errors import InputError, LimitExceeded

__all__ = ["read_limited"]


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``; unreadable or over ``limit`` bytes is an error naming ``what``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # one byte more tells "too large" from "exactly full"
    except OSError as exc:
        raise InputError(f"cannot read the {what}", subject=str(path), found=exc.strerror) from None
    if len(data) > limit:
        raise LimitExceeded(
            f"{what} too large", subject=str(path), expected=f"at most {limit} bytes"
        )
    return data
