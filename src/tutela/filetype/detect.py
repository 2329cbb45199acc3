"""Format detection by content (magic bytes and structure), never by file name.

:func:`detect` looks at the first bytes of a file or archive member and names its
format. Formats without a magic number are recognised by structure: protocol 0/1
pickles by parsing their first opcodes (``pickletools.genops`` only parses), protobuf
files (ONNX, SavedModel) by walking their top-level fields. Text is called text only
after it failed to parse as a pickle, because protocol 0 pickles are printable.

Format ids: ``pickle``, ``joblib``, ``pytorch-legacy``, ``zip``, ``tar``, ``gzip``,
``bzip2``, ``xz``, ``lzma``, ``zlib``, ``lz4``, ``zstd``, ``7z``, ``npy``, ``hdf5``,
``safetensors``, ``gguf``, ``onnx``, ``savedmodel``, ``text``, ``other``, ``empty``,
``unknown``. :func:`classify_zip` refines ``zip`` from member names (a label only:
every member is still scanned by content).
"""

from __future__ import annotations

import io
import pickletools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tutela.filetype.protobuf_wire import LEN, WireError, iter_fields

__all__ = ["PICKLE_FORMATS", "Detection", "classify_zip", "detect", "looks_like_pickle"]

# torch.serialization's legacy MAGIC_NUMBER 0x1950A86A20F9469CFC6C, little-endian as
# pickle's LONG1 opcode stores it.
TORCH_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
PICKLE_FORMATS = frozenset({"pickle", "joblib", "pytorch-legacy"})

# Magic numbers of formats that are known not to be model formats that execute code.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"PAR1", "parquet"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"ARROW1", "arrow"),
    (b"Obj\x01", "avro"),
    (b"OggS", "ogg"),
    (b"fLaC", "flac"),
    (b"ID3", "mp3"),
    (b"\x7fELF", "elf"),
    (b"RIFF", "riff"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


@dataclass(frozen=True, slots=True)
class Detection:
    """What the first bytes say. ``detail`` is a short human hint (e.g. ``protocol 4``)."""

    format: str
    detail: str = ""


def detect(head: bytes, size: int) -> Detection:
    """Name the format of content starting with ``head`` (a file of ``size`` bytes)."""
    if size == 0 or not head:
        return Detection("empty")
    pickle = _detect_pickle(head, truncated=size > len(head))
    if pickle is not None:
        return pickle
    for check in (_detect_magic, _detect_safetensors, _detect_tar, _detect_protobuf):
        found = check(head, size)
        if found is not None:
            return found
    if _is_text(head):
        return Detection("text")
    return Detection("unknown")


def _detect_magic(head: bytes, size: int) -> Detection | None:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return Detection("zip")
    if head.startswith(b"\x93NUMPY"):
        return Detection("npy")
    if head.startswith(b"GGUF"):
        return Detection("gguf")
    for offset in (0, 512, 1024, 2048):  # HDF5 allows a user block before the signature
        if head[offset : offset + 8] == b"\x89HDF\r\n\x1a\n":
            return Detection("hdf5")
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return Detection("7z")
    if head.startswith(b"\x1f\x8b"):
        return Detection("gzip")
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4].isdigit():
        return Detection("bzip2")
    if head.startswith(b"\xfd7zXZ\x00"):
        return Detection("xz")
    if head.startswith(b"\x04\x22\x4d\x18"):
        return Detection("lz4")
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return Detection("zstd")
    # lzma-alone: properties byte 0x5d, a power-of-two dictionary size, the 8-byte length.
    dictionary = int.from_bytes(head[1:5], "little") if len(head) >= 13 else 0
    if head[0] == 0x5D and dictionary >= 4096 and dictionary & (dictionary - 1) == 0:
        return Detection("lzma")
    if len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        return Detection("zlib")
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return Detection("other", name)
    return None


def _detect_pickle(head: bytes, *, truncated: bool) -> Detection | None:
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        if TORCH_LEGACY_MAGIC in head[:24]:
            return Detection("pytorch-legacy", f"protocol {head[1]}")
        if b"NumpyArrayWrapper" in head or b"joblib.numpy_pickle" in head:
            return Detection("joblib", f"protocol {head[1]}")
        return Detection("pickle", f"protocol {head[1]}")
    if looks_like_pickle(head, truncated=truncated):
        if TORCH_LEGACY_MAGIC in head[:24]:
            return Detection("pytorch-legacy", "protocol 0/1")
        return Detection("pickle", "protocol 0/1")
    return None


# Opcodes a protocol 0/1 pickle can plausibly start with.
_PICKLE_STARTS = frozenset(b"(c]})ISVNLFGJKMTUXdlt\x88\x89")


def looks_like_pickle(head: bytes, *, truncated: bool) -> bool:
    """True when ``head`` parses as pickle opcodes: to STOP, or for many opcodes if cut.

    Only parses (``pickletools.genops`` never builds objects). A text file fails on its
    first few characters; ``I0\\n.`` is a pickle and says so.
    """
    if not head or head[0] not in _PICKLE_STARTS:
        return False
    count = 0
    stream = io.BytesIO(head)
    try:
        for opcode, _arg, _pos in pickletools.genops(stream):
            count += 1
            if opcode.name == "STOP":
                return True
            if count >= 64:
                return True
    except (ValueError, EOFError, UnicodeDecodeError, OverflowError, TypeError):
        # Cut mid-opcode at the end of a longer file still counts as a pickle.
        return truncated and count >= 8 and stream.tell() >= len(head) - 1024
    return truncated and count >= 8


def _detect_safetensors(head: bytes, size: int) -> Detection | None:
    if len(head) < 10:
        return None
    # The length is not checked against the file size here: a lying length is exactly
    # what the safetensors scanner must report.
    length = int.from_bytes(head[:8], "little")
    if length >= 2 and head[8:9] == b"{" and head[9:10] in (b'"', b"}", b" ", b"\n", b"\r", b"\t"):
        return Detection("safetensors")
    return None


def _detect_tar(head: bytes, size: int) -> Detection | None:
    if len(head) < 512:
        return None
    if head[257:262] == b"ustar":
        return Detection("tar")
    # Old v7 tar has no magic: verify the header checksum.
    field = head[148:156].replace(b"\x00", b" ").strip()
    if not field or not re.fullmatch(rb"[0-7]+", field):
        return None
    expected = int(field, 8)
    actual = sum(head[:148]) + 8 * 0x20 + sum(head[156:512])
    if expected == actual and head[0] != 0:
        return Detection("tar", "v7")
    return None


def _detect_protobuf(head: bytes, size: int) -> Detection | None:
    """ONNX ModelProto or TensorFlow SavedModel, by their top-level field layout."""
    if not head or head[0] != 0x08:  # both start with field 1 as a varint
        return None
    numbers: list[int] = []
    second: bytes | None = None
    try:
        for fld in iter_fields(head[: min(len(head), size)]):
            numbers.append(fld.number)
            if fld.number == 2 and fld.wire == LEN and second is None:
                second = bytes(fld.data()[:64])
            if len(numbers) >= 8:
                break
    except WireError:
        if len(numbers) < 2:
            return None  # too little parsed to call it protobuf
    if not numbers or numbers[0] != 1:
        return None
    onnx_fields = {1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25}
    if set(numbers) <= {1, 2} and second is not None and not _is_text(second):
        return Detection("savedmodel")  # field 2 is a MetaGraphDef, not ONNX's producer_name
    if set(numbers) <= onnx_fields and len(numbers) >= 2:
        return Detection("onnx")
    return None


_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # only a multibyte character cut at the end is fine
            return False
    # Control bytes never occur inside UTF-8 multi-byte sequences, so searching the raw
    # bytes (in C) is the same test as searching the decoded text.
    return _CONTROL.search(head) is None


def classify_zip(names: Iterable[str]) -> str:
    """A label for a zip from its member names: pytorch-zip, torchscript, keras, npz or zip."""
    listed = list(names)
    base = {name.rsplit("/", 1)[-1] for name in listed}
    if any(name.endswith("constants.pkl") for name in listed) and any(
        "/code/" in f"/{name}" for name in listed
    ):
        return "torchscript"
    if "data.pkl" in base or ("version" in base and "byteorder" in base):
        return "pytorch-zip"
    if "config.json" in listed and "metadata.json" in listed:
        return "keras"
    if listed and all(name.endswith(".npy") for name in listed):
        return "npz"
    if any(name.endswith(".pkl") for name in listed):
        return "pytorch-zip"
    return "zip"
