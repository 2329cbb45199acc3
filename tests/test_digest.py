"""Tests for tutela.digest: file, directory and table content digests."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import socket
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutela.digest import (
    PREFIX,
    bytes_digest,
    dir_digest,
    file_digest,
    format_digest,
    parse_digest,
    path_digest,
    table_digest,
)
from tutela.errors import InputError, LimitExceeded


def sha(data: bytes) -> str:
    return PREFIX + hashlib.sha256(data).hexdigest()


# --- digest text --------------------------------------------------------------------------


def test_format_and_parse_round_trip() -> None:
    """format_digest and parse_digest are inverses on 32-byte digests."""
    raw = hashlib.sha256(b"x").digest()
    text = format_digest(raw)
    assert text == "sha256:" + raw.hex()
    assert parse_digest(text) == raw


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sha256:",
        "sha256:" + "A" * 64,
        "sha256:" + "0" * 63,
        "sha256:" + "0" * 65,
        "sha512:" + "0" * 64,
        "0" * 64,
        "sha256:" + "g" * 64,
        " sha256:" + "0" * 64,
    ],
)
def test_parse_digest_rejects_malformed(bad: str) -> None:
    """Anything but sha256: plus 64 lowercase hex digits is a one-line InputError."""
    with pytest.raises(InputError) as info:
        parse_digest(bad)
    assert "\n" not in info.value.diagnostics()


def test_parse_digest_rejects_non_text() -> None:
    """A non-string digest is refused as input, not a TypeError."""
    with pytest.raises(InputError):
        parse_digest(b"sha256:" + b"0" * 64)  # type: ignore[arg-type]


def test_format_digest_rejects_wrong_length() -> None:
    """A raw digest that is not 32 bytes is refused."""
    with pytest.raises(InputError):
        format_digest(b"\x00" * 31)


def test_bytes_digest_known_vector() -> None:
    """bytes_digest is plain SHA-256 (FIPS 180-2 'abc' vector)."""
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert bytes_digest(b"abc") == "sha256:" + expected


# --- files --------------------------------------------------------------------------------


def test_file_digest_matches_hashlib(tmp_path: Path) -> None:
    """A file's digest is the SHA-256 of its bytes, across several read buffers."""
    data = os.urandom(3 * (1 << 20) + 17)
    target = tmp_path / "blob"
    target.write_bytes(data)
    result = file_digest(target)
    assert result.digest == sha(data)
    assert result.size == len(data)
    assert path_digest(str(target)) == sha(data)


def test_file_digest_empty_file(tmp_path: Path) -> None:
    """An empty file digests to SHA-256 of nothing."""
    (tmp_path / "e").write_bytes(b"")
    assert file_digest(tmp_path / "e").digest == sha(b"")


def test_file_digest_missing_names_path(tmp_path: Path) -> None:
    """A missing file is an InputError whose one line names the path."""
    missing = tmp_path / "nope.bin"
    with pytest.raises(InputError) as info:
        file_digest(missing)
    line = info.value.diagnostics()
    assert str(missing) in line and "no such file" in line


def test_file_digest_rejects_directory(tmp_path: Path) -> None:
    """A directory where a file is expected is an InputError naming it."""
    with pytest.raises(InputError) as info:
        file_digest(tmp_path)
    assert str(tmp_path) in info.value.diagnostics()
    assert "directory" in info.value.diagnostics()


@pytest.mark.timeout(10)
def test_file_digest_never_opens_fifo(tmp_path: Path) -> None:
    """A fifo is refused without being opened (opening it would block forever)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as info:
        file_digest(fifo)
    assert "fifo" in info.value.diagnostics()
    with pytest.raises(InputError):
        path_digest(fifo)


def test_file_digest_refuses_device() -> None:
    """A character device is refused as a special file."""
    with pytest.raises(InputError) as info:
        file_digest("/dev/null")
    assert "char-device" in info.value.diagnostics()


def test_file_digest_detects_size_mismatch() -> None:
    """Bytes read that disagree with the file's size are an error, not a digest."""
    # /proc files report size 0 yet yield content: a real file whose size is not its data.
    with pytest.raises(InputError) as info:
        file_digest("/proc/self/status")
    assert "changed while being read" in info.value.diagnostics()


def test_file_digest_follows_symlink_argument(tmp_path: Path) -> None:
    """A symlink named by the caller is resolved, like sha256sum does."""
    (tmp_path / "real").write_bytes(b"hello")
    (tmp_path / "link").symlink_to("real")
    assert file_digest(tmp_path / "link").digest == sha(b"hello")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_file_digest_unreadable(tmp_path: Path) -> None:
    """A permission error is an InputError naming the file."""
    locked = tmp_path / "locked"
    locked.write_bytes(b"x")
    locked.chmod(0)
    with pytest.raises(InputError) as info:
        file_digest(locked)
    assert str(locked) in info.value.diagnostics()


# --- directories --------------------------------------------------------------------------


def build_tree(root: Path) -> None:
    (root / "b").mkdir()
    (root / "b" / "x.txt").write_bytes(b"xx")
    (root / "a.txt").write_bytes(b"hello")
    (root / "empty").mkdir()
    (root / "link").symlink_to("../outside")


def test_dir_manifest_is_reproducible_by_hand(tmp_path: Path) -> None:
    """The directory digest is SHA-256 of the documented RFC 8785 manifest."""
    build_tree(tmp_path)
    expected = {
        "version": "tutela.dir/1",
        "entries": [
            {"path": "a.txt", "type": "file", "size": 5, "digest": sha(b"hello")},
            {"path": "b/x.txt", "type": "file", "size": 2, "digest": sha(b"xx")},
            {"path": "empty", "type": "dir"},
            {"path": "link", "type": "symlink", "target": "../outside"},
        ],
    }
    canonical = rfc8785.dumps(expected)
    result = dir_digest(tmp_path)
    assert result.manifest.canonical_bytes() == canonical
    assert result.manifest.to_json() == canonical.decode()
    assert result.digest == sha(canonical)
    assert path_digest(tmp_path) == result.digest
    assert [e.type for e in result.manifest.entries] == ["file", "file", "dir", "symlink"]


def test_dir_digest_independent_of_location_and_order(tmp_path: Path) -> None:
    """Two trees with the same content, created in different orders, digest alike."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    for name in ["c", "a", "b"]:
        (one / name).write_bytes(name.encode())
    for name in ["b", "c", "a"]:
        (two / name).write_bytes(name.encode())
    assert dir_digest(one).digest == dir_digest(two).digest
    (two / "a").write_bytes(b"changed")
    assert dir_digest(one).digest != dir_digest(two).digest


def test_dir_digest_sorts_by_utf8_bytes(tmp_path: Path) -> None:
    """Entries are ordered by raw path bytes ('a-b' < 'a/b' < 'aé' < 'b')."""
    (tmp_path / "a").mkdir()
    for name in ["b", "a-b", "aé", "a/b"]:
        (tmp_path / name).write_bytes(b"")
    paths = [e.path for e in dir_digest(tmp_path).manifest.entries]
    assert paths == ["a-b", "a/b", "aé", "b"]


def test_dir_digest_symlinks_are_never_followed(tmp_path: Path) -> None:
    """Symlink loops and links leaving the tree are recorded as text, never walked."""
    (tmp_path / "loop").symlink_to(".")
    (tmp_path / "escape").symlink_to("/etc")
    (tmp_path / "dangling").symlink_to("missing")
    entries = dir_digest(tmp_path).manifest.entries
    assert {(e.path, e.type, e.target) for e in entries} == {
        ("loop", "symlink", "."),
        ("escape", "symlink", "/etc"),
        ("dangling", "symlink", "missing"),
    }


def test_dir_digest_follow_symlinks(tmp_path: Path) -> None:
    """With follow_symlinks, links resolve to content; cycles and dangling links fail."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tmp_path / "data").write_bytes(b"data")
    (tree / "file").symlink_to(tmp_path / "data")
    followed = dir_digest(tree, follow_symlinks=True).manifest.entries
    assert [(e.path, e.type, e.digest) for e in followed] == [("file", "file", sha(b"data"))]
    (tree / "loop").symlink_to(".")
    with pytest.raises(InputError) as info:
        dir_digest(tree, follow_symlinks=True)
    assert "cycle" in info.value.diagnostics()
    (tree / "loop").unlink()
    (tree / "gone").symlink_to("missing")
    with pytest.raises(InputError) as info:
        dir_digest(tree, follow_symlinks=True)
    assert "dangling" in info.value.diagnostics() and "gone" in info.value.diagnostics()


@pytest.mark.timeout(10)
def test_dir_digest_records_special_files_without_opening(tmp_path: Path) -> None:
    """Fifos and sockets inside a tree become typed entries and are never opened."""
    os.mkfifo(tmp_path / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock"))
        entries = dir_digest(tmp_path).manifest.entries
    finally:
        sock.close()
    assert [(e.path, e.type, e.size, e.digest) for e in entries] == [
        ("pipe", "fifo", None, None),
        ("sock", "socket", None, None),
    ]


def test_dir_digest_non_utf8_names(tmp_path: Path) -> None:
    """Names that are not UTF-8 are encoded as base64 of their bytes, exactly and stably."""
    raw_name = b"caf\xe9"
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, raw_name), "wb") as f:
        f.write(b"latin")
    os.symlink(b"t\xff", os.path.join(root, b"l"))
    result = dir_digest(tmp_path)
    document = json.loads(result.manifest.canonical_bytes())
    assert document["entries"] == [
        {
            "path_b64": base64.b64encode(raw_name).decode(),
            "type": "file",
            "size": 5,
            "digest": sha(b"latin"),
        },
        {"path": "l", "type": "symlink", "target_b64": base64.b64encode(b"t\xff").decode()},
    ]
    assert result.manifest.entries[0].path_bytes == raw_name
    assert dir_digest(tmp_path).digest == result.digest
    # The UTF-8 spelling of the same visible name is a different name and digest.
    os.remove(os.path.join(root, raw_name))
    (tmp_path / "café").write_bytes(b"latin")
    assert dir_digest(tmp_path).digest != result.digest


def test_dir_digest_entry_limit(tmp_path: Path) -> None:
    """More names than max_entries raise LimitExceeded."""
    for i in range(5):
        (tmp_path / str(i)).write_bytes(b"")
    assert len(dir_digest(tmp_path, max_entries=5).manifest.entries) == 5
    with pytest.raises(LimitExceeded):
        dir_digest(tmp_path, max_entries=4)


def test_dir_digest_empty_and_errors(tmp_path: Path) -> None:
    """An empty root has no entries; a file or missing path is an InputError naming it."""
    assert dir_digest(tmp_path).manifest.to_dict() == {"version": "tutela.dir/1", "entries": []}
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(InputError) as info:
        dir_digest(tmp_path / "f")
    assert "not a directory" in info.value.diagnostics()
    with pytest.raises(InputError) as info:
        path_digest(tmp_path / "missing")
    assert str(tmp_path / "missing") in info.value.diagnostics()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads directories regardless of permissions")
def test_dir_digest_unreadable_directory(tmp_path: Path) -> None:
    """An unreadable subdirectory is an InputError naming it."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(InputError) as info:
            dir_digest(tmp_path)
        assert "locked" in info.value.diagnostics()
    finally:
        locked.chmod(0o700)


# --- tables -------------------------------------------------------------------------------


def rechunk(table: pa.Table, cuts: list[int]) -> pa.Table:
    """The same rows as ``table``, split into batches at ``cuts``."""
    bounds = sorted({0, table.num_rows, *(c % (table.num_rows + 1) for c in cuts)})
    pieces = [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    return pa.concat_tables(pieces) if pieces else table


values_int = st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), min_size=0, max_size=40)


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(0, 40))

    def column(elements: st.SearchStrategy[object]) -> list[object]:
        return draw(st.lists(st.none() | elements, min_size=rows, max_size=rows))

    return pa.table(
        {
            "i": pa.array(column(st.integers(-(2**63), 2**63 - 1)), pa.int64()),
            "f": pa.array(column(st.floats(allow_nan=True, width=64)), pa.float64()),
            "s": pa.array(column(st.text(max_size=8)), pa.string()),
            "b": pa.array(column(st.booleans()), pa.bool_()),
            "l": pa.array(
                column(st.lists(st.none() | st.integers(-5, 5), max_size=3)), pa.list_(pa.int8())
            ),
            "t": pa.array(
                column(st.fixed_dictionaries({"x": st.none() | st.booleans()})),
                pa.struct([("x", pa.bool_())]),
            ),
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), cuts=st.lists(st.integers(0, 41), max_size=6), size=st.integers(1, 9))
def test_table_digest_independent_of_chunking(table: pa.Table, cuts: list[int], size: int) -> None:
    """Any chunking or batching of the same rows gives the same digest."""
    expected = table_digest(table).digest
    assert table_digest(rechunk(table, cuts)).digest == expected
    assert (
        table_digest(table.to_batches(max_chunksize=size)).digest == expected
        if table.num_rows
        else True
    )
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=size))
    assert table_digest(reader).digest == expected


@settings(max_examples=60, deadline=None)
@given(left=values_int, right=values_int)
def test_table_digest_distinguishes_data(left: list[int | None], right: list[int | None]) -> None:
    """Different column values give different digests; equal values equal digests."""
    a = table_digest(pa.table({"c": pa.array(left, pa.int64())})).digest
    b = table_digest(pa.table({"c": pa.array(right, pa.int64())})).digest
    assert (a == b) == (left == right)


def test_table_digest_names_order_and_nulls_matter() -> None:
    """Column names, column order and null-versus-zero all change the digest."""
    base = pa.table({"a": [1, 2], "b": [3, 4]})
    digests = {
        table_digest(base).digest,
        table_digest(base.rename_columns(["a", "c"])).digest,
        table_digest(base.select(["b", "a"])).digest,
        table_digest(pa.table({"a": [1, None], "b": [3, 4]})).digest,
        table_digest(pa.table({"a": [1, 0], "b": [3, 4]})).digest,
        table_digest(pa.table({"a": pa.array([1, 2], pa.int32()), "b": [3, 4]})).digest,
    }
    assert len(digests) == 6
    assert table_digest(base).columns == [("a", "int64"), ("b", "int64")]
    assert table_digest(base).rows == 2


def test_table_digest_empty_string_vs_null_vs_row_split() -> None:
    """'' differs from null, and ['ab','c'] differs from ['a','bc']."""
    digests = {
        table_digest(pa.table({"s": ["", "x"]})).digest,
        table_digest(pa.table({"s": [None, "x"]})).digest,
        table_digest(pa.table({"s": ["ab", "c"]})).digest,
        table_digest(pa.table({"s": ["a", "bc"]})).digest,
    }
    assert len(digests) == 4


def test_table_digest_nan_payloads_normalised_signed_zero_kept() -> None:
    """Every NaN bit pattern hashes alike; -0.0 and 0.0 stay distinct values."""
    patterns = [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FF4DEADBEEF0000]
    digests = set()
    for bits in patterns:
        value = np.array([bits], dtype=np.uint64).view(np.float64)
        digests.add(table_digest(pa.table({"f": pa.array(value)})).digest)
    assert len(digests) == 1
    f32 = np.array([0x7FC00000, 0xFFC00001], dtype=np.uint32).view(np.float32)
    a = table_digest(pa.table({"f": pa.array(f32[:1])})).digest
    assert a == table_digest(pa.table({"f": pa.array(f32[1:])})).digest
    zero = table_digest(pa.table({"f": [0.0]})).digest
    assert zero != table_digest(pa.table({"f": [-0.0]})).digest
    assert digests.pop() != table_digest(pa.table({"f": pa.array([None], pa.float64())})).digest


def test_table_digest_physical_variants_agree() -> None:
    """string/large/view, binary variants, list variants, dictionaries and decimals normalise."""
    strings = ["a", None, "ccc"]
    same = [
        pa.array(strings, pa.string()),
        pa.array(strings, pa.large_string()),
        pa.array(strings, pa.string_view()),
        pa.array(strings).dictionary_encode(),
    ]
    assert len({table_digest(pa.table({"c": a})).digest for a in same}) == 1
    blobs = [b"a", None, b""]
    same = [pa.array(blobs, t) for t in (pa.binary(), pa.large_binary(), pa.binary_view())]
    assert len({table_digest(pa.table({"c": a})).digest for a in same}) == 1
    lists = [[1, None], None, []]
    same = [pa.array(lists, t) for t in (pa.list_(pa.int64()), pa.large_list(pa.int64()))]
    same.append(pa.array(lists, pa.list_(pa.field("element", pa.int64()))))
    assert len({table_digest(pa.table({"c": a})).digest for a in same}) == 1
    decimals = pa.array([1, -2, None], pa.int64()).cast(pa.decimal128(30, 2))
    same = [decimals, decimals.cast(pa.decimal256(30, 2))]
    assert len({table_digest(pa.table({"c": a})).digest for a in same}) == 1
    assert table_digest(pa.table({"c": decimals})).columns == [("c", "decimal(30, 2)")]


def test_table_digest_ignores_hidden_bytes_under_nulls() -> None:
    """Garbage in null slots (values, string bytes, list children) never reaches the hash."""
    validity = pa.py_buffer(bytes([0b101]))
    ints = pa.Array.from_buffers(
        pa.int64(), 3, [validity, pa.py_buffer(struct.pack("<3q", 1, 99, 3))]
    )
    assert (
        table_digest(pa.table({"c": ints})).digest
        == table_digest(pa.table({"c": [1, None, 3]})).digest
    )
    offsets = pa.py_buffer(struct.pack("<4i", 0, 1, 4, 5))
    strings = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, pa.py_buffer(b"aXYZb")])
    expected = table_digest(pa.table({"c": ["a", None, "b"]})).digest
    assert table_digest(pa.table({"c": strings})).digest == expected
    lists = pa.ListArray.from_arrays(
        pa.array([0, 1, 3, 4], pa.int32()),
        pa.array([1, 7, 7, 2]),
        mask=pa.array([False, True, False]),
    )
    expected = table_digest(pa.table({"c": pa.array([[1], None, [2]])})).digest
    assert table_digest(pa.table({"c": lists})).digest == expected


def test_table_digest_sliced_arrays() -> None:
    """Arrays with a non-zero offset hash as their visible rows only."""
    table = pa.table(
        {
            "i": pa.array([9, 1, None, 3]),
            "b": pa.array([True, False, None, True]),
            "s": pa.array(["zz", "a", None, "c"]),
            "d": pa.array([1, 2, None, 3], pa.int64()).cast(pa.decimal128(25, 1)),
        }
    )
    fresh = pa.table(
        {
            name: col.combine_chunks().slice(1).to_pylist()
            for name, col in zip(table.column_names, table.columns, strict=True)
        },
        schema=table.schema,
    )
    assert table_digest(table.slice(1)).digest == table_digest(fresh).digest


def test_table_digest_same_across_libraries() -> None:
    """pandas, polars and pyarrow holding the same logical data give one digest."""
    arrow = pa.table(
        {
            "i": pa.array([1, None, 3], pa.int64()),
            "f": pa.array([1.5, None, -0.0], pa.float64()),
            "s": pa.array(["x", None, "zz"], pa.large_string()),
            "b": pa.array([True, None, False]),
            "c": pa.array(["u", "v", "u"]).dictionary_encode(),
            "t": pa.array([0, 10**6, None], pa.timestamp("us")),
        }
    )
    frame = pd.DataFrame(
        {
            "i": pd.array([1, None, 3], dtype="Int64"),
            "f": [1.5, np.nan, -0.0],
            "s": pd.array(["x", None, "zz"], dtype="string"),
            "b": pd.array([True, None, False], dtype="boolean"),
            "c": pd.Categorical(["u", "v", "u"]),
            "t": pd.array(
                [pd.Timestamp(0, unit="us"), pd.Timestamp(10**6, unit="us"), None],
                dtype="datetime64[us]",
            ),
        }
    )
    polars = pl.DataFrame(
        {
            "i": [1, None, 3],
            "f": [1.5, None, -0.0],
            "s": ["x", None, "zz"],
            "b": [True, None, False],
            "c": pl.Series(["u", "v", "u"], dtype=pl.Categorical),
            "t": pl.Series([0, 10**6, None], dtype=pl.Datetime("us")),
        }
    )
    expected = table_digest(arrow)
    assert table_digest(frame) == expected
    assert table_digest(polars) == expected
    assert expected.columns[-1] == ("t", "timestamp[us]")


def test_table_digest_pandas_index() -> None:
    """A default RangeIndex is ignored; any other index is data, placed first."""
    frame = pd.DataFrame({"a": [1, 2, 3]})
    plain = table_digest(frame)
    assert plain == table_digest(pa.table({"a": [1, 2, 3]}))
    shifted = frame.set_axis(pd.RangeIndex(1, 4))
    assert table_digest(shifted).digest != plain.digest
    labelled = frame.set_axis(pd.Index(["x", "y", "z"], name="key"))
    result = table_digest(labelled)
    assert result.columns == [("key", "string"), ("a", "int64")]
    assert result == table_digest(pa.table({"key": ["x", "y", "z"], "a": [1, 2, 3]}))
    filtered = frame[frame["a"] > 1]
    assert table_digest(filtered).columns[0] == ("__index_level_0__", "int64")


def test_table_digest_rejects_unsupported_inputs() -> None:
    """Unsupported objects, LazyFrames, unions and mixed batches are named InputErrors."""
    for bad in [
        42,
        "text",
        {"a": [1]},
        [1, 2],
        pl.DataFrame({"a": [1]}).lazy(),
        pd.Series([1]),
        pa.array([1]),
    ]:
        with pytest.raises(InputError) as info:
            table_digest(bad)
        assert type(bad).__name__ in info.value.diagnostics()
    with pytest.raises(InputError, match="empty iterable"):
        table_digest([])
    union = pa.UnionArray.from_sparse(
        pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])]
    )
    with pytest.raises(InputError, match="unsupported column type"):
        table_digest(pa.table({"u": union}))
    batches = [pa.record_batch({"a": [1]}), pa.record_batch({"a": ["x"]})]
    with pytest.raises(InputError, match="does not match"):
        table_digest(batches)
    with pytest.raises(InputError, match="cannot read table"):
        table_digest(pd.DataFrame({"mixed": [1, "a"]}))
    with pytest.raises(InputError, match="Duplicate column names"):
        table_digest(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_table_digest_nested_and_temporal_types() -> None:
    """Maps, structs, fixed-size lists and temporal columns hash and name their types."""
    table = pa.table(
        {
            "m": pa.array([[("k", 1)], None, []], pa.map_(pa.string(), pa.int64())),
            "fl": pa.array([[1, 2], None, [3, 4]], pa.list_(pa.int16(), 2)),
            "d": pa.array([0, None, 3], pa.date32()),
            "n": pa.array([None, None, None], pa.null()),
            "h": pa.array(np.array([1.0, np.nan, -2.0], dtype=np.float16)),
        }
    )
    result = table_digest(table)
    assert result.columns == [
        ("m", "map<string, int64>"),
        ("fl", "fixed_size_list<int16>[2]"),
        ("d", "date32"),
        ("n", "null"),
        ("h", "float16"),
    ]
    assert table_digest(table.to_batches(max_chunksize=1)).digest == result.digest


def test_table_digest_reproducible_by_hand() -> None:
    """The documented algorithm, written out independently, yields the same digest."""
    table = pa.table({"n": pa.array([5, None], pa.int64()), "s": pa.array(["hi", None])})
    document = {
        "version": "tutela.table/1",
        "rows": 2,
        "columns": [
            {
                "name": "n",
                "type": "int64",
                "validity": sha(b"\x01\x00"),
                "values": sha(struct.pack("<2q", 5, 0)),
            },
            {
                "name": "s",
                "type": "string",
                "validity": sha(b"\x01\x00"),
                "lengths": sha(struct.pack("<2q", 2, 0)),
                "data": sha(b"hi"),
            },
        ],
    }
    assert table_digest(table).digest == sha(rfc8785.dumps(document))
