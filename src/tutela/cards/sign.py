"""Signed card snapshots: an in-toto Statement v1 in a DSSE envelope, signed with Ed25519.

The statement's subject is the asset and its version digest; the predicate is the card's
canonical JSON (RFC 8785 bytes, so any verifier re-serialising it gets the same bytes).
The signature covers DSSE's pre-authentication encoding (PAE) of the payload type and
payload, never the JSON envelope, so nothing outside the signed bytes can be trusted.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tutela.cards.model import AICard
from tutela.errors import IntegrityError
from tutela.ledger.canonical import canonical_json
from tutela.ledger.keys import PublicKey, SigningKey

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "pae",
    "sign_card",
    "statement_for",
    "verify_envelope",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://tutela.dev/ai-card/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def statement_for(card: AICard) -> dict[str, Any]:
    digest = card.subject.version_digest
    subject: dict[str, Any] = {"name": card.subject.asset_id, "digest": {}}
    if digest and digest.startswith("sha256:"):
        subject["digest"] = {"sha256": digest.removeprefix("sha256:")}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [subject],
        "predicateType": PREDICATE_TYPE,
        "predicate": card.canonical(),
    }


def sign_card(card: AICard, key: SigningKey) -> dict[str, Any]:
    """The DSSE envelope of the card's statement, signed by ``key``."""
    payload = canonical_json(statement_for(card))
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": key.public.key_id, "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise IntegrityError(f"the envelope's {what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise IntegrityError(f"the envelope's {what} is not valid base64") from None


def verify_envelope(envelope: Any, public_key: PublicKey) -> dict[str, Any]:
    """The statement inside ``envelope`` once a signature by ``public_key`` checks out.

    Raises IntegrityError on any tampering: a changed payload, type or signature, a
    signature by another key, or a statement that is not a Tutela card statement.
    """
    if not isinstance(envelope, dict):
        raise IntegrityError("not a DSSE envelope", found=type(envelope).__name__)
    payload_type = envelope.get("payloadType")
    if payload_type != PAYLOAD_TYPE:
        raise IntegrityError(
            "unexpected DSSE payload type", expected=PAYLOAD_TYPE, found=str(payload_type)
        )
    payload = _b64(envelope.get("payload"), "payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise IntegrityError("the envelope carries no signature")
    message = pae(PAYLOAD_TYPE, payload)
    ours = [s for s in signatures if isinstance(s, dict) and s.get("keyid") == public_key.key_id]
    if not ours:
        raise IntegrityError(
            "the card is not signed by this workspace's key",
            expected=public_key.key_id,
            found=", ".join(str(s.get("keyid")) for s in signatures if isinstance(s, dict)),
        )
    if not any(public_key.verify(_b64(s.get("sig"), "signature"), message) for s in ours):
        raise IntegrityError(
            "the card snapshot's signature does not verify",
            hint="the snapshot was changed after it was signed",
        )
    try:
        statement = json.loads(payload)
    except ValueError:
        raise IntegrityError("the signed payload is not JSON") from None
    if (
        not isinstance(statement, dict)
        or statement.get("_type") != STATEMENT_TYPE
        or statement.get("predicateType") != PREDICATE_TYPE
    ):
        raise IntegrityError("the signed payload is not a Tutela card statement")
    return statement
