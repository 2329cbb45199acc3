"""Published snapshots are signed DSSE envelopes; any tampering fails verification."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from test_card_build import scanned_model

from tutela.cards.sign import PAYLOAD_TYPE, STATEMENT_TYPE, pae, verify_envelope
from tutela.cards.snapshots import list_snapshots, publish_card, verify_snapshot
from tutela.errors import IntegrityError
from tutela.ledger.keys import generate_key
from tutela.workspace import Workspace


def test_publish_signs_a_statement_about_the_version(tmp_path: Path) -> None:
    """The envelope verifies and its statement's subject is the model version digest."""
    with Workspace.init(tmp_path) as ws:
        scanned_model(ws, tmp_path)
        snap = publish_card(ws, "model:demo", formats=("md", "html"))
        statement = verify_envelope(snap.envelope, ws.public_key())
        assert statement["_type"] == STATEMENT_TYPE
        digest = snap.version_digest or ""
        assert statement["subject"] == [
            {"name": "model:demo", "digest": {"sha256": digest.removeprefix("sha256:")}}
        ]
        assert statement["predicate"] == snap.card.canonical()
        assert {"card", "envelope", "md", "html"} <= set(snap.files)
        assert [s.id for s in list_snapshots(ws, "model:demo")] == [snap.id]
        assert verify_snapshot(ws, snap.id).card.canonical() == snap.card.canonical()
        assert pae(PAYLOAD_TYPE, b"x").startswith(b"DSSEv1 28 application/vnd.in-toto+json 1 x")


def test_tampered_snapshot_fails_verification(tmp_path: Path) -> None:
    """Changing one byte of the signed card, or signing with another key, is refused."""
    with Workspace.init(tmp_path) as ws:
        scanned_model(ws, tmp_path)
        snap = publish_card(ws, "model:demo", formats=())
        assert snap.directory is not None
        envelope_file = snap.directory / "envelope.json"
        verify_snapshot(ws, str(envelope_file))  # intact: fine
        envelope = json.loads(envelope_file.read_text())
        statement = json.loads(base64.b64decode(envelope["payload"]))
        statement["predicate"]["subject"]["name"] = "trusted-model"
        envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        envelope_file.write_text(json.dumps(envelope))
        with pytest.raises(IntegrityError, match="signature does not verify"):
            verify_snapshot(ws, str(snap.directory))
        other = generate_key()
        envelope["signatures"][0]["keyid"] = other.public.key_id
        with pytest.raises(IntegrityError, match="not signed by this workspace"):
            verify_envelope(envelope, ws.public_key())
