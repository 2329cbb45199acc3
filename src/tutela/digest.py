"""Content digests: the names of every asset version Tutela records.

Every version is named ``sha256:<64 lowercase hex>``. Three kinds of content are digested,
each by an algorithm simple enough for an auditor to recompute without Tutela
(docs/digests.md is the normative description; this docstring is the summary):

File
    SHA-256 of the file's bytes, streamed. Special files (fifo, socket, devices) are never
    opened, because opening a fifo blocks; a file whose size or mtime changes while it is
    read is an error, never a digest of a torn read.

Directory (``tutela.dir/1``)
    SHA-256 of a manifest serialised as RFC 8785 canonical JSON::

        {"entries": [...], "version": "tutela.dir/1"}

    The walk never follows symlinks (unless ``follow_symlinks=True``): a symlink is an entry
    of type ``symlink`` holding its target text, so cycles and escapes from the tree are
    impossible. Regular files carry ``size`` and ``digest``; empty directories are ``dir``
    entries; fifos, sockets and devices are entries of their type and are never opened.
    Paths are relative, ``/``-separated and sorted by their raw bytes. A path or target that
    is not valid UTF-8 is written as ``path_b64`` / ``target_b64`` (base64 of the raw bytes)
    instead of ``path`` / ``target``, so every name on a POSIX file system has exactly one
    encoding. File modes, owners and times are not part of the digest.

Table (``tutela.table/1``)
    Tables are read as Apache Arrow and hashed column by column as byte streams that only
    depend on the logical values, never on how rows are split into chunks or batches: a
    validity stream (one byte per row), fixed-width values (little-endian, null slots
    zeroed, every NaN replaced by the canonical quiet NaN; ``-0.0`` and ``0.0`` stay
    distinct because they are different values), and lengths (int64) plus concatenated bytes
    for strings, binaries and lists. Physical variants of one logical type hash alike
    (string/large_string/string_view, binary variants, list variants, dictionary-encoded
    columns as their decoded values, decimals of any width). The stream digests, column
    names and logical types go into an RFC 8785 document whose SHA-256 is the digest.

    Accepted inputs: pandas ``DataFrame``, polars ``DataFrame`` (a ``LazyFrame`` is refused:
    Tutela does not run query plans implicitly; ``collect()`` it first), and pyarrow
    ``Table``, ``RecordBatch``, ``RecordBatchReader`` or an iterable of ``RecordBatch``.
    A pandas default ``RangeIndex`` (start 0, step 1, unnamed) carries no data and is left
    out; any other index is data and becomes the leading column(s), named as pyarrow names
    them (the index name, or ``__index_level_<i>__``). pandas treats NaN in a float column as
    missing, so such NaNs hash as nulls.

Only the standard library and ``tutela.errors`` are imported at module level; ``rfc8785``,
pyarrow, numpy, pandas and polars are imported inside the functions that need them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from tutela.errors import InputError, LimitExceeded

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "DIR_MANIFEST_VERSION",
    "PREFIX",
    "TABLE_DIGEST_VERSION",
    "DirDigest",
    "FileDigest",
    "Manifest",
    "ManifestEntry",
    "TableDigest",
    "bytes_digest",
    "dir_digest",
    "file_digest",
    "format_digest",
    "parse_digest",
    "path_digest",
    "table_digest",
]

PREFIX: Final = "sha256:"
DIR_MANIFEST_VERSION: Final = "tutela.dir/1"
TABLE_DIGEST_VERSION: Final = "tutela.table/1"

_HEX_DIGITS: Final = frozenset("0123456789abcdef")
# 1 MiB reads: large enough that per-call overhead vanishes next to SHA-256, small enough
# to stay in cache.
_READ_SIZE: Final = 1 << 20
_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)

EntryType = str  # "file" | "dir" | "symlink" | "fifo" | "socket" | "char-device" | ...


# ---------------------------------------------------------------------------------------
# Digest text


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


# ---------------------------------------------------------------------------------------
# Files


@dataclass(frozen=True, slots=True)
class FileDigest:
    """The digest of a regular file and the number of bytes hashed."""

    digest: str
    size: int


def _display(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """A one-line, printable rendering of a path for error messages."""
    text = os.fsdecode(path)
    if text.isprintable():
        return text
    return text.encode("unicode_escape", "backslashreplace").decode("ascii")


def _os_error(exc: OSError, path: str | bytes | os.PathLike[str]) -> InputError:
    reason = exc.strerror or type(exc).__name__
    return InputError(f"cannot read: {reason.lower()}", subject=_display(path))


def _special_type(mode: int) -> EntryType | None:
    """The manifest type of a file that must never be opened, or None for file/dir/link."""
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "char-device"
    if stat.S_ISBLK(mode):
        return "block-device"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
        return None
    return "other"


def _hash_regular(path: bytes, expected: os.stat_result, *, nofollow: bool) -> FileDigest:
    """Hash the regular file at ``path`` that a prior stat described as ``expected``.

    O_NONBLOCK keeps a fifo swapped in after the stat from blocking the open; the fstat
    identity check then refuses it (and any other replacement).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS | (_NOFOLLOW if nofollow else 0))
    except OSError as exc:
        raise _os_error(exc, path) from None
    try:
        before = os.fstat(fd)
        if (
            not stat.S_ISREG(before.st_mode)
            or before.st_ino != expected.st_ino
            or before.st_dev != expected.st_dev
        ):
            raise InputError(
                "changed while being read (the file was replaced)", subject=_display(path)
            )
        hasher = hashlib.sha256()
        buffer = bytearray(_READ_SIZE)
        view = memoryview(buffer)
        total = 0
        with open(fd, "rb", buffering=0, closefd=False) as stream:
            while count := stream.readinto(view):
                hasher.update(view[:count])
                total += count
        after = os.fstat(fd)
    except OSError as exc:
        raise _os_error(exc, path) from None
    finally:
        os.close(fd)
    if total != before.st_size or after.st_size != before.st_size:
        raise InputError(
            "changed while being read",
            subject=_display(path),
            expected=f"{before.st_size} bytes",
            found=f"{total} bytes read, {after.st_size} bytes after reading",
        )
    if after.st_mtime_ns != before.st_mtime_ns:
        raise InputError(
            "changed while being read (modified during hashing)", subject=_display(path)
        )
    return FileDigest(PREFIX + hasher.hexdigest(), total)


def _stat_root(path: str | os.PathLike[str]) -> tuple[bytes, os.stat_result]:
    """Stat a path a person named, following a symlink there (they chose it)."""
    raw = os.fsencode(path)
    try:
        return raw, os.stat(raw)  # noqa: PTH116 - bytes paths keep non-UTF-8 names exact
    except FileNotFoundError:
        raise InputError("no such file or directory", subject=_display(raw)) from None
    except OSError as exc:
        raise _os_error(exc, raw) from None


def file_digest(path: str | os.PathLike[str]) -> FileDigest:
    """Stream the SHA-256 of the regular file at ``path``."""
    raw, info = _stat_root(path)
    if stat.S_ISDIR(info.st_mode):
        raise InputError(
            "is a directory, expected a file",
            subject=_display(raw),
            hint="use dir_digest or path_digest for directories",
        )
    special = _special_type(info.st_mode)
    if special is not None:
        raise InputError(
            f"is a {special}, expected a regular file; special files are never opened",
            subject=_display(raw),
        )
    return _hash_regular(raw, info, nofollow=False)


# ---------------------------------------------------------------------------------------
# Directories


def _text_or_b64(key: str, raw: bytes) -> tuple[str, str]:
    """``(key, text)`` for UTF-8 bytes, else ``(key_b64, base64)``: one encoding per name."""
    try:
        return key, raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"{key}_b64", base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One name in a directory manifest.

    ``path`` and ``target`` are ``os.fsdecode``-style text: the raw bytes decoded as UTF-8
    with ``surrogateescape``, so they round-trip exactly through ``path_bytes``.
    """

    path: str
    type: EntryType
    size: int | None = None
    digest: str | None = None
    target: str | None = None

    @property
    def path_bytes(self) -> bytes:
        return self.path.encode("utf-8", "surrogateescape")

    def to_dict(self) -> dict[str, str | int]:
        """The entry as it appears in the canonical manifest."""
        key, value = _text_or_b64("path", self.path_bytes)
        out: dict[str, str | int] = {key: value, "type": self.type}
        if self.size is not None:
            out["size"] = self.size
        if self.digest is not None:
            out["digest"] = self.digest
        if self.target is not None:
            tkey, tvalue = _text_or_b64("target", self.target.encode("utf-8", "surrogateescape"))
            out[tkey] = tvalue
        return out


@dataclass(frozen=True, slots=True)
class Manifest:
    """The canonical description of a directory tree; its digest is the directory's."""

    entries: tuple[ManifestEntry, ...]
    version: str = DIR_MANIFEST_VERSION

    def to_dict(self) -> dict[str, object]:
        return {"version": self.version, "entries": [e.to_dict() for e in self.entries]}

    def canonical_bytes(self) -> bytes:
        """RFC 8785 canonical JSON: the exact bytes whose SHA-256 is the directory digest."""
        return _canonical_json(self.to_dict())

    def to_json(self) -> str:
        """The canonical JSON as text (same bytes as ``canonical_bytes``)."""
        return self.canonical_bytes().decode("utf-8")

    def digest(self) -> str:
        return bytes_digest(self.canonical_bytes())


@dataclass(frozen=True, slots=True)
class DirDigest:
    """The digest of a directory and the manifest it was computed from."""

    digest: str
    manifest: Manifest


def _canonical_json(value: Any) -> bytes:
    import rfc8785

    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.CanonicalizationError as exc:
        raise InputError(f"cannot serialise canonically: {exc}") from None


def _walk(
    root: bytes, root_info: os.stat_result, *, follow: bool, limit: int
) -> list[ManifestEntry]:
    entries: list[ManifestEntry] = []
    seen = 0
    # Ancestors are tracked even without following symlinks: bind mounts can loop too.
    stack: list[tuple[bytes, bytes, frozenset[tuple[int, int]]]] = [
        (b"", root, frozenset({(root_info.st_dev, root_info.st_ino)}))
    ]
    while stack:
        rel, here, ancestors = stack.pop()
        try:
            with os.scandir(here) as listing:
                children = [(child.name, child.path) for child in listing]
        except OSError as exc:
            raise _os_error(exc, here) from None
        if not children and rel:
            entries.append(ManifestEntry(_decode(rel), "dir"))
        for name, full in children:
            seen += 1
            if seen > limit:
                raise LimitExceeded(
                    "too many entries in directory tree",
                    subject=_display(root),
                    expected=f"at most {limit}",
                    hint="raise max_entries if this tree is expected",
                )
            child_rel = rel + b"/" + name if rel else name
            try:
                info = os.lstat(full)
                via_link = stat.S_ISLNK(info.st_mode)
                if via_link and not follow:
                    target = os.readlink(full)  # noqa: PTH115 - bytes path
                    entries.append(
                        ManifestEntry(_decode(child_rel), "symlink", target=_decode(target))
                    )
                    continue
                if via_link:
                    info = os.stat(full)  # noqa: PTH116 - bytes path
            except FileNotFoundError:
                problem = "dangling symlink" if follow else "vanished while being read"
                raise InputError(problem, subject=_display(full)) from None
            except OSError as exc:
                raise _os_error(exc, full) from None
            mode = info.st_mode
            if stat.S_ISDIR(mode):
                key = (info.st_dev, info.st_ino)
                if key in ancestors:
                    raise InputError(
                        "directory cycle: leads back to an ancestor", subject=_display(full)
                    )
                stack.append((child_rel, full, ancestors | {key}))
            elif stat.S_ISREG(mode):
                found = _hash_regular(full, info, nofollow=not via_link)
                entries.append(ManifestEntry(_decode(child_rel), "file", found.size, found.digest))
            else:
                entries.append(ManifestEntry(_decode(child_rel), _special_type(mode) or "other"))
    entries.sort(key=lambda entry: entry.path_bytes)
    return entries


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def dir_digest(
    path: str | os.PathLike[str], *, follow_symlinks: bool = False, max_entries: int = 1_000_000
) -> DirDigest:
    """Digest a directory tree through its canonical manifest.

    ``path`` itself may be a symlink to a directory. Inside the tree symlinks are recorded,
    not followed, unless ``follow_symlinks`` is true: then they are resolved (even out of the
    tree), a dangling link or a cycle is an error, and no ``symlink`` entries appear.
    ``max_entries`` bounds the number of names examined.
    """
    raw, info = _stat_root(path)
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(
            "is not a directory", subject=_display(raw), hint="use file_digest or path_digest"
        )
    manifest = Manifest(tuple(_walk(raw, info, follow=follow_symlinks, limit=max_entries)))
    return DirDigest(manifest.digest(), manifest)


def path_digest(path: str | os.PathLike[str]) -> str:
    """Digest a file or a directory, whichever ``path`` names."""
    _, info = _stat_root(path)
    if stat.S_ISDIR(info.st_mode):
        return dir_digest(path).digest
    return file_digest(path).digest


# ---------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True, slots=True)
class TableDigest:
    """The fingerprint of a table: digest, row count and ``(name, logical type)`` columns."""

    digest: str
    rows: int
    columns: list[tuple[str, str]] = field(default_factory=list)


class _Stream:
    """One named byte stream of a column, hashed incrementally."""

    __slots__ = ("hasher",)

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()

    def update(self, data: Any) -> None:
        self.hasher.update(data)

    def text(self) -> str:
        return PREFIX + self.hasher.hexdigest()


class _Node:
    """Hashes one column (or nested child) from successive Arrow arrays."""

    def __init__(self, logical: str) -> None:
        self.logical = logical

    def update(self, arr: Any) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        raise NotImplementedError


def _validity(arr: Any) -> npt.NDArray[np.bool_] | None:
    """Row validity as a numpy bool array, or None when no row is null."""
    if arr.null_count == 0:
        return None
    return arr.is_valid().to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _update_validity(stream: _Stream, valid: npt.NDArray[np.bool_] | None, rows: int) -> None:
    import numpy as np

    if valid is None:
        stream.update(np.ones(rows, dtype=np.uint8))
    else:
        stream.update(valid.view(np.uint8))


class _NullNode(_Node):
    def update(self, arr: Any) -> None:
        """A null-typed column has no streams: the row count says everything."""

    def describe(self) -> dict[str, object]:
        return {"type": self.logical}


class _BoolNode(_Node):
    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.validity, self.values = _Stream(), _Stream()

    def update(self, arr: Any) -> None:
        import numpy as np
        import pyarrow.compute as pc

        if len(arr) == 0:
            return
        _update_validity(self.validity, _validity(arr), len(arr))
        # Bit-packed buffers do not concatenate across chunk boundaries; one byte a row does.
        filled = pc.fill_null(arr, False) if arr.null_count else arr
        self.values.update(filled.to_numpy(zero_copy_only=False).view(np.uint8))

    def describe(self) -> dict[str, object]:
        return {
            "type": self.logical,
            "validity": self.validity.text(),
            "values": self.values.text(),
        }


_CANONICAL_NAN: Final = {2: 0x7E00, 4: 0x7FC00000, 8: 0x7FF8000000000000}


class _FixedNode(_Node):
    """Fixed-width values hashed straight from the Arrow values buffer."""

    def __init__(
        self, logical: str, width: int, *, is_float: bool = False, decimal: bool = False
    ) -> None:
        super().__init__(logical)
        self.width, self.is_float, self.decimal = width, is_float, decimal
        self.validity, self.values = _Stream(), _Stream()

    def update(self, arr: Any) -> None:
        import numpy as np

        rows = len(arr)
        if rows == 0:
            return
        valid = _validity(arr)
        _update_validity(self.validity, valid, rows)
        width = self.width
        buffer = arr.buffers()[1]
        values: Any
        owned = False  # whether `values` is our own writable copy
        if buffer is None:
            values, owned = np.zeros((rows, width), dtype=np.uint8), True
        elif width in (1, 2, 4, 8) and not self.decimal:
            values = np.frombuffer(
                buffer, dtype=f"<u{width}", count=rows, offset=arr.offset * width
            )
        else:
            values = np.frombuffer(
                buffer, dtype=np.uint8, count=rows * width, offset=arr.offset * width
            ).reshape(rows, width)
        if self.is_float:
            nans = np.isnan(values.view(f"<f{width}"))
            if nans.any():
                values, owned = values.copy(), True
                values[nans] = _CANONICAL_NAN[width]
        if self.decimal and width != 32:
            # Sign-extend every decimal to 256 bits so widths of one logical type agree.
            wide = np.empty((rows, 32), dtype=np.uint8)
            wide[:, :width] = values
            wide[:, width:] = (values[:, width - 1 : width] >> 7) * np.uint8(0xFF)
            values, owned = wide, True
        if valid is not None:
            if not owned:
                values = values.copy()
            values[~valid] = 0
        self.values.update(np.ascontiguousarray(values))

    def describe(self) -> dict[str, object]:
        return {
            "type": self.logical,
            "validity": self.validity.text(),
            "values": self.values.text(),
        }


def _int64_le(values: Any) -> Any:
    import numpy as np

    return np.ascontiguousarray(values, dtype="<i8")


class _BinaryNode(_Node):
    """Strings and binaries: int64 lengths (0 for null) and the concatenated bytes."""

    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.validity, self.lengths, self.data = _Stream(), _Stream(), _Stream()

    def update(self, arr: Any) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        rows = len(arr)
        if rows == 0:
            return
        valid = _validity(arr)
        _update_validity(self.validity, valid, rows)
        wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
        item = 8 if wide else 4

        def offsets(a: Any) -> Any:
            return np.frombuffer(
                a.buffers()[1], dtype=f"<i{item}", count=rows + 1, offset=a.offset * item
            )

        offs = offsets(arr)
        lengths = np.diff(offs)
        if valid is not None and lengths[~valid].any():
            # Arrow lets a null slot own bytes; rebuild so nulls own none.
            empty = pa.scalar(
                b"" if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type) else "",
                arr.type,
            )
            arr = pc.if_else(arr.is_valid(), arr, empty)
            offs = offsets(arr)
            lengths = np.diff(offs)
        self.lengths.update(_int64_le(lengths))
        start, stop = int(offs[0]), int(offs[-1])
        if stop > start:
            self.data.update(memoryview(arr.buffers()[2])[start:stop])

    def describe(self) -> dict[str, object]:
        return {
            "type": self.logical,
            "validity": self.validity.text(),
            "lengths": self.lengths.text(),
            "data": self.data.text(),
        }


class _ListNode(_Node):
    """Lists of any layout: int64 lengths (0 for null) and the child values of valid rows."""

    def __init__(self, logical: str, child: _Node) -> None:
        super().__init__(logical)
        self.child = child
        self.validity, self.lengths = _Stream(), _Stream()

    def update(self, arr: Any) -> None:
        import pyarrow.compute as pc

        rows = len(arr)
        if rows == 0:
            return
        _update_validity(self.validity, _validity(arr), rows)
        lengths = pc.fill_null(pc.list_value_length(arr), 0)
        self.lengths.update(_int64_le(lengths.to_numpy(zero_copy_only=False)))
        # flatten() honours the slice offset and skips null rows backed by values.
        self.child.update(arr.flatten())

    def describe(self) -> dict[str, object]:
        return {
            "type": self.logical,
            "validity": self.validity.text(),
            "lengths": self.lengths.text(),
            "children": [self.child.describe()],
        }


class _StructNode(_Node):
    def __init__(self, logical: str, names: list[str], children: list[_Node]) -> None:
        super().__init__(logical)
        self.names, self.children = names, children
        self.validity = _Stream()

    def update(self, arr: Any) -> None:
        rows = len(arr)
        if rows == 0:
            return
        _update_validity(self.validity, _validity(arr), rows)
        # flatten() folds the struct's own nulls into each field, so hidden field values
        # under a null struct row never reach the hash.
        for child, values in zip(self.children, arr.flatten(), strict=True):
            child.update(values)

    def describe(self) -> dict[str, object]:
        children = [
            {"name": name, **child.describe()}
            for name, child in zip(self.names, self.children, strict=True)
        ]
        return {"type": self.logical, "validity": self.validity.text(), "children": children}


class _Normalised(_Node):
    """Rewrites each array into the physical form its inner node hashes."""

    def __init__(self, inner: _Node, prepare: Callable[[Any], Any]) -> None:
        super().__init__(inner.logical)
        self.inner, self.prepare = inner, prepare

    def update(self, arr: Any) -> None:
        self.inner.update(self.prepare(arr))

    def describe(self) -> dict[str, object]:
        return self.inner.describe()


def _unsupported(arrow_type: Any) -> InputError:
    return InputError(
        f"unsupported column type {arrow_type}",
        hint="cast the column to a plain Arrow type (numbers, strings, temporal, list, struct)",
    )


def _logical_name(t: Any) -> str:
    """Canonical logical type text; physical variants of one logical type share it."""
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(t) or types.is_run_end_encoded(t):
        return _logical_name(t.value_type)
    if isinstance(t, pa.ExtensionType):
        return f"extension<{json.dumps(t.extension_name)}: {_logical_name(t.storage_type)}>"
    if types.is_null(t):
        return "null"
    if types.is_boolean(t):
        return "bool"
    if types.is_integer(t):
        return str(t)
    if types.is_floating(t):
        return f"float{t.bit_width}"
    if types.is_string(t) or types.is_large_string(t) or types.is_string_view(t):
        return "string"
    if types.is_binary(t) or types.is_large_binary(t) or types.is_binary_view(t):
        return "binary"
    if types.is_fixed_size_binary(t) and not types.is_decimal(t):
        return f"fixed_size_binary[{t.byte_width}]"
    if types.is_decimal(t):
        return f"decimal({t.precision}, {t.scale})"
    if types.is_date32(t) or types.is_date64(t):
        return "date32" if types.is_date32(t) else "date64"
    if types.is_time32(t) or types.is_time64(t):
        return f"time{t.bit_width}[{t.unit}]"
    if types.is_timestamp(t):
        return f"timestamp[{t.unit}]" if t.tz is None else f"timestamp[{t.unit}, tz={t.tz}]"
    if types.is_duration(t):
        return f"duration[{t.unit}]"
    if types.is_interval(t):
        return f"interval[{t}]"
    if types.is_fixed_size_list(t):
        return f"fixed_size_list<{_logical_name(t.value_type)}>[{t.list_size}]"
    if types.is_map(t):
        return f"map<{_logical_name(t.key_type)}, {_logical_name(t.item_type)}>"
    if (
        types.is_list(t)
        or types.is_large_list(t)
        or types.is_list_view(t)
        or types.is_large_list_view(t)
    ):
        return f"list<{_logical_name(t.value_type)}>"
    if types.is_struct(t):
        fields = ", ".join(f"{json.dumps(f.name)}: {_logical_name(f.type)}" for f in t)
        return f"struct<{fields}>"
    raise _unsupported(t)


def _make_node(t: Any) -> _Node:
    """Build the hasher tree for an Arrow type (checked recursively before any data is read)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    types = pa.types
    logical = _logical_name(t)
    if isinstance(t, pa.ExtensionType):
        return _Normalised(_make_node(t.storage_type), lambda a: a.storage)
    if types.is_dictionary(t):
        return _Normalised(_make_node(t.value_type), lambda a: a.dictionary_decode())
    if types.is_run_end_encoded(t):
        return _Normalised(_make_node(t.value_type), pc.run_end_decode)
    if types.is_string_view(t) or types.is_binary_view(t):
        target = pa.large_string() if types.is_string_view(t) else pa.large_binary()
        return _Normalised(_BinaryNode(logical), lambda a: a.cast(target))
    if types.is_null(t):
        return _NullNode(logical)
    if types.is_boolean(t):
        return _BoolNode(logical)
    if types.is_floating(t):
        return _FixedNode(logical, t.bit_width // 8, is_float=True)
    if types.is_decimal(t):
        return _FixedNode(logical, t.bit_width // 8, decimal=True)
    if (
        types.is_string(t)
        or types.is_large_string(t)
        or types.is_binary(t)
        or types.is_large_binary(t)
    ):
        return _BinaryNode(logical)
    if types.is_map(t):
        entry = pa.struct(
            [pa.field("key", t.key_type, nullable=False), pa.field("value", t.item_type)]
        )
        as_list = pa.large_list(entry)
        inner = _ListNode(logical, _make_node(entry))
        return _Normalised(inner, lambda a: a.cast(as_list))
    if (
        types.is_list(t)
        or types.is_large_list(t)
        or types.is_list_view(t)
        or types.is_large_list_view(t)
        or types.is_fixed_size_list(t)
    ):
        return _ListNode(logical, _make_node(t.value_type))
    if types.is_struct(t):
        return _StructNode(logical, [f.name for f in t], [_make_node(f.type) for f in t])
    try:
        bits = t.bit_width
    except ValueError:
        raise _unsupported(t) from None
    if bits % 8:
        raise _unsupported(t)
    return _FixedNode(logical, bits // 8)


class _TableHasher:
    def __init__(self, schema: Any) -> None:
        self.names: list[str] = list(schema.names)
        self.nodes = [_make_node(f.type) for f in schema]
        self.rows = 0

    def add_columns(self, columns: Iterable[Iterable[Any]], rows: int) -> None:
        """Feed each column's chunks; columns are independent so chunkings may differ."""
        for node, chunks in zip(self.nodes, columns, strict=True):
            for chunk in chunks:
                node.update(chunk)
        self.rows += rows

    def result(self) -> TableDigest:
        document = {
            "version": TABLE_DIGEST_VERSION,
            "rows": self.rows,
            "columns": [
                {"name": name, **node.describe()}
                for name, node in zip(self.names, self.nodes, strict=True)
            ],
        }
        columns = [(name, node.logical) for name, node in zip(self.names, self.nodes, strict=True)]
        return TableDigest(bytes_digest(_canonical_json(document)), self.rows, columns)


def _type_name(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def _from_pandas(frame: Any) -> Any:
    import pandas as pd
    import pyarrow as pa

    index = frame.index
    default = (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )
    try:
        table = pa.Table.from_pandas(frame, preserve_index=not default)
    except (ValueError, TypeError, UnicodeError) as exc:
        # pandas data that Arrow cannot represent (mixed objects, lone surrogates, ...).
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot read table: {message}", found=_type_name(frame)) from None
    if default:
        return table
    # pyarrow appends index columns after the data; the index leads in Tutela's order.
    data = frame.shape[1]
    order = list(range(data, table.num_columns)) + list(range(data))
    return table.select(order)


def _source(table: object) -> tuple[Any, Iterator[tuple[list[Any], int]]]:
    """Resolve any accepted input to (Arrow schema, iterator of (column chunks, rows))."""
    import pyarrow as pa

    module = type(table).__module__.partition(".")[0]
    pd = sys.modules.get("pandas")
    pl = sys.modules.get("polars")
    if pd is not None and isinstance(table, pd.DataFrame):
        table = _from_pandas(table)
    elif pl is not None and isinstance(table, pl.LazyFrame):
        raise InputError(
            "a polars LazyFrame is not accepted",
            found=_type_name(table),
            hint="collect() it first; Tutela does not run query plans implicitly",
        )
    elif pl is not None and isinstance(table, pl.DataFrame):
        table = table.to_arrow()

    if isinstance(table, pa.Table):
        tab = table
        return tab.schema, iter([([col.chunks for col in tab.columns], tab.num_rows)])
    if isinstance(table, pa.RecordBatch):
        batch = table
        return batch.schema, iter([([[col] for col in batch.columns], batch.num_rows)])
    if isinstance(table, pa.RecordBatchReader):
        reader = table
        return reader.schema, (([[col] for col in b.columns], b.num_rows) for b in reader)
    if module in {"pandas", "polars", "pyarrow", "numpy"} or isinstance(table, str | bytes | dict):
        raise _not_a_table(table)
    if isinstance(table, Iterable):
        return _from_batches(table, pa)
    raise _not_a_table(table)


def _not_a_table(table: object) -> InputError:
    return InputError(
        f"cannot fingerprint a {_type_name(table)}",
        expected="a pandas or polars DataFrame, or a pyarrow Table, RecordBatch, "
        "RecordBatchReader or iterable of RecordBatch",
        found=_type_name(table),
    )


def _from_batches(
    batches: Iterable[object], pa: Any
) -> tuple[Any, Iterator[tuple[list[Any], int]]]:
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        raise InputError(
            "an empty iterable of record batches has no schema",
            hint="pass a pyarrow Table (it keeps its schema when empty)",
        )
    if not isinstance(first, pa.RecordBatch):
        raise InputError(
            f"cannot fingerprint a {_type_name(batches)} of {_type_name(first)}",
            expected="an iterable of pyarrow.RecordBatch",
        )
    schema = first.schema

    def chunks() -> Iterator[tuple[list[Any], int]]:
        yield [[col] for col in first.columns], first.num_rows
        for position, batch in enumerate(iterator, 1):
            if not isinstance(batch, pa.RecordBatch) or not batch.schema.equals(schema):
                raise InputError(
                    f"record batch {position} does not match the first batch's schema",
                    expected=str(schema).replace("\n", "; "),
                    found=_type_name(batch)
                    if not isinstance(batch, pa.RecordBatch)
                    else str(batch.schema).replace("\n", "; "),
                )
            yield [[col] for col in batch.columns], batch.num_rows

    return schema, chunks()


def table_digest(table: object) -> TableDigest:
    """Fingerprint an in-memory table without writing it anywhere.

    The digest depends on column names and order, logical types and values, never on
    chunking, batch sizes, physical encodings or the library the table came from.
    """
    try:
        import pyarrow as pa
    except ImportError:
        raise InputError("table digests need pyarrow", hint="install tutela[data]") from None
    if sys.byteorder != "little":
        raise InputError("table digests are only implemented on little-endian hosts")
    try:
        schema, parts = _source(table)
        hasher = _TableHasher(schema)
        for columns, rows in parts:
            hasher.add_columns(columns, rows)
    except pa.ArrowException as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot read table: {message}", found=_type_name(table)) from None
    return hasher.result()
