"""Dockerfiles -> base images, packages, model downloads and AI endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutela.inventory.docker import DockerfileDetector, normalise_image
from tutela.inventory.interface import FileInput, Finding, ItemKind, Problem

DOCKERFILE = r"""# syntax=docker/dockerfile:1.6
# check=skip=all
ARG BASE=nvidia/cuda:12.1.0-runtime-ubuntu22.04
ARG TORCH=2.1.0
FROM ${BASE} AS build
# a comment with pip install not-a-package
RUN pip install --no-cache-dir torch==${TORCH} \
    # a comment inside a continuation
    "transformers[torch]>=4.40" -r requirements.txt \
    --index-url https://download.pytorch.org/whl/cu121 && \
    uv pip install --system openai anthropic==0.30.0
RUN <<EOF
pip install heredoc-is-skipped
EOF
RUN huggingface-cli download meta-llama/Llama-3.1-8B --revision main --local-dir /models && \
    ollama pull llama3:8b ; ollama pull mistral:latest
RUN wget -q "https://example.com/models/model.gguf?token=SECRET" -O /m.gguf && \
    curl -L https://huggingface.co/TheBloke/Llama-2-7B-GGUF/resolve/main/llama-2-7b.Q4_K_M.gguf
ENV OPENAI_BASE_URL=https://llm.internal.example.com/v1 OPENAI_API_KEY=sk-abcdefabcdefabcdef
ENV OLLAMA_HOST http://ollama:11434
ENV PATH=/usr/local/bin:$PATH HOME_URL=https://not-ai.example.com
FROM python:3.11-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
COPY --from=build /app /app
COPY --from=ghcr.io/astral-sh/uv:0.4 /uv /bin/uv
RUN ["pip", "install", "mlflow==2.12.1"]
RUN --mount=type=cache,target=/root/.cache PIP_NO_CACHE=1 python -m pip install -U requests
RUN poetry add langchain && conda install -c conda-forge -y pytorch=2.1.0 numpy
RUN hf download --repo-type dataset squad && git clone https://huggingface.co/bert-base-uncased.git
FROM scratch
"""


def _run(rel: str, text: str) -> tuple[list[Finding], list[Problem]]:
    detector = DockerfileDetector()
    assert detector.wants(rel, rel.rsplit("/", 1)[-1]), rel
    data = text.encode()
    return detector.detect(FileInput(Path("/x"), rel, data, len(data), False))


def _ids(findings: list[Finding], kind: ItemKind) -> dict[str, Finding]:
    return {f.identity: f for f in findings if f.kind is kind}


def test_dockerfile_every_kind() -> None:
    """Images with stages, RUN installs, model downloads and AI endpoints are found."""
    findings, problems = _run("docker/Dockerfile.gpu", DOCKERFILE)
    assert problems == []
    images = _ids(findings, ItemKind.CONTAINER)
    digest = "sha256:" + "0123456789abcdef" * 4
    assert set(images) == {
        "oci/docker.io/nvidia/cuda:12.1.0-runtime-ubuntu22.04",
        f"oci/docker.io/library/python:3.11-slim@{digest}",
        "oci/ghcr.io/astral-sh/uv:0.4",
    }
    cuda = images["oci/docker.io/nvidia/cuda:12.1.0-runtime-ubuntu22.04"]
    assert (cuda.properties["stage"], cuda.location.line, cuda.name) == (
        "build",
        5,
        "nvidia/cuda:12.1.0-runtime-ubuntu22.04",
    )
    python = images[f"oci/docker.io/library/python:3.11-slim@{digest}"]
    assert python.properties == {"stage": None, "digest": digest}
    packages = _ids(findings, ItemKind.PACKAGE)
    assert {k: f.version for k, f in packages.items()} == {
        "pypi/torch": "2.1.0", "pypi/transformers": None, "pypi/openai": None,
        "pypi/anthropic": "0.30.0", "pypi/mlflow": "2.12.1", "pypi/requests": None,
        "pypi/langchain": None, "conda/pytorch": "2.1.0", "conda/numpy": None,
    }  # fmt: skip
    assert packages["pypi/torch"].location.line == 7
    assert packages["pypi/transformers"].properties["extras"] == ["torch"]
    assert packages["pypi/torch"].properties["stage"] == "build"
    assert set(_ids(findings, ItemKind.FRAMEWORK)) == {
        "pypi/torch", "pypi/transformers", "pypi/openai", "pypi/anthropic", "pypi/mlflow",
        "pypi/langchain",
    }  # fmt: skip
    models = _ids(findings, ItemKind.MODEL)
    assert {k: f.version for k, f in models.items()} == {
        "hf/meta-llama/Llama-3.1-8B": "main",
        "ollama/llama3:8b": "8b",
        "ollama/mistral": None,
        "url/https://example.com/models/model.gguf": None,
        "hf/TheBloke/Llama-2-7B-GGUF": "main",
        "hf/bert-base-uncased": None,
    }
    assert models["hf/TheBloke/Llama-2-7B-GGUF"].properties["file"] == "llama-2-7b.Q4_K_M.gguf"
    assert set(_ids(findings, ItemKind.DATASET)) == {"hf/squad"}
    services = _ids(findings, ItemKind.SERVICE)
    assert set(services) == {
        "service/url/https://llm.internal.example.com/v1",
        "service/url/http://ollama:11434",
    }
    assert services["service/url/http://ollama:11434"].properties["variable"] == "OLLAMA_HOST"
    dump = repr(findings)
    assert "SECRET" not in dump
    assert "sk-abcdef" not in dump
    assert "heredoc-is-skipped" not in dump
    assert "not-a-package" not in dump


def test_escape_directive_and_unresolved_variables() -> None:
    """A backtick escape continues lines; an unknown variable is reported, not guessed."""
    text = "# escape=`\nFROM ${IMAGE}\nRUN pip install `\n    torch `\n    $EXTRA\n"
    findings, problems = _run("Containerfile", text)
    assert [(f.kind, f.identity) for f in findings] == [
        (ItemKind.CONTAINER, "oci/${IMAGE}"),
        (ItemKind.PACKAGE, "pypi/torch"),
        (ItemKind.FRAMEWORK, "pypi/torch"),
    ]
    assert findings[0].properties["unresolved"] is True
    assert [p.message for p in problems] == ["line 3: unresolved variable in pip install: '$EXTRA'"]


def test_malformed_dockerfiles() -> None:
    """Bad image references, quotes, unterminated heredocs and oversize files are problems."""
    cases = {
        "FROM Not_Valid:Image:Ref\n": "line 1: not an image reference",
        "FROM\n": "line 1: FROM without an image",
        'FROM a\nRUN echo "unbalanced\n': "line 2: unbalanced quotes",
        "FROM a\nRUN cat <<EOT\nnever ends\n": "line 2: heredoc EOT never ends",
        "FROM a\n!!! garbage\n": "line 2: not an instruction",
        "FROM a\nRUN pip install 'bad name!'\n": "line 2: pip install: not a requirement",
    }
    for text, message in cases.items():
        _, problems = _run("Dockerfile", text)
        assert len(problems) == 1, text
        assert problems[0].path == "Dockerfile"
        assert problems[0].message.startswith(message), problems[0].message
    big = FileInput(Path("/x"), "Dockerfile", b"FROM a", 6 * 1024 * 1024, False)
    assert DockerfileDetector().detect(big)[1][0].message.startswith("Dockerfile larger")


@pytest.mark.parametrize(
    ("reference", "normal"),
    [
        ("python", "docker.io/library/python:latest"),
        ("python:3.11", "docker.io/library/python:3.11"),
        ("index.docker.io/user/app:1", "docker.io/user/app:1"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("GHCR.io/org/app@sha256:" + "a" * 64, "ghcr.io/org/app@sha256:" + "a" * 64),
        ("Upper/Case", None),
        ("app@sha256:short", None),
    ],
)
def test_normalise_image(reference: str, normal: str | None) -> None:
    """Image references take Docker's canonical form; malformed ones are refused."""
    assert normalise_image(reference) == normal


@pytest.mark.parametrize(
    ("rel", "wanted"),
    [
        ("Dockerfile", True), ("app/Dockerfile.prod", True), ("gpu.Dockerfile", True),
        ("Containerfile", True), ("dockerfile", True), ("Dockerfiles.md", False),
        ("docker-compose.yml", False),
    ],
)  # fmt: skip
def test_wanted_names(rel: str, wanted: bool) -> None:
    """Only Dockerfile and Containerfile names are read."""
    assert DockerfileDetector().wants(rel, rel.rsplit("/", 1)[-1]) is wanted


def test_precision_and_recall_over_the_fixture() -> None:
    """Precision and recall per kind over the fixture Dockerfile are >= 0.95."""
    expected = {
        ItemKind.CONTAINER: 3, ItemKind.PACKAGE: 9, ItemKind.FRAMEWORK: 6, ItemKind.MODEL: 6,
        ItemKind.DATASET: 1, ItemKind.SERVICE: 2,
    }  # fmt: skip
    truth = {
        "oci/docker.io/nvidia/cuda:12.1.0-runtime-ubuntu22.04", "oci/ghcr.io/astral-sh/uv:0.4",
        "oci/docker.io/library/python:3.11-slim@sha256:" + "0123456789abcdef" * 4,
        "pypi/torch", "pypi/transformers", "pypi/openai", "pypi/anthropic", "pypi/mlflow",
        "pypi/requests", "pypi/langchain", "conda/pytorch", "conda/numpy",
        "hf/meta-llama/Llama-3.1-8B", "ollama/llama3:8b", "ollama/mistral",
        "url/https://example.com/models/model.gguf", "hf/TheBloke/Llama-2-7B-GGUF",
        "hf/bert-base-uncased", "hf/squad", "service/url/https://llm.internal.example.com/v1",
        "service/url/http://ollama:11434",
    }  # fmt: skip
    findings, _ = _run("Dockerfile", DOCKERFILE)
    for kind, count in expected.items():
        got = {f.identity for f in findings if f.kind is kind}
        correct = got & truth
        assert len(correct) / len(got) >= 0.95, kind
        assert len(correct) / count >= 0.95, kind
