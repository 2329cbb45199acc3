"""What a run ran with: the code (git state) and the environment (installed distributions).

Both are digests an auditor can recompute:

- code: ``git rev-parse HEAD``; when the tree is dirty, ``diff_digest`` is the SHA-256 of
  the bytes of ``git diff HEAD --binary`` followed by, for each untracked file (sorted,
  ``git ls-files --others --exclude-standard -z``), its path, a NUL, its SHA-256 hex and
  a newline. Git runs locally with a time limit and never touches the network.
- environment: SHA-256 of the sorted ``name==version`` lines (names normalised as in
  PEP 503), joined by newlines, of every distribution ``importlib.metadata`` sees.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["capture_code", "capture_environment", "distributions"]

_log = logging.getLogger(__name__)
_GIT_TIMEOUT = 20.0
_MAX_UNTRACKED_LISTED = 200
_MAX_UNTRACKED_HASHED = 10_000


def _git(args: list[str], cwd: Path) -> bytes | None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _log.debug("git %s failed: %s", args[0], exc)
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout


def capture_code(start: Path | None = None) -> dict[str, Any] | None:
    """The git state of the working tree holding ``start``, or None outside git."""
    cwd = (start or Path.cwd()).resolve()
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top is None:
        return None
    root = Path(top.decode("utf-8", "surrogateescape").strip())
    head = _git(["rev-parse", "--verify", "-q", "HEAD"], root)
    commit = head.decode().strip() if head else None  # None: a repository without commits
    diff = _git(["diff", "HEAD", "--binary"], root) if commit else b""
    untracked_raw = _git(["ls-files", "--others", "--exclude-standard", "-z"], root) or b""
    untracked = sorted(p for p in untracked_raw.split(b"\0") if p)
    hasher = hashlib.sha256(diff or b"")
    for rel in untracked[:_MAX_UNTRACKED_HASHED]:
        hasher.update(rel + b"\0" + _file_hex(root / os.fsdecode(rel)).encode() + b"\n")
    dirty = bool(diff) or bool(untracked)
    remote = _git(["config", "--get", "remote.origin.url"], root)
    return {
        "vcs": "git",
        "root": str(root),
        "commit": commit,
        "dirty": dirty,
        "diff_digest": "sha256:" + hasher.hexdigest() if dirty else None,
        "untracked": [os.fsdecode(p) for p in untracked[:_MAX_UNTRACKED_LISTED]],
        "untracked_count": len(untracked),
        "remote": _strip_credentials(remote.decode().strip()) if remote else None,
    }


def _strip_credentials(url: str) -> str:
    # https://user:token@host/repo must never reach the ledger.
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url)


def _file_hex(path: Path) -> str:
    hasher = hashlib.sha256()
    try:
        if not path.is_file() or path.is_symlink():
            return "-"
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
    except OSError:
        return "-"
    return hasher.hexdigest()


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions() -> list[str]:
    """Sorted, de-duplicated ``name==version`` of every installed distribution."""
    from importlib.metadata import distributions as all_distributions

    seen: set[str] = set()
    for dist in all_distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            seen.add(f"{_normalise(name)}=={dist.version}")
    return sorted(seen)


def capture_environment() -> dict[str, Any]:
    dists = distributions()
    digest = hashlib.sha256("\n".join(dists).encode("utf-8")).hexdigest()
    return {
        "digest": "sha256:" + digest,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "executable": sys.executable,
        "distributions": dists,
    }
