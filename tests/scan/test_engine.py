"""The scan engine: verdict rules, folder walking, parallel workers, failures as reports."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import pytest

from tutela.scan.engine import scan_path, scan_paths
from tutela.scan.interface import Limits, Severity, Verdict


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    (root / "sub").mkdir(parents=True)
    (root / "readme.md").write_text("# a model\n")
    (root / "sub" / "evil.pkl").write_bytes(pickle.dumps(_Payload(tmp_path / "PWNED"), protocol=4))
    (root / "sub" / "ok.pkl").write_bytes(pickle.dumps({"a": [1, 2]}, protocol=4))
    (root / "blob.bin").write_bytes(bytes(range(256)) * 4)
    return root


def test_verdicts_by_content(tree: Path) -> None:
    """Text is clean, a payload pickle has findings, unknown binary is inconclusive."""
    assert scan_path(tree / "readme.md").verdict == Verdict.CLEAN
    evil = scan_path(tree / "sub" / "evil.pkl")
    assert evil.verdict == Verdict.FINDINGS and evil.max_severity() >= Severity.HIGH
    assert scan_path(tree / "sub" / "ok.pkl").verdict == Verdict.CLEAN
    blob = scan_path(tree / "blob.bin")
    assert blob.format == "unknown" and blob.verdict == Verdict.INCONCLUSIVE
    assert not (tree.parent / "PWNED").exists()


def test_digest_matches_file(tree: Path) -> None:
    """The streamed SHA-256 equals hashlib's over the whole file, for pickles and others."""
    import hashlib

    for name in ("sub/evil.pkl", "readme.md", "blob.bin"):
        path = tree / name
        report = scan_path(path)
        assert report.digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_and_special_files(tmp_path: Path) -> None:
    """A missing path is an ERROR report; a FIFO is reported and never opened."""
    missing = scan_path(tmp_path / "nope.pt")
    assert missing.verdict == Verdict.ERROR and "nope.pt" in (missing.error or "")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    report = scan_path(fifo)
    assert report.format == "special" and report.verdict == Verdict.INCONCLUSIVE


def test_time_limit_is_error(tmp_path: Path) -> None:
    """A scan past max_seconds is reported as ERROR naming the time limit."""
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(50):
            zf.writestr(f"x{i}.pkl", pickle.dumps(list(range(100)), protocol=2))
    report = scan_path(path, limits=Limits(max_seconds=0.0))
    assert report.verdict == Verdict.ERROR and "time limit" in (report.error or "")


def test_scan_paths_order_and_symlinks(tree: Path, tmp_path: Path) -> None:
    """Walk order is sorted and stable; links leaving the root are reported, not followed."""
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (tree / "zz_link").symlink_to(outside)
    (tree / "aa_inside").symlink_to(tree / "readme.md")
    serial = [(r.path, r.verdict) for r in scan_paths([tree], workers=0)]
    parallel = [(r.path, r.verdict) for r in scan_paths([tree], workers=2)]
    assert serial == parallel
    names = [Path(p).name for p, _ in serial]
    assert names == ["aa_inside", "blob.bin", "readme.md", "evil.pkl", "ok.pkl", "zz_link"]
    link = next(r for r in scan_paths([tree], workers=0) if r.path.endswith("zz_link"))
    assert link.format == "symlink" and {f.rule_id for f in link.findings} == {
        "file.symlink-escape"
    }


def test_parallel_reports_are_complete(tree: Path) -> None:
    """Reports from worker processes carry findings and digests like in-process ones."""
    reports = {Path(r.path).name: r for r in scan_paths([tree], workers=2)}
    assert reports["evil.pkl"].verdict == Verdict.FINDINGS
    assert reports["readme.md"].digest is not None
