"""`tutela discover` over a fixture repository: precision and recall per kind >= 0.95,
bad input skipped and reported, the inventory recorded and diffed in the workspace."""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections import defaultdict
from pathlib import Path

import pytest

from tutela.inventory.discover import DiscoverOptions, discover
from tutela.inventory.service import record_discovery
from tutela.ledger.log import iter_entries
from tutela.workspace import Workspace

SAFETENSORS = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}    '


def _write(root: Path, rel: str, content: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def build_repo(root: Path) -> dict[str, set[str]]:
    """A small repository with known assets of every kind, and tricky negatives."""
    _write(root, "requirements.txt", "openai==1.51.0\nscikit-learn>=1.4\nrequests==2.32.3\n")
    _write(root, "pyproject.toml", '[project]\nname="svc"\ndependencies=["anthropic>=0.30"]\n')
    _write(
        root,
        "app/settings.py",
        'CHAT_MODEL = "gpt-4o-mini"\nCLAUDE = "claude-3-5-sonnet-20241022"\n',
    )
    _write(
        root,
        "app/llm.py",
        "import openai\nimport anthropic\nfrom app.settings import CHAT_MODEL, CLAUDE\n"
        "client = openai.OpenAI()\n"
        "r = client.chat.completions.create(model=CHAT_MODEL, messages=[])\n"
        "a = anthropic.Anthropic()\n"
        "m = a.messages.create(model=CLAUDE, max_tokens=10, messages=[])\n",
    )
    _write(
        root,
        "app/bedrock.py",
        "import boto3\nrt = boto3.client('bedrock-runtime')\n"
        "rt.invoke_model(modelId='anthropic.claude-3-haiku-20240307-v1:0', body='{}')\n",
    )
    _write(
        root,
        "app/hf.py",
        "from transformers import AutoModel\nm = AutoModel.from_pretrained('bert-base-uncased')\n",
    )
    # Negatives: a Django models.py, 'gpt' in comments and strings, a non-AI import.
    _write(
        root,
        "web/models.py",
        "from django.db import models\n# uses gpt-4 style naming, not an AI call\n"
        "class Order(models.Model):\n    name = models.CharField(max_length=10)\n"
        "label = 'claude and gpt are names here'\n",
    )
    _write(root, "web/util.py", "import requests\nrequests.get('https://example.com')\n")
    _write(
        root,
        ".cursor/mcp.json",
        json.dumps(
            {
                "mcpServers": {
                    "fs": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/data"],
                    }
                }
            }
        ),
    )
    _write(root, "Dockerfile", "FROM python:3.11-slim\nRUN pip install torch==2.3.0\n")
    _write(root, "models/clf.pkl", pickle.dumps({"coef": [1.0, 2.0]}, protocol=4))
    _write(root, "models/weights.bin", struct.pack("<Q", len(SAFETENSORS)) + SAFETENSORS + bytes(4))
    _write(root, "data/train.csv", "a,b,label\n1,2,0\n3,4,1\n")
    _write(root, "data/events.jsonl", '{"x": 1}\n{"x": 2}\n')
    _write(root, "notebooks/explore.ipynb", json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": ["import ollama\n", "ollama.chat(model='llama3', messages=[])\n"]}],
    }))  # fmt: skip
    # Ignored by .gitignore: must not be reported without --all.
    _write(root, ".gitignore", "scratch/\n")
    _write(
        root, "scratch/old.py", "import openai\nopenai.OpenAI(base_url='http://old.internal/v1')\n"
    )
    return {
        "model": {"openai/gpt-4o-mini", "anthropic/claude-3-5-sonnet-20241022",
                  "aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0", "hf/bert-base-uncased",
                  "ollama/llama3", "models/clf.pkl", "models/weights.bin"},
        "dataset": {"data/train.csv", "data/events.jsonl"},
        "service": {"service/openai", "service/anthropic", "service/aws-bedrock", "service/ollama"},
        "framework": {"pypi/openai", "pypi/anthropic", "pypi/scikit-learn", "pypi/boto3",
                      "pypi/transformers", "pypi/ollama", "pypi/torch"},
        "mcp-server": {"server-filesystem"},
        "container": {"python:3.11-slim"},
    }  # fmt: skip


def _names(inv: object) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for item in inv.items:  # type: ignore[attr-defined]
        kind = str(item.kind)
        name = item.name if item.identity.startswith("sha256:") else item.identity
        out[kind].add(name)
    return out


def _matches(expected: str, found: str) -> bool:
    return found == expected or expected in found


def test_precision_and_recall_per_kind(tmp_path: Path) -> None:
    """Every kind is found with precision and recall >= 0.95 on the fixture repository."""
    expected = build_repo(tmp_path)
    inv = discover(tmp_path, DiscoverOptions(workers=0))
    found = _names(inv)
    for kind, want in expected.items():
        got = found.get(kind, set())
        true_pos = {g for g in got if any(_matches(w, g) for w in want)}
        recalled = {w for w in want if any(_matches(w, g) for g in got)}
        precision = len(true_pos) / len(got) if got else 0.0
        recall = len(recalled) / len(want)
        assert precision >= 0.95, (kind, sorted(got - true_pos))
        assert recall >= 0.95, (kind, sorted(want - recalled))
    assert not any("old.internal" in i.identity for i in inv.items), "gitignored file was read"
    everything = discover(tmp_path, DiscoverOptions(workers=0, include_ignored=True))
    assert any("old.internal" in i.identity for i in everything.items)


def test_parallel_equals_inline(tmp_path: Path) -> None:
    """The process pool finds exactly what the inline run finds."""
    build_repo(tmp_path)
    for i in range(2100):  # enough files to use the pool
        _write(tmp_path, f"bulk/f{i}.txt", f"line {i}\n")
    inline = discover(tmp_path, DiscoverOptions(workers=0))
    pooled = discover(tmp_path, DiscoverOptions(workers=2))
    assert [i.key() for i in inline.items] == [i.key() for i in pooled.items]


def test_bad_input_is_reported_and_skipped(tmp_path: Path) -> None:
    """Junk .py, syntax errors, broken notebooks, link loops: problems, and the run completes."""
    build_repo(tmp_path)
    _write(tmp_path, "bad/junk.py", os.urandom(4096))
    _write(tmp_path, "bad/syntax.py", "def broken(:\n")
    _write(tmp_path, "bad/nb.ipynb", "{not json")
    _write(tmp_path, "bad/deep.py", "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    (tmp_path / "bad" / "loop").symlink_to(tmp_path / "bad")
    (tmp_path / "bad" / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    inv = discover(tmp_path, DiscoverOptions(workers=0))
    problem_paths = {p.path for p in inv.problems}
    assert {"bad/syntax.py", "bad/nb.ipynb", "bad/deep.py"} <= problem_paths
    assert "bad/dangling.py" in problem_paths
    assert any(i.identity == "openai/gpt-4o-mini" for i in inv.items)


def test_recorded_diffed_and_in_the_ledger(tmp_path: Path, db_url: str | None) -> None:
    """A second run records only what changed; services become assets; diffs are ledgered."""
    repo = tmp_path / "repo"
    repo.mkdir()
    build_repo(repo)
    with Workspace.init(tmp_path, database_url=db_url) as ws:
        first = record_discovery(ws, discover(repo, DiscoverOptions(workers=0)),
                                 code_asset="code:repo", producer_version="t")  # fmt: skip
        assert first.previous_id is None and len(first.diff.new) > 10
        _write(repo, "app/new.py", "import mistralai\nmistralai.Mistral(api_key='x')\n")
        (repo / "data" / "events.jsonl").unlink()
        second = record_discovery(ws, discover(repo, DiscoverOptions(workers=0)),
                                  code_asset="code:repo", producer_version="t")  # fmt: skip
        assert second.previous_id == first.snapshot_id
        assert any("mistral" in k for k in second.diff.new)
        assert any("events.jsonl" in k or k.startswith("dataset:") for k in second.diff.removed)
        from tutela.catalog.assets import list_assets

        services = {a.id for a in list_assets(ws, kind="service")}
        assert "service:openai" in services and "service:aws-bedrock" in services
        with ws.reader() as session:
            diffs = [
                e.data() for e in iter_entries(session) if e.data()["action"] == "inventory.diff"
            ]
        assert len(diffs) == 2 and diffs[1]["data"]["new"] == second.diff.new
        assert ws.verify().ok


@pytest.mark.parametrize("fmt", ["json", "cyclonedx", "spdx"])
def test_cli_formats(tmp_path: Path, cli, fmt: str) -> None:
    """The CLI prints the inventory and both BOMs; inventory list/diff read it back."""
    repo = tmp_path / "repo"
    repo.mkdir()
    build_repo(repo)
    cli("init", cwd=tmp_path)
    result = cli("discover", "repo", "--format", fmt, "--workers", "0", cwd=tmp_path)
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    if fmt == "cyclonedx":
        assert doc["specVersion"] == "1.6"
        assert any(c["type"] == "machine-learning-model" for c in doc["components"])
        assert doc.get("services")
    elif fmt == "json":
        assert "pypi/openai" not in doc["shadow_ai"]  # declared in requirements.txt
    listed = json.loads(
        cli("inventory", "list", "--kind", "service", "--json", cwd=tmp_path).stdout
    )
    assert {i["identity"] for i in listed} >= {"service/openai", "service/anthropic"}
    assert cli("inventory", "diff", cwd=tmp_path).code == 0
