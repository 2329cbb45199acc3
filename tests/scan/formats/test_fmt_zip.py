"""Zip-based checkpoints: benign torch files and every zip trick that must not hide a pickle."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import pytest
from scan_corpus import is_benign, pickle_caught, rules, scan

from tutela.scan.interface import Verdict

torch = pytest.importorskip("torch")


def _torch_zip(path: Path, data_pkl: bytes, name: str = "archive/data.pkl") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name, data_pkl)
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/byteorder", "little")
    return path


def _patch_all(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new)


def test_benign_state_dict(tmp_path: Path) -> None:
    """A torch.save'd state_dict is a clean pytorch-zip."""
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(4, 2).state_dict(), path)
    report = scan(path)
    assert report.format == "pytorch-zip"
    assert is_benign(report), report.to_dict()
    assert report.digest and report.digest.startswith("sha256:")


def test_malicious_data_pkl(tmp_path: Path, evil_pickle: bytes) -> None:
    """An os.system REDUCE in archive/data.pkl is reported."""
    report = scan(_torch_zip(tmp_path / "m.pt", evil_pickle))
    assert report.verdict == Verdict.FINDINGS
    assert pickle_caught(report)


def test_pickle_under_weird_name(tmp_path: Path, evil_pickle: bytes) -> None:
    """A pickle is found by content whatever its member name or folder."""
    report = scan(_torch_zip(tmp_path / "m.pt", evil_pickle, "x/y/z/weights.bin"))
    assert pickle_caught(report)
    assert any(f.member == "x/y/z/weights.bin" for f in report.findings)


def test_bad_crc_is_still_scanned(tmp_path: Path, evil_pickle: bytes) -> None:
    """A wrong CRC (which torch ignores) does not stop the scan and is itself reported."""
    path = _torch_zip(tmp_path / "m.pt", evil_pickle)
    crc = zipfile.ZipFile(path).getinfo("archive/data.pkl").CRC.to_bytes(4, "little")
    path.write_bytes(_patch_all(path.read_bytes(), crc, b"\x00\x00\x00\x00"))
    report = scan(path)
    assert pickle_caught(report)
    assert "zip.crc-mismatch" in rules(report)


def test_local_central_name_mismatch(tmp_path: Path, evil_pickle: bytes) -> None:
    """A local header name differing from the central one is reported; data still scanned."""
    path = _torch_zip(tmp_path / "m.pt", evil_pickle)
    data = bytearray(path.read_bytes())
    at = data.index(b"archive/data.pkl")  # first occurrence: the local header
    data[at : at + 16] = b"archive/harmless"
    path.write_bytes(bytes(data))
    report = scan(path)
    assert "zip.name-mismatch" in rules(report)
    assert pickle_caught(report)


def test_nested_zip(tmp_path: Path, evil_pickle: bytes) -> None:
    """A checkpoint inside a zip inside a zip is opened to its pickle."""
    inner = _torch_zip(tmp_path / "inner.pt", evil_pickle).read_bytes()
    middle = io.BytesIO()
    with zipfile.ZipFile(middle, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner.pt", inner)
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("middle.zip", middle.getvalue())
    report = scan(outer)
    assert pickle_caught(report)
    assert any(f.member == "middle.zip!inner.pt!archive/data.pkl" for f in report.findings)


def test_duplicate_names_scan_both(tmp_path: Path, evil_pickle: bytes) -> None:
    """Two members with one name: both are scanned, the duplication reported."""
    path = tmp_path / "dup.pt"
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("archive/data.pkl", evil_pickle)
        zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))
    report = scan(path)
    assert "zip.duplicate-name" in rules(report)
    assert pickle_caught(report)


def test_overlapping_members(tmp_path: Path, evil_pickle: bytes) -> None:
    """Two central entries pointing at one local header are an overlap finding."""
    path = tmp_path / "overlap.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.pkl", evil_pickle)
        zf.writestr("b.pkl", evil_pickle)
    data = bytearray(path.read_bytes())
    second_central = data.rindex(b"PK\x01\x02")
    data[second_central + 42 : second_central + 46] = (0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    report = scan(path)
    assert "zip.overlap" in rules(report)
    assert pickle_caught(report)


def test_encrypted_member_inconclusive(tmp_path: Path) -> None:
    """An encrypted member cannot be read: finding plus inconclusive reason."""
    path = tmp_path / "enc.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data.pkl", b"\x80\x02N.")
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 8] |= 1
    path.write_bytes(bytes(data))
    report = scan(path)
    assert "archive.encrypted" in rules(report)
    assert report.inconclusive


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    """A member compressing far beyond the ratio limit stops with archive.limit."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner.tar", b"\x00" * (8 << 20))
    report = scan(path, max_compression_ratio=50.0)
    assert "archive.limit" in rules(report)
    assert report.verdict == Verdict.FINDINGS


def test_deep_nesting_limit(tmp_path: Path) -> None:
    """Zips nested past max_nesting are reported, not followed."""
    blob = pickle.dumps([1], protocol=2)
    for level in range(6):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"level{level}.bin", blob)
        blob = buf.getvalue()
    path = tmp_path / "deep.zip"
    path.write_bytes(blob)
    report = scan(path, max_nesting=3)
    assert "archive.limit" in rules(report)


def test_torch_still_loads_bad_crc(tmp_path: Path) -> None:
    """Evidence for the rule: torch loads a benign checkpoint whose CRC is wrong."""
    path = tmp_path / "m.pt"
    torch.save({"x": torch.arange(3)}, path)
    zf = zipfile.ZipFile(path)
    name = next(n for n in zf.namelist() if n.endswith("data.pkl"))
    crc = zf.getinfo(name).CRC.to_bytes(4, "little")
    zf.close()
    path.write_bytes(_patch_all(path.read_bytes(), crc, b"\x01\x02\x03\x04"))
    assert torch.load(path, weights_only=True)["x"].tolist() == [0, 1, 2]
    assert "zip.crc-mismatch" in rules(scan(path))
