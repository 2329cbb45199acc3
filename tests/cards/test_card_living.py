"""The card is always current: new evidence changes it, and `card diff` names the field."""

from __future__ import annotations

import pickle
from pathlib import Path

from test_card_build import scanned_model

from tutela.cards.build import build_card
from tutela.cards.snapshots import diff, publish_card
from tutela.workspace import Workspace


def _evil(marker: Path) -> bytes:
    """posix.system('touch MARKER') via STACK_GLOBAL + REDUCE, protocol 4 (never loaded)."""
    cmd = f"touch {marker}".encode()
    return (
        b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
        + b"\x8c" + bytes([len(cmd)]) + cmd + b"\x94\x85\x94R\x94."
    )  # fmt: skip


def test_new_scan_finding_changes_the_card_and_diff_names_it(tmp_path: Path) -> None:
    """A rescan finding a malicious model changes the card with no edit, and diff says where."""
    with Workspace.init(tmp_path) as ws:
        path = scanned_model(ws, tmp_path)
        published = publish_card(ws, "model:demo", formats=())
        before = published.card.field("supply_chain.latest_scan").value
        assert before["findings"] == 0

        path.write_bytes(_evil(tmp_path / "marker"))
        from tutela.scan.service import run_scan

        run_scan([path], workspace=ws, workers=0, asset="model:demo")
        assert not (tmp_path / "marker").exists()

        after = build_card(ws, "model:demo")
        assert after.field("supply_chain.latest_scan").value["findings"] >= 1
        assert after.ledger_size > published.card.ledger_size
        left, right, changes = diff(ws, "model:demo")
        assert (left, right) == (published.id, "current")
        paths = {c.path for c in changes}
        assert "supply_chain.latest_scan" in paths
        assert "versions.current" in paths


def test_card_of_the_older_version_marks_new_evidence_stale(tmp_path: Path) -> None:
    """Asking for the first version after a rescan shows its own scan, still verified."""
    with Workspace.init(tmp_path) as ws:
        path = scanned_model(ws, tmp_path)
        first = build_card(ws, "model:demo").subject.version_digest
        path.write_bytes(pickle.dumps({"w": [3.0]}, protocol=4))
        from tutela.scan.service import run_scan

        run_scan([path], workspace=ws, workers=0, asset="model:demo")
        old = build_card(ws, "model:demo", version=first)
        assert old.subject.version_digest == first
        assert old.field("supply_chain.latest_scan").provenance == "verified"
        assert old.field("versions.count").value == 2
