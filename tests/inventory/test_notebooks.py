"""NotebookDetector: code cells analysed like Python, cell-relative locations, bad notebooks."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

from tutela.inventory.interface import FileInput, ItemKind
from tutela.inventory.notebooks import MAX_NOTEBOOK_BYTES, NotebookDetector

_RNG = random.Random(99)
HF_TOKEN = "hf_" + "".join(_RNG.choice(string.ascii_letters) for _ in range(34))


def _cell(kind: str, source: Any, outputs: list[Any] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell["outputs"] = outputs or []
        cell["execution_count"] = None
    return cell


def _notebook(cells: list[dict[str, Any]]) -> bytes:
    doc = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    return json.dumps(doc).encode()


def _detect(tmp_path: Path, data: bytes, rel: str = "nb.ipynb") -> tuple[list[Any], list[Any]]:
    (tmp_path / rel).write_bytes(data)
    file = FileInput(root=tmp_path, rel=rel, data=data, size=len(data), truncated=False)
    return NotebookDetector().detect(file)


CELLS = [
    _cell("markdown", "# Uses gpt-4o through OpenAI\n"),  # cell 1: prose is not code
    _cell("code", ["!pip install openai anthropic\n", "%matplotlib inline\n"]),  # cell 2
    _cell("code", ["from openai import OpenAI\n", 'MODEL = "gpt-4o"\n']),  # cell 3
    _cell(
        "code",
        "client = OpenAI()\n\nif True:\n    !echo hi\n"
        "resp = client.chat.completions.create(model=MODEL, messages=[])\n",
    ),  # cell 4: the model is on line 5 of the cell, the constant comes from cell 3
    _cell("code", "%%bash\nimport anthropic\n"),  # cell 5: another language
    _cell("code", "x = = 1\n"),  # cell 6: broken
    _cell(
        "code",
        f'%%time\nfrom huggingface_hub import login\nlogin(token="{HF_TOKEN}")\n',
        [{"output_type": "stream", "name": "stdout", "text": [f"token {HF_TOKEN}\n"]}],
    ),  # cell 7
]


def test_code_cells_are_analysed_with_cell_locations(tmp_path: Path) -> None:
    """Findings carry the notebook path, the line within the cell and the cell number."""
    findings, _ = _detect(tmp_path, _notebook(CELLS))
    got = {(f.kind, f.identity, f.location.line, f.properties.get("cell")) for f in findings}
    assert (ItemKind.FRAMEWORK, "pypi/openai", 1, 3) in got
    assert (ItemKind.SERVICE, "service/openai", 1, 4) in got
    assert (ItemKind.MODEL, "openai/gpt-4o", 5, 4) in got
    assert (ItemKind.FRAMEWORK, "pypi/huggingface-hub", 2, 7) in got
    model = next(f for f in findings if f.identity == "openai/gpt-4o")
    assert model.location.path == "nb.ipynb" and model.properties["cell_line"] == 5
    assert model.detector == "discover.notebook"


def test_magics_prose_and_other_languages_are_not_code(tmp_path: Path) -> None:
    """Markdown, ! and % lines and %%bash cells give no framework or model findings."""
    findings, _ = _detect(tmp_path, _notebook(CELLS))
    identities = {f.identity for f in findings}
    assert "pypi/anthropic" not in identities
    assert not any(f.kind is ItemKind.MODEL and f.properties.get("cell") == 1 for f in findings)


def test_broken_cell_is_a_problem_and_others_still_count(tmp_path: Path) -> None:
    """A cell that does not parse is one Problem naming the cell and line."""
    findings, problems = _detect(tmp_path, _notebook(CELLS))
    assert [p.message for p in problems] == ["cell 6: line 1: not valid Python (invalid syntax)"]
    assert findings


def test_secrets_in_cells_and_outputs_are_reported_without_value(tmp_path: Path) -> None:
    """A token in a cell and in its printed output is reported twice, never shown."""
    findings, _ = _detect(tmp_path, _notebook(CELLS))
    secrets = [f for f in findings if f.kind is ItemKind.SECRET]
    assert {s.identity for s in secrets} == {
        "secret/huggingface-token@nb.ipynb:cell7:3",
        "secret/huggingface-token@nb.ipynb:cell7:output",
    }
    assert HF_TOKEN not in repr(findings) and HF_TOKEN[3:] not in repr(findings)


def test_nbformat3_worksheets_are_read(tmp_path: Path) -> None:
    """An nbformat 3 notebook (worksheets, input) is analysed too."""
    doc = {
        "nbformat": 3,
        "worksheets": [{"cells": [{"cell_type": "code", "input": ["import torch\n"]}]}],
    }
    findings, problems = _detect(tmp_path, json.dumps(doc).encode())
    assert problems == [] and [f.identity for f in findings] == ["pypi/torch"]


def test_not_json_or_not_a_notebook_is_a_problem(tmp_path: Path) -> None:
    """Junk, JSON that is not nbformat, deep JSON and binary data are Problems."""
    cases = {
        b"this is { not json": "invalid JSON",
        b'{"hello": "world"}': "nbformat",
        b"[1, 2, 3]": "nbformat",
        b"[" * 100_000 + b"]" * 100_000: "not a notebook",
        b"\x00\xff\x00binary": "UTF-8",
    }
    for data, expected in cases.items():
        findings, problems = _detect(tmp_path, data)
        assert findings == [] and len(problems) == 1, data[:20]
        assert expected in problems[0].message and problems[0].path == "nb.ipynb"


def test_oversized_notebook_is_a_problem(tmp_path: Path) -> None:
    """A notebook over the limit, or truncated by the walker, is skipped with a Problem."""
    data = _notebook(CELLS)
    for file in (
        FileInput(tmp_path, "nb.ipynb", data, MAX_NOTEBOOK_BYTES + 1, False),
        FileInput(tmp_path, "nb.ipynb", data, len(data), True),
    ):
        findings, problems = NotebookDetector().detect(file)
        assert findings == [] and "limit" in problems[0].message


def test_odd_cells_are_skipped_not_fatal(tmp_path: Path) -> None:
    """Cells of the wrong shape are ignored; the rest of the notebook is read."""
    cells: list[Any] = [7, {"cell_type": "code"}, {"cell_type": "code", "source": 3}]
    cells.append(_cell("code", "import sklearn\n"))
    findings, problems = _detect(tmp_path, _notebook(cells))
    assert problems == [] and [f.identity for f in findings] == ["pypi/scikit-learn"]
    assert findings[0].properties["cell"] == 4


def test_wants_notebooks_only() -> None:
    """The detector asks for .ipynb files only."""
    assert NotebookDetector().wants("a/n.ipynb", "n.ipynb")
    assert not NotebookDetector().wants("a/n.py", "n.py")
