"""Signed checkpoints: (tree size, Merkle root, chain head) under the workspace key.

A checkpoint commits to every entry before it. ``ledger verify`` recomputes the root at
each checkpoint's size, so an edit, an insertion, or a truncation below a signed size is
caught even when the attacker also rewrote the hash chain after the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tutela.errors import IntegrityError
from tutela.ledger.canonical import canonical_json, isoformat
from tutela.ledger.keys import PublicKey, SigningKey

__all__ = ["CHECKPOINT_TYPE", "SignedCheckpoint", "sign_checkpoint"]

CHECKPOINT_TYPE = "tutela.checkpoint/1"


@dataclass(frozen=True)
class SignedCheckpoint:
    body: bytes  # canonical JSON that was signed
    signature: bytes
    key_id: str

    @property
    def fields(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise IntegrityError("checkpoint body is not JSON") from None
        if not isinstance(parsed, dict) or parsed.get("type") != CHECKPOINT_TYPE:
            raise IntegrityError("not a tutela checkpoint", expected=CHECKPOINT_TYPE)
        return parsed

    @property
    def size(self) -> int:
        size = self.fields.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise IntegrityError("checkpoint size is not a non-negative integer")
        return size

    @property
    def root(self) -> bytes:
        return _hex32(self.fields.get("root"), "root")

    @property
    def chain(self) -> bytes:
        return _hex32(self.fields.get("chain"), "chain")

    def signature_valid(self, key: PublicKey) -> bool:
        return self.fields.get("key_id") == key.key_id and key.verify(self.signature, self.body)

    def to_dict(self) -> dict[str, str]:
        return {
            "body": self.body.decode("utf-8"),
            "signature": self.signature.hex(),
            "key_id": self.key_id,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SignedCheckpoint:
        if not isinstance(data, dict):
            raise IntegrityError("checkpoint record is not an object")
        body, signature, key_id = data.get("body"), data.get("signature"), data.get("key_id")
        if not (isinstance(body, str) and isinstance(signature, str) and isinstance(key_id, str)):
            raise IntegrityError("checkpoint record lacks body, signature or key_id")
        try:
            raw_signature = bytes.fromhex(signature)
        except ValueError:
            raise IntegrityError("checkpoint signature is not hex") from None
        return cls(body.encode("utf-8"), raw_signature, key_id)


def sign_checkpoint(
    key: SigningKey, *, size: int, root: bytes, chain: bytes, when: datetime | None = None
) -> SignedCheckpoint:
    body = canonical_json(
        {
            "type": CHECKPOINT_TYPE,
            "size": size,
            "root": root.hex(),
            "chain": chain.hex(),
            "time": isoformat(when or datetime.now(UTC)),
            "key_id": key.public.key_id,
        }
    )
    return SignedCheckpoint(body, key.sign(body), key.public.key_id)


def _hex32(value: Any, name: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise IntegrityError(f"checkpoint {name} is not a 32-byte hex digest")
    return raw
