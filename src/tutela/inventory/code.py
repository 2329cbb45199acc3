"""Project source: constants collected across every module first, then each file analysed.

Python and notebooks are read once each; the two passes work on the bytes in memory.
"""

from __future__ import annotations

import ast
import gc
import os
from pathlib import Path

from tutela.inventory.interface import FileInput, Finding, Problem
from tutela.inventory.notebooks import NotebookDetector
from tutela.inventory.python_code import PythonDetector, collect_constants_and_tree
from tutela.inventory.walk import Entry

__all__ = ["analyse_code"]

_TREE_BUDGET = 32 * 1024 * 1024  # bytes of source whose trees are kept between passes


def _read(root: str, entry: Entry, max_bytes: int) -> FileInput | Problem:
    try:
        with open(os.path.join(root, entry.rel), "rb") as handle:  # noqa: PTH123, PTH118
            data = handle.read(max_bytes)
    except OSError as exc:
        return Problem(entry.rel, f"cannot read: {exc.strerror}")
    return FileInput(Path(root), entry.rel, data, entry.size, entry.size > len(data))


def analyse_code(
    root: str, entries: list[Entry], *, max_bytes: int
) -> tuple[list[Finding], list[Problem]]:
    # Parsing allocates millions of AST nodes (no reference cycles among them); the
    # cyclic collector kept rescanning them and took three quarters of the parse time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyse(root, entries, max_bytes=max_bytes)
    finally:
        if enabled:
            gc.enable()


def _analyse(
    root: str, entries: list[Entry], *, max_bytes: int
) -> tuple[list[Finding], list[Problem]]:
    findings: list[Finding] = []
    problems: list[Problem] = []
    files: list[FileInput] = []
    for entry in entries:
        read = _read(root, entry, max_bytes)
        if isinstance(read, Problem):
            problems.append(read)
        else:
            files.append(read)
    constants: dict[str, dict[str, str]] = {}
    trees: dict[str, ast.Module] = {}
    kept = 0
    for file in files:
        if file.rel.endswith((".py", ".pyi")):
            try:
                module, values, tree = collect_constants_and_tree(file)
            except Exception:  # noqa: S112 - the detector reports unparsable files below
                continue
            if values:
                constants.setdefault(module, {}).update(values)
            # Keep parsed trees for the second pass, within a memory budget (a tree
            # costs roughly ten times its source); past it the file is parsed again.
            if tree is not None and kept + len(file.data) <= _TREE_BUDGET:
                trees[file.rel] = tree
                kept += len(file.data)
    python = PythonDetector(constants, trees=trees)
    notebook = NotebookDetector(constants)
    for file in files:
        detector = notebook if file.rel.endswith(".ipynb") else python
        try:
            found, issues = detector.detect(file)
        except Exception as exc:  # a detector bug must not stop the run
            problems.append(Problem(file.rel, f"{detector.id} failed: {type(exc).__name__}"))
            continue
        findings.extend(found)
        problems.extend(issues)
    return findings, problems
