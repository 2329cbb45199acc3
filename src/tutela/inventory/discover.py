"""`tutela discover`: walk once, run each file's detectors, merge into an inventory.

Project source (``.py``, ``.ipynb``) is analysed in this process with constants collected
across the whole project first; every other file goes, in chunks, to a process pool when
there are many (two cores parse twice as fast), or is handled inline when there are few.
Model and dataset folders are named by the digest of a manifest built from the digests of
their files, in the format of ``tutela.digest.dir_digest`` (so it equals ``tutela hash``
of the folder when it holds no links, empty folders or ignored files).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tutela.digest import Manifest, ManifestEntry
from tutela.inventory.artifacts import FileResult, inspect_file
from tutela.inventory.interface import (
    Confidence,
    FileDetector,
    Finding,
    ItemKind,
    Location,
    Problem,
)
from tutela.inventory.model import Inventory
from tutela.inventory.walk import Entry, Zone, walk

__all__ = ["DiscoverOptions", "discover"]

_PARALLEL_MIN = 2_000  # fewer files than this are faster inline than through a pool
_CHUNK = 512


@dataclass(frozen=True)
class DiscoverOptions:
    include_ignored: bool = False
    workers: int | None = None  # None: CPU count; 0: inline
    max_bytes: int = 4 * 1024 * 1024  # read in full for detectors (larger: a Problem)


def _other_detectors() -> list[FileDetector]:
    """Detectors for every file that is not project source."""
    from tutela.inventory.docker import DockerfileDetector
    from tutela.inventory.manifests import MANIFEST_DETECTORS
    from tutela.inventory.mcp import McpDetector
    from tutela.inventory.venv import DistributionDetector

    return [*MANIFEST_DETECTORS, DistributionDetector(), McpDetector(), DockerfileDetector()]


def _wanted(detectors: Sequence[FileDetector], entry: Entry) -> list[FileDetector]:
    name = entry.rel.rsplit("/", 1)[-1]
    if entry.zone is Zone.ENVIRONMENT:
        return [d for d in detectors if d.id == "discover.venv" and d.wants(entry.rel, name)]
    return [d for d in detectors if d.wants(entry.rel, name)]


def _process(root: str, entries: list[Entry], max_bytes: int) -> list[tuple[str, FileResult]]:
    detectors = _other_detectors()
    return [
        (e.rel, inspect_file(root, e, _wanted(detectors, e), max_bytes=max_bytes)) for e in entries
    ]


def _is_code(entry: Entry) -> bool:
    return entry.zone is Zone.PROJECT and entry.rel.endswith((".py", ".pyi", ".ipynb"))


def discover(root: Path, options: DiscoverOptions | None = None) -> Inventory:
    from tutela.inventory.code import analyse_code

    opts = options or DiscoverOptions()
    base = str(root.resolve())
    problems: list[Problem] = []
    entries = list(walk(base, include_ignored=opts.include_ignored, problems=problems))
    code = [e for e in entries if _is_code(e)]
    other = [e for e in entries if not _is_code(e)]
    workers = opts.workers if opts.workers is not None else (os.cpu_count() or 1)
    results: list[tuple[str, FileResult]] = []
    findings: list[Finding] = []
    if workers > 1 and len(other) >= _PARALLEL_MIN:
        chunks = [other[i : i + _CHUNK] for i in range(0, len(other), _CHUNK)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_process, base, chunk, opts.max_bytes) for chunk in chunks]
            # Project source is analysed here while the pool reads everything else.
            code_findings, code_problems = analyse_code(base, code, max_bytes=opts.max_bytes)
            for future in futures:
                results.extend(future.result())
    else:
        code_findings, code_problems = analyse_code(base, code, max_bytes=opts.max_bytes)
        results = _process(base, other, opts.max_bytes)
    findings.extend(code_findings)
    problems.extend(code_problems)
    for _rel, result in results:
        findings.extend(result.findings)
        problems.extend(result.problems)
    findings.extend(_folder_findings(entries, dict(results)))
    return Inventory.merge(findings, problems, root=base)


def _folder_findings(entries: list[Entry], results: dict[str, FileResult]) -> list[Finding]:
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.asset_dir is not None and entry.asset_dir_kind is not None:
            groups[(entry.asset_dir, entry.asset_dir_kind)].append(entry)
    out: list[Finding] = []
    for (folder, kind), members in sorted(groups.items()):
        prefix = "" if folder == "." else folder + "/"
        files = []
        complete = True
        for entry in members:
            result = results.get(entry.rel)
            if result is None or result.digest is None:
                complete = False
                continue
            files.append(ManifestEntry(entry.rel[len(prefix) :], "file", entry.size, result.digest))
        files.sort(key=lambda e: e.path_bytes)
        digest = Manifest(tuple(files)).digest()
        names = {e.rel[len(prefix) :] for e in members}
        props = {
            "digest": digest,
            "files": len(files),
            "size": sum(e.size for e in members),
            "layout": "mlflow" if "MLmodel" in names else "huggingface",
            "complete": complete,
        }
        item_kind = ItemKind.MODEL if kind == "model" else ItemKind.DATASET
        out.append(
            Finding(item_kind, digest, folder, Confidence.DECLARED, Location(folder),
                    "discover.artifact", properties=props)
        )  # fmt: skip
    return out
