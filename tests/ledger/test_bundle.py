"""Exported bundles and inclusion proofs verify offline, and fail when altered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutela.errors import SigningKeyError
from tutela.ledger.bundle import check_proof, verify_bundle
from tutela.ledger.keys import PublicKey, generate_key
from tutela.workspace import Workspace


@pytest.fixture
def populated(workspace: Workspace) -> Workspace:
    for i in range(3):
        with workspace.transaction(actor="tester") as tx:
            for k in range(i + 2):
                tx.record("test.bundle", f"dataset:d{i}", {"k": k})
    return workspace


def test_bundle_round_trip(populated: Workspace, tmp_path: Path) -> None:
    """A fresh export verifies offline with the workspace's public key alone."""
    bundle = tmp_path / "ledger.jsonl"
    count = populated.export(bundle)
    report = verify_bundle(bundle, PublicKey.load(populated.layout.public_key))
    assert report.ok, report.summary()
    assert report.entries == count == 10
    assert report.signed_size == count


def test_bundle_edit_is_detected(populated: Workspace, tmp_path: Path) -> None:
    """Changing an entry inside the bundle makes offline verification fail at that entry."""
    bundle = tmp_path / "ledger.jsonl"
    populated.export(bundle)
    lines = bundle.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[4])
    record["body"] = record["body"].replace('"k":', '"K":')
    lines[4] = json.dumps(record)
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = verify_bundle(bundle, PublicKey.load(populated.layout.public_key))
    assert not report.ok
    assert report.first_bad_seq == record["seq"]


def test_bundle_with_dropped_tail_is_detected(populated: Workspace, tmp_path: Path) -> None:
    """Dropping the last entries of a bundle is caught by its checkpoints."""
    bundle = tmp_path / "ledger.jsonl"
    populated.export(bundle)
    lines = bundle.read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if '"seq":10,' not in ln]
    assert len(kept) == len(lines) - 1
    bundle.write_text("\n".join(kept) + "\n", encoding="utf-8")
    report = verify_bundle(bundle, PublicKey.load(populated.layout.public_key))
    assert not report.ok


def test_wrong_key_is_an_input_error(populated: Workspace, tmp_path: Path) -> None:
    """Verifying with another workspace's key is a key error, not a silent failure."""
    bundle = tmp_path / "ledger.jsonl"
    populated.export(bundle)
    with pytest.raises(SigningKeyError):
        verify_bundle(bundle, generate_key().public)


def test_inclusion_proof_verifies_offline(populated: Workspace, tmp_path: Path) -> None:
    """Every entry's inclusion proof checks against the signed root; a forged body fails."""
    key = PublicKey.load(populated.layout.public_key)
    populated.checkpoint()
    for seq in range(1, 11):
        proof = tmp_path / f"p{seq}.json"
        doc = populated.prove(seq)
        proof.write_text(json.dumps(doc), encoding="utf-8")
        assert check_proof(proof, key).ok
        doc["body"] = doc["body"].replace('"seq":', '"seq": ')
        proof.write_text(json.dumps(doc), encoding="utf-8")
        assert not check_proof(proof, key).ok
