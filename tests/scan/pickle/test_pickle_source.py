"""ByteSource: one pass parses and hashes; skips do not materialise payloads."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from tutela.scan.source import ByteSource

DATA = bytes(range(256)) * 1000 + b"line one\nline two\n" + b"z" * 70_000


def test_reads_skips_and_hashes_every_byte() -> None:
    """Mixed read/skip/peek/readline/finish feeds exactly the stream to the hasher."""
    h = hashlib.sha256()
    src = ByteSource(io.BytesIO(DATA), hasher=h, chunk_size=4096)
    assert src.read(3) == DATA[:3]
    assert src.peek(5) == DATA[3:8]
    assert src.skip(100_000) == 100_000
    assert src.tell() == 100_003
    assert src.read_byte() == DATA[100_003]
    src.skip(256_000 - 100_004)
    assert src.readline(100) == (b"line one\n", 9, True)
    head, length, complete = src.readline(4)
    assert (head, length, complete) == (b"line", 9, True)
    assert src.finish() == 70_000
    assert src.at_eof() and src.read(1) == b"" and src.read_byte() == -1
    assert h.hexdigest() == hashlib.sha256(DATA).hexdigest()


def test_hash_covers_only_consumed_bytes_until_finish() -> None:
    """Peeked bytes are hashed only once consumed."""
    h = hashlib.sha256()
    src = ByteSource.from_bytes(DATA, hasher=h)
    src.peek(1000)
    src.read(10)
    src.close()
    assert h.hexdigest() == hashlib.sha256(DATA[:10]).hexdigest()


def test_from_path_knows_size_and_remaining(tmp_path: Path) -> None:
    """A path source knows its size, answers has() without reading, and closes the file."""
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    h = hashlib.sha256()
    with ByteSource.from_path(path, hasher=h) as src:
        assert src.size == len(DATA)
        assert src.has(len(DATA)) is True and src.has(len(DATA) + 1) is False
        src.skip(10)
        assert src.remaining() == len(DATA) - 10
        src.finish()
    assert h.hexdigest() == hashlib.sha256(DATA).hexdigest()


def test_wraps_zip_members_without_hashing(tmp_path: Path) -> None:
    """A zip member stream (ZipExtFile) reads like any file object."""
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("m", DATA)
    with zipfile.ZipFile(archive) as z, z.open("m") as member:
        src = ByteSource(member, size=z.getinfo("m").file_size, chunk_size=8192)
        assert src.read(4) == DATA[:4]
        assert src.skip(len(DATA)) == len(DATA) - 4
        assert src.at_eof()


def test_readline_without_newline_reports_incomplete() -> None:
    """A last line without a newline is returned as incomplete."""
    src = ByteSource.from_bytes(b"abc")
    assert src.readline(10) == (b"abc", 3, False)
