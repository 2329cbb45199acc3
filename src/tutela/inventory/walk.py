"""Walk a tree once: honour .gitignore, never follow directory links, name each zone.

Git's rules (gitignore(5)): each ``.gitignore`` applies to paths below its directory,
patterns from deeper files override shallower ones, the last matching pattern wins, and
an ignored directory is not entered (so nothing under it can be re-included). Matching
uses ``pathspec``'s GitIgnoreSpec. ``.git`` and tool caches are always skipped.

A directory holding ``pyvenv.cfg``, and any ``site-packages``/``dist-packages`` folder,
is an *environment* zone: third-party code that discovery inventories through its
distribution metadata rather than by parsing every installed module.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import pathspec

from tutela.inventory.interface import Problem

__all__ = ["ALWAYS_SKIPPED", "Entry", "Zone", "walk"]

ALWAYS_SKIPPED = frozenset(
    {
        ".git", ".hg", ".svn", ".tutela", "__pycache__", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", ".tox", ".nox", ".ipynb_checkpoints", "node_modules",
    }
)  # fmt: skip
_MAX_GITIGNORE = 1024 * 1024


class Zone(StrEnum):
    PROJECT = "project"
    ENVIRONMENT = "environment"


@dataclass(frozen=True, slots=True)
class Entry:
    rel: str  # '/'-separated, relative to the root
    size: int
    zone: Zone
    asset_dir: str | None  # the enclosing model or dataset folder, if any
    asset_dir_kind: str | None  # "model" or "dataset"


@dataclass(frozen=True, slots=True)
class _Dir:
    rel: str
    zone: Zone
    specs: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]  # (dir it applies below, spec)
    asset_dir: str | None
    asset_dir_kind: str | None


_WEIGHT_NAMES = (
    ".safetensors", ".bin", ".pt", ".pth", ".h5", ".gguf", ".onnx", ".msgpack", ".ckpt",
)  # fmt: skip


def is_dataset_folder(names: set[str]) -> bool:
    """A Hugging Face ``datasets`` folder saved with save_to_disk."""
    return (
        bool(names & {"dataset_info.json", "dataset_dict.json", "state.json"})
        and any(n.endswith((".arrow", ".parquet")) for n in names)
    ) or "dataset_dict.json" in names


def is_model_folder(names: set[str]) -> bool:
    """Hugging Face layout (config.json + weights) or an MLflow model (MLmodel)."""
    if "MLmodel" in names:
        return True
    if "config.json" not in names and "model_index.json" not in names:
        return False
    return any(n.endswith(_WEIGHT_NAMES) or n.endswith(".index.json") for n in names)


def _ignored(rel: str, is_dir: bool, specs: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]) -> bool:
    decision: bool | None = None
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(sub + "/" if is_dir else sub)
        if result.include is not None:
            decision = result.include
    return bool(decision)


def _load_gitignore(path: str, rel: str, problems: list[Problem]) -> pathspec.GitIgnoreSpec | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_MAX_GITIGNORE + 1)
    except OSError as exc:
        problems.append(Problem(rel, f"cannot read .gitignore: {exc.strerror}"))
        return None
    if len(raw) > _MAX_GITIGNORE:
        problems.append(Problem(rel, ".gitignore larger than 1 MiB: ignored"))
        return None
    try:
        return pathspec.GitIgnoreSpec.from_lines(raw.decode("utf-8", "replace").splitlines())
    except (ValueError, TypeError) as exc:
        problems.append(Problem(rel, f"unparseable .gitignore: {exc}"))
        return None


def walk(
    root: str, *, include_ignored: bool, problems: list[Problem], max_files: int = 5_000_000
) -> Iterator[Entry]:
    """Regular files under ``root`` in a deterministic (sorted) order."""
    pending = [_Dir("", Zone.PROJECT, (), None, None)]
    count = 0
    while pending:
        current = pending.pop()
        path = os.path.join(root, current.rel) if current.rel else root
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(current.rel or ".", f"cannot list directory: {exc.strerror}"))
            continue
        names = {e.name for e in entries}
        zone = current.zone
        if zone is Zone.PROJECT and (
            "pyvenv.cfg" in names or path.endswith(("site-packages", "dist-packages"))
        ):
            zone = Zone.ENVIRONMENT
        specs = current.specs
        if not include_ignored and ".gitignore" in names:
            rel_gi = f"{current.rel}/.gitignore" if current.rel else ".gitignore"
            spec = _load_gitignore(os.path.join(path, ".gitignore"), rel_gi, problems)
            if spec is not None:
                specs = (*specs, (current.rel, spec))
        asset_dir, asset_kind = current.asset_dir, current.asset_dir_kind
        if asset_dir is None and zone is Zone.PROJECT:
            if is_model_folder(names):
                asset_dir, asset_kind = current.rel or ".", "model"
            elif is_dataset_folder(names):
                asset_dir, asset_kind = current.rel or ".", "dataset"
        subdirs: list[_Dir] = []
        for entry in entries:
            rel = f"{current.rel}/{entry.name}" if current.rel else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                problems.append(Problem(rel, f"cannot stat: {exc.strerror}"))
                continue
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                if entry.is_dir(follow_symlinks=True):
                    continue  # directory links are never followed: no loops, no escapes
                try:
                    info = entry.stat(follow_symlinks=True)
                except OSError:
                    problems.append(Problem(rel, "dangling symbolic link"))
                    continue
                target = os.path.realpath(entry.path)
                if not target.startswith(os.path.realpath(root) + os.sep):
                    problems.append(Problem(rel, "symbolic link leaves the tree: not followed"))
                    continue
                mode = info.st_mode
            if stat.S_ISDIR(mode):
                if entry.name in ALWAYS_SKIPPED:
                    continue
                if specs and _ignored(rel, True, specs):
                    continue
                subdirs.append(_Dir(rel, zone, specs, asset_dir, asset_kind))
            elif stat.S_ISREG(mode):
                if specs and _ignored(rel, False, specs):
                    continue
                count += 1
                if count > max_files:
                    problems.append(Problem(rel, f"more than {max_files} files: the walk stopped"))
                    return
                yield Entry(rel, info.st_size, zone, asset_dir, asset_kind)
        pending.extend(reversed(subdirs))
