"""Jupyter notebooks: the code cells get the same analysis as Python files.

Locations: ``Location.path`` is the notebook and ``Location.line`` the 1-based line
*within the cell*; ``properties["cell"]`` is the 1-based position of the cell among all
the notebook's cells (markdown included, top to bottom, as a person counts them in
Jupyter) and ``properties["cell_line"]`` repeats the line. ``nb.ipynb:3`` with
``cell=5`` reads "cell 5, line 3". Frameworks are located at their import.

Cells share one namespace, as in a kernel: imports and constants of every cell are
collected first, so a cell may use a ``MODEL`` set in another. IPython syntax is not
Python: a line starting with ``%`` or ``!`` becomes ``pass`` (keeping the line count and
indentation); a cell starting with a ``%%`` magic other than ``%%time``/``%%timeit``/
``%%capture`` is another language and skipped. A cell that still does not parse is a
``Problem`` naming the cell and line; the other cells are analysed. Secrets are looked
for in every cell's source (code, markdown, raw) and in text outputs.

Both nbformat 4 (``cells`` with ``source``) and 3 (``worksheets`` with ``input``) are read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tutela.inventory.interface import FileInput, Finding, ItemKind, Problem
from tutela.inventory.python_code import (
    MAX_SOURCE_BYTES,
    CodeAnalysis,
    Place,
    analyse_source,
    parse_python,
    prepare_source,
    suffix_index,
)
from tutela.inventory.secrets import find_secrets, fingerprint_of

__all__ = ["MAX_NOTEBOOK_BYTES", "NotebookDetector"]

DETECTOR_ID = "discover.notebook"
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024  # outputs (images) make notebooks large
_MAX_CELLS = 10_000
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_MAGIC = re.compile(r"^(\s*)[%!]")


@dataclass(frozen=True, slots=True)
class _Cell:
    number: int  # 1-based among all cells
    kind: str
    source: str
    outputs: tuple[str, ...]


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _outputs(cell: dict[str, Any]) -> tuple[str, ...]:
    texts: list[str] = []
    outputs = cell.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        for value in (output.get("text"), (output.get("data") or {}).get("text/plain")):
            text = _text(value)
            if text:
                texts.append(text)
    return tuple(texts)


def _cells(document: Any) -> list[_Cell] | None:
    """The cells of an nbformat 3 or 4 document, or ``None`` when it is not one."""
    if not isinstance(document, dict):
        return None
    raw: list[Any]
    if isinstance(document.get("cells"), list):
        raw, field = document["cells"], "source"
    elif isinstance(document.get("worksheets"), list):
        raw, field = [], "input"
        for sheet in document["worksheets"]:
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                raw.extend(sheet["cells"])
    else:
        return None
    cells: list[_Cell] = []
    for number, cell in enumerate(raw[:_MAX_CELLS], start=1):
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get(field, cell.get("source")))
        kind = cell.get("cell_type")
        if source is None or not isinstance(kind, str):
            continue
        cells.append(_Cell(number, kind, source, _outputs(cell)))
    return cells


def _python_of(source: str) -> str | None:
    """The cell as Python: magics blanked; ``None`` for a cell in another language."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[0] = ""
    out = []
    for line in lines:
        match = _MAGIC.match(line)
        out.append(f"{match.group(1)}pass" if match else line)
    return "\n".join(out)


def _place_in(cell: int) -> Place:
    def place(line: int | None) -> tuple[int | None, dict[str, Any]]:
        return line, {"cell": cell, "cell_line": line}

    return place


class NotebookDetector:
    """AI frameworks, services, models and secrets in Jupyter notebooks."""

    id = DETECTOR_ID

    def __init__(self, project_constants: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._project = project_constants
        self._index = suffix_index(project_constants) if project_constants else None

    def wants(self, rel: str, name: str) -> bool:
        return name.endswith(".ipynb")

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        if file.truncated or file.size > MAX_NOTEBOOK_BYTES:
            limit = MAX_NOTEBOOK_BYTES
            return [], [Problem(file.rel, f"skipped: {file.size} bytes is over the {limit} limit")]
        text = file.text()
        if text is None:
            return [], [Problem(file.rel, "not a notebook: not UTF-8 text")]
        try:
            document = json.loads(text)
        except RecursionError:
            return [], [Problem(file.rel, "not a notebook: JSON nested too deeply")]
        except ValueError as exc:
            return [], [Problem(file.rel, f"not a notebook: invalid JSON ({exc})"[:200])]
        cells = _cells(document)
        if cells is None:
            return [], [Problem(file.rel, "not a notebook: no nbformat 'cells' or 'worksheets'")]
        return self._analyse(file.rel, cells)

    def _analyse(self, rel: str, cells: list[_Cell]) -> tuple[list[Finding], list[Problem]]:
        secrets: list[Finding] = []
        problems: list[Problem] = []
        analysis = CodeAnalysis(
            rel, project_constants=self._project, detector=self.id, project_index=self._index
        )
        trees = []
        budget = MAX_SOURCE_BYTES
        for cell in cells:
            secrets.extend(find_secrets(cell.source, rel, detector=self.id, cell=cell.number))
            for output in cell.outputs:
                found = find_secrets(output, rel, detector=self.id, cell=cell.number, output=True)
                secrets.extend(found)
            if cell.kind != "code":
                continue
            code = _python_of(cell.source)
            if code is None:
                continue
            budget -= len(code)
            if budget < 0:
                problems.append(Problem(rel, "code cells over the size limit: rest skipped"))
                break
            tree = parse_python(code, rel)
            if isinstance(tree, Problem):
                problems.append(Problem(rel, f"cell {cell.number}: {tree.message}"))
                continue
            place = _place_in(cell.number)
            problem = prepare_source(analysis, tree, place)
            if problem is not None:
                problems.append(Problem(rel, f"cell {cell.number}: {problem.message}"))
                continue
            trees.append((tree, place, cell.number))
        for tree, place, number in trees:
            problem = analyse_source(analysis, tree, place)
            if problem is not None:
                problems.append(Problem(rel, f"cell {number}: {problem.message}"))
        known = {fingerprint_of(f) for f in secrets}
        findings = secrets + [
            f
            for f in analysis.findings
            if f.kind is not ItemKind.SECRET or fingerprint_of(f) not in known
        ]
        return findings, problems
