"""Directory digests (``tutela.dir/1``): SHA-256 of a canonical manifest of the tree.

The walk never follows symlinks unless asked, never opens special files, and sorts paths
by their raw bytes; docs/digests.md specifies the manifest exactly.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from typing import Final

from tutela.digest.core import bytes_digest, canonical_json
from tutela.digest.files import (
    EntryType,
    display_path,
    file_digest,
    hash_regular,
    os_error,
    special_type,
    stat_root,
)
from tutela.errors import InputError, LimitExceeded

__all__ = [
    "DIR_MANIFEST_VERSION",
    "DirDigest",
    "Manifest",
    "ManifestEntry",
    "dir_digest",
    "path_digest",
]

DIR_MANIFEST_VERSION: Final = "tutela.dir/1"


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
        return canonical_json(self.to_dict())

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
            raise os_error(exc, here) from None
        if not children and rel:
            entries.append(ManifestEntry(_decode(rel), "dir"))
        for name, full in children:
            seen += 1
            if seen > limit:
                raise LimitExceeded(
                    "too many entries in directory tree",
                    subject=display_path(root),
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
                raise InputError(problem, subject=display_path(full)) from None
            except OSError as exc:
                raise os_error(exc, full) from None
            mode = info.st_mode
            if stat.S_ISDIR(mode):
                key = (info.st_dev, info.st_ino)
                if key in ancestors:
                    raise InputError(
                        "directory cycle: leads back to an ancestor", subject=display_path(full)
                    )
                stack.append((child_rel, full, ancestors | {key}))
            elif stat.S_ISREG(mode):
                found = hash_regular(full, info, nofollow=not via_link)
                entries.append(ManifestEntry(_decode(child_rel), "file", found.size, found.digest))
            else:
                entries.append(ManifestEntry(_decode(child_rel), special_type(mode) or "other"))
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
    raw, info = stat_root(path)
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(
            "is not a directory", subject=display_path(raw), hint="use file_digest or path_digest"
        )
    manifest = Manifest(tuple(_walk(raw, info, follow=follow_symlinks, limit=max_entries)))
    return DirDigest(manifest.digest(), manifest)


def path_digest(path: str | os.PathLike[str]) -> str:
    """Digest a file or a directory, whichever ``path`` names."""
    _, info = stat_root(path)
    if stat.S_ISDIR(info.st_mode):
        return dir_digest(path).digest
    return file_digest(path).digest
