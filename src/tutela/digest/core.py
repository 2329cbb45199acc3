"""Digest text: the ``sha256:<hex>`` form every version name takes, and canonical JSON."""

from __future__ import annotations

import hashlib
from typing import Any, Final

from tutela.errors import InputError

__all__ = ["PREFIX", "bytes_digest", "canonical_json", "format_digest", "parse_digest"]

PREFIX: Final = "sha256:"

_HEX_DIGITS: Final = frozenset("0123456789abcdef")


def format_digest(raw: bytes) -> str:
    """Return ``sha256:<hex>`` for a raw 32-byte SHA-256 digest."""
    if len(raw) != hashlib.sha256().digest_size:
        raise InputError("not a SHA-256 digest", expected="32 bytes", found=f"{len(raw)} bytes")
    return PREFIX + raw.hex()


def parse_digest(text: str) -> bytes:
    """Return the 32 raw bytes of ``sha256:<64 lowercase hex>``; anything else is refused."""
    if not isinstance(text, str):
        raise InputError("a digest must be text", found=type(text).__name__)
    shown = text if len(text) <= 80 else text[:77] + "..."
    body = text.removeprefix(PREFIX)
    if body is text:
        raise InputError(
            f"not a digest: {shown!r}", expected=f"the prefix {PREFIX!r}", found=text[:7] or "''"
        )
    if len(body) != 64 or not _HEX_DIGITS.issuperset(body):
        raise InputError(
            f"not a digest: {shown!r}",
            expected="64 lowercase hexadecimal digits after 'sha256:'",
            found=f"{len(body)} characters",
        )
    return bytes.fromhex(body)


def bytes_digest(data: bytes) -> str:
    """Return the digest of an in-memory byte string."""
    return PREFIX + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of ``value``; the manifest and table documents use it."""

    import rfc8785

    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.CanonicalizationError as exc:
        raise InputError(f"cannot serialise canonically: {exc}") from None
