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

The implementation is split by kind: :mod:`tutela.digest.core` (digest text, canonical
JSON), :mod:`tutela.digest.files`, :mod:`tutela.digest.directories`,
:mod:`tutela.digest.tables` and :mod:`tutela.digest.arrow_streams` (the per-column
streams). Only the standard library and ``tutela.errors`` are imported at module level;
``rfc8785``, pyarrow, numpy, pandas and polars are imported inside the functions that need
them, so ``import tutela.digest`` stays cheap.
"""

from tutela.digest.core import PREFIX, bytes_digest, format_digest, parse_digest
from tutela.digest.directories import (
    DIR_MANIFEST_VERSION,
    DirDigest,
    Manifest,
    ManifestEntry,
    dir_digest,
    path_digest,
)
from tutela.digest.files import FileDigest, file_digest
from tutela.digest.tables import TABLE_DIGEST_VERSION, TableDigest, table_digest

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
