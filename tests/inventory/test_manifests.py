"""Dependency manifests and lock files -> PACKAGE and FRAMEWORK findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutela.inventory.catalog import (
    AI_DISTRIBUTIONS,
    AI_IMPORTS,
    is_ai_distribution,
    normalise_distribution,
)
from tutela.inventory.interface import Confidence, FileInput, Finding, ItemKind, Problem
from tutela.inventory.manifests import (
    MANIFEST_DETECTORS,
    CondaEnvironmentDetector,
    PipfileDetector,
    PipfileLockDetector,
    PoetryLockDetector,
    PyprojectDetector,
    RequirementsDetector,
    SetupCfgDetector,
    UvLockDetector,
    parse_requirement,
    redact_url,
)


def _file(rel: str, content: str | bytes, *, truncated: bool = False) -> FileInput:
    data = content.encode() if isinstance(content, str) else content
    return FileInput(Path("/nonexistent"), rel, data, len(data), truncated)


def _run(detector: object, rel: str, content: str | bytes) -> tuple[list[Finding], list[Problem]]:
    name = rel.rsplit("/", 1)[-1]
    assert detector.wants(rel, name), rel  # type: ignore[attr-defined]
    return detector.detect(_file(rel, content))  # type: ignore[attr-defined, no-any-return]


def _by(findings: list[Finding], kind: ItemKind = ItemKind.PACKAGE) -> dict[str, Finding]:
    return {f.identity: f for f in findings if f.kind is kind}


def _scoped(packages: dict[str, Finding]) -> dict[str, tuple[str | None, str, int | None]]:
    return {k: (v.version, v.properties["scope"], v.location.line) for k, v in packages.items()}


REQUIREMENTS = """\
# pinned with hashes, continued over lines
torch==2.1.0 --hash=sha256:aaa \\
    --hash=sha256:bbb
numpy>=1.26,<2 ; python_version >= "3.11"  # trailing comment
Transformers[torch,SentencePiece] ~= 4.40
requests
-r base.txt
-r ../outside/requirements.txt
-c constraints.txt
-e git+https://github.com/org/proj.git@v1#egg=My_Proj
-e .
--index-url https://user:hunter2@pypi.example.com/simple
--extra-index-url=https://download.pytorch.org/whl/cpu
https://download.pytorch.org/whl/cpu/torchvision-0.16.0%2Bcpu-cp311-cp311-linux_x86_64.whl
langchain-openai @ git+https://github.com/x/y.git ; sys_platform == "linux"
this is not valid!!
scikit_learn===1.4.0
"""


def test_requirements_file_every_form() -> None:
    """Pins, hashes, markers, extras, URLs, VCS, -e and includes are read as pip does."""
    findings, problems = _run(RequirementsDetector(), "requirements.txt", REQUIREMENTS)
    packages = _by(findings)
    assert set(packages) == {
        "pypi/torch", "pypi/numpy", "pypi/transformers", "pypi/requests", "pypi/my-proj",
        "pypi/torchvision", "pypi/langchain-openai", "pypi/scikit-learn",
    }  # fmt: skip
    torch = packages["pypi/torch"]
    assert (torch.version, torch.location.line) == ("2.1.0", 2)
    assert torch.properties["hashes"] == ["sha256:aaa", "sha256:bbb"]
    assert torch.confidence is Confidence.DECLARED
    numpy = packages["pypi/numpy"]
    assert numpy.version is None
    assert numpy.properties["specifier"] == ">=1.26,<2"
    assert numpy.properties["marker"] == 'python_version >= "3.11"'
    assert packages["pypi/transformers"].properties["extras"] == ["sentencepiece", "torch"]
    assert packages["pypi/transformers"].properties["specifier"] == "~=4.40"
    assert packages["pypi/my-proj"].properties["editable"] is True
    assert packages["pypi/torchvision"].version == "0.16.0+cpu"  # from the wheel's file name
    assert packages["pypi/langchain-openai"].properties["url"] == "git+https://github.com/x/y.git"
    assert packages["pypi/scikit-learn"].version == "1.4.0"
    assert all(f.properties["scope"] == "runtime" for f in findings)
    assert all(f.properties["source"] == "requirements" for f in findings)
    frameworks = _by(findings, ItemKind.FRAMEWORK)
    assert set(frameworks) == {
        "pypi/torch", "pypi/transformers", "pypi/torchvision", "pypi/langchain-openai",
        "pypi/scikit-learn",
    }  # fmt: skip
    messages = [p.message for p in problems]
    assert any(m.startswith("line 7: -r base.txt") for m in messages)
    assert any(m.startswith("line 8:") and "outside the discovery root" in m for m in messages)
    assert any(m.startswith("line 16: not a requirement") for m in messages)
    assert len(problems) == 3
    assert "hunter2" not in repr(findings) + repr(problems)


def test_requirements_include_of_a_requirements_file_is_silent() -> None:
    """An include the walker reads on its own is not a problem; -c adds nothing."""
    findings, problems = _run(
        RequirementsDetector(),
        "requirements/prod.txt",
        "-r base.txt\n--requirement ../requirements-common.txt\n-c ../constraints.txt\n",
    )
    assert findings == []
    assert problems == []


@pytest.mark.parametrize(
    ("rel", "wanted"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("sub/dev-requirements.in", True),
        ("requirements/base.txt", True),
        ("requirements.in", True),
        ("MANIFEST.in", False),
        ("Makefile.in", False),
        ("notes.txt", False),
        ("pkg.egg-info/requires.txt", False),
    ],
)
def test_requirements_file_names(rel: str, wanted: bool) -> None:
    """Only requirements-style names are read."""
    assert RequirementsDetector().wants(rel, rel.rsplit("/", 1)[-1]) is wanted


def test_requirements_scope_from_the_file_name() -> None:
    """requirements-dev.txt and requirements/test.txt declare dev dependencies."""
    for rel in ("requirements-dev.txt", "requirements/test.txt", "test-requirements.in"):
        findings, _ = _run(RequirementsDetector(), rel, "pytest\n")
        assert findings[0].properties["scope"] == "dev", rel


def test_requirement_parser() -> None:
    """PEP 508 forms parse; garbage is a ValueError with a reason."""
    req = parse_requirement("Foo.Bar[Extra_1, b] (>=1.0, !=1.5) ; os_name == 'nt'")
    assert (req.name, req.extras, req.specifier) == ("Foo.Bar", ("b", "extra-1"), ">=1.0,!=1.5")
    assert req.marker == "os_name == 'nt'"
    assert parse_requirement("x==1.*").pinned is None
    assert parse_requirement("x==1.2,<2").pinned is None
    assert parse_requirement("x == 1.2").pinned == "1.2"
    url = parse_requirement("pkg @ https://e.com/pkg-1.0.tar.gz ; python_version<'4'")
    assert url.url == "https://e.com/pkg-1.0.tar.gz"
    assert url.marker == "python_version<'4'"
    for bad in ("", ">=1", "x >>= 1", "x[!] ", "x @ ", "x @ u trailing", "x ;"):
        with pytest.raises(ValueError):
            parse_requirement(bad)


def test_redact_url_masks_credentials() -> None:
    """User info and secret-looking query values are masked; the rest is kept."""
    assert redact_url("https://u:p@h.com/a?x=1&token=abc") == "https://***@h.com/a?x=1&token=***"
    assert redact_url("https://h.com/a#egg=x") == "https://h.com/a#egg=x"


PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]

[project]
name = "demo"
dependencies = [
  "openai>=1.0",
  "requests==2.31.0",
  'anthropic[bedrock]',
]

[project.optional-dependencies]
ML = ["torch==2.1.0", "scikit_learn"]

[dependency-groups]
dev = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]

[tool.poetry.dependencies]
python = "^3.11"
cohere = "^5.0"
numpy = "1.26.4"
llama-index = { version = "0.10.*", extras = ["x"], optional = true }
pandas = [{ version = "<2", python = "<3.9" }, { version = ">=2", python = ">=3.9" }]

[tool.poetry.extras]
rag = ["llama-index"]

[tool.poetry.group.test.dependencies]
hypothesis = "*"

[tool.uv]
dev-dependencies = ["mypy"]

[tool.pdm.dev-dependencies]
docs = ["mkdocs"]
"""


def test_pyproject_all_tables() -> None:
    """PEP 621, extras, PEP 735 groups, Poetry (groups, extras), uv and PDM are all read."""
    findings, problems = _run(PyprojectDetector(), "pyproject.toml", PYPROJECT)
    assert problems == []
    got = {(f.identity, f.properties["scope"]) for f in findings if f.kind is ItemKind.PACKAGE}
    assert got == {
        ("pypi/hatchling", "build"), ("pypi/openai", "runtime"), ("pypi/requests", "runtime"),
        ("pypi/anthropic", "runtime"), ("pypi/torch", "optional:ml"),
        ("pypi/scikit-learn", "optional:ml"), ("pypi/pytest", "dev"), ("pypi/ruff", "dev"),
        ("pypi/cohere", "runtime"), ("pypi/numpy", "runtime"),
        ("pypi/llama-index", "optional:rag"), ("pypi/pandas", "runtime"),
        ("pypi/hypothesis", "dev"), ("pypi/mypy", "dev"), ("pypi/mkdocs", "dev"),
    }  # fmt: skip
    packages = _by(findings)
    assert packages["pypi/requests"].version == "2.31.0"
    assert packages["pypi/requests"].location.line == 8
    assert packages["pypi/anthropic"].location.line == 9
    assert packages["pypi/anthropic"].properties["extras"] == ["bedrock"]
    assert packages["pypi/numpy"].version == "1.26.4"  # a bare Poetry version is exact
    assert packages["pypi/numpy"].location.line == 22
    assert packages["pypi/cohere"].properties["specifier"] == "^5.0"
    assert packages["pypi/hypothesis"].properties["group"] == "test"
    assert packages["pypi/hypothesis"].location.line == 30
    assert packages["pypi/ruff"].properties["group"] == "lint"
    assert set(_by(findings, ItemKind.FRAMEWORK)) == {
        "pypi/openai", "pypi/anthropic", "pypi/torch", "pypi/scikit-learn", "pypi/cohere",
        "pypi/llama-index",
    }  # fmt: skip


def test_pyproject_malformed() -> None:
    """Broken TOML and wrong types are problems naming the file, never exceptions."""
    _, problems = _run(PyprojectDetector(), "pyproject.toml", "[project\nname = 1")
    assert len(problems) == 1
    assert problems[0].path == "pyproject.toml"
    assert "malformed pyproject.toml" in problems[0].message
    _, problems = _run(
        PyprojectDetector(),
        "pyproject.toml",
        '[project]\ndependencies = "torch"\n[tool.poetry]\ndependencies = 3\n',
    )
    assert len(problems) == 2


POETRY_LOCK = """\
# This file is automatically @generated by Poetry
[[package]]
name = "torch"
version = "2.1.0"
description = "Tensors"
optional = false
python-versions = ">=3.8"
groups = ["main"]

[[package]]
name = "pytest"
version = "8.0.0"
optional = false
category = "dev"

[[package]]
name = "My_Lib"
version = "0.1"
optional = true

[package.source]
type = "git"
url = "https://tok:secret@github.com/x/y.git"

[metadata]
lock-version = "2.0"
"""


def test_poetry_lock() -> None:
    """Locked versions, scopes from groups/category/optional, and entry lines."""
    findings, problems = _run(PoetryLockDetector(), "poetry.lock", POETRY_LOCK)
    assert problems == []
    packages = _by(findings)
    assert {
        k: (v.version, v.properties["scope"], v.location.line) for k, v in packages.items()
    } == {
        "pypi/torch": ("2.1.0", "runtime", 2),
        "pypi/pytest": ("8.0.0", "dev", 10),
        "pypi/my-lib": ("0.1", "optional", 16),
    }
    assert packages["pypi/my-lib"].properties["url"] == "https://***@github.com/x/y.git"
    assert set(_by(findings, ItemKind.FRAMEWORK)) == {"pypi/torch"}


UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "anyio"
version = "4.4.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "anyio" }]

[[package]]
name = "Sentence_Transformers"
version = "3.0.0"
source = { registry = "https://pypi.org/simple" }
"""


def test_uv_lock_skips_the_project_itself() -> None:
    """Every locked distribution except editable/virtual project members."""
    findings, problems = _run(UvLockDetector(), "uv.lock", UV_LOCK)
    assert problems == []
    packages = _by(findings)
    assert {k: (v.version, v.location.line) for k, v in packages.items()} == {
        "pypi/anyio": ("4.4.0", 4),
        "pypi/sentence-transformers": ("3.0.0", 15),
    }
    assert set(_by(findings, ItemKind.FRAMEWORK)) == {"pypi/sentence-transformers"}


def test_lock_malformed_entries() -> None:
    """A package without a name or with a bad one is a problem; the rest is still read."""
    text = '[[package]]\nversion = "1"\n\n[[package]]\nname = "ok"\nversion = "1"\n'
    findings, problems = _run(UvLockDetector(), "uv.lock", text)
    assert [f.identity for f in findings] == ["pypi/ok"]
    assert len(problems) == 1
    _, problems = _run(PoetryLockDetector(), "poetry.lock", "package = 3\n")
    assert len(problems) == 1
    _, problems = _run(PoetryLockDetector(), "poetry.lock", "[[package]\n")
    assert "malformed poetry.lock" in problems[0].message


PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
name = "pypi"

[packages]
requests = "*"
"openai" = "==1.3.0"
torch = {version = ">=2", extras = ["cuda"]}
mylib = {git = "https://github.com/x/mylib.git", ref = "main", editable = true}

[dev-packages]
pytest = "8.0"

[docs]
sphinx = "*"

[requires]
python_version = "3.11"
"""


def test_pipfile() -> None:
    """Packages, dev-packages and custom categories; '*' is no constraint."""
    findings, problems = _run(PipfileDetector(), "Pipfile", PIPFILE)
    assert problems == []
    packages = _by(findings)
    assert {
        k: (v.version, v.properties["scope"], v.location.line) for k, v in packages.items()
    } == {
        "pypi/requests": (None, "runtime", 6),
        "pypi/openai": ("1.3.0", "runtime", 7),
        "pypi/torch": (None, "runtime", 8),
        "pypi/mylib": (None, "runtime", 9),
        "pypi/pytest": ("8.0", "dev", 12),
        "pypi/sphinx": (None, "dev", 15),
    }
    assert packages["pypi/torch"].properties["extras"] == ["cuda"]
    assert packages["pypi/mylib"].properties["editable"] is True
    assert packages["pypi/sphinx"].properties["group"] == "docs"


def test_pipfile_lock() -> None:
    """Locked versions per category, entry lines found in pipenv's layout."""
    doc = {
        "_meta": {"hash": {"sha256": "x"}, "requires": {"python_version": "3.11"}},
        "default": {
            "openai": {"version": "==1.3.0", "hashes": ["sha256:x"]},
            "mylib": {"git": "https://github.com/x/mylib.git", "ref": "abc"},
        },
        "develop": {"pytest": {"version": "==8.0.0", "markers": "python_version >= '3.8'"}},
    }
    findings, problems = _run(PipfileLockDetector(), "Pipfile.lock", json.dumps(doc, indent=4))
    assert problems == []
    packages = _by(findings)
    assert packages["pypi/openai"].version == "1.3.0"
    assert packages["pypi/openai"].location.line == 11
    assert packages["pypi/mylib"].version is None
    assert packages["pypi/pytest"].properties["scope"] == "dev"
    assert packages["pypi/pytest"].properties["marker"] == "python_version >= '3.8'"
    _, problems = _run(PipfileLockDetector(), "Pipfile.lock", '{"default": {"x": 1,}')
    assert problems[0].message.startswith("line 1: malformed Pipfile.lock")
    _, problems = _run(PipfileLockDetector(), "Pipfile.lock", "[" * 100_000)
    assert len(problems) == 1


ENVIRONMENT = """\
name: ml
channels:
  - pytorch
  - conda-forge
dependencies:
  - python=3.11
  - pytorch::pytorch=2.1.0=py3.11_cuda12.1_cudnn8_0
  - numpy==1.26.4
  - scikit-learn>=1.3
  - "xgboost 2.0.3 py311_0"
  - pip
  - pip:
      - transformers==4.40.0  # pinned
      - -r requirements-extra.txt
      - --extra-index-url https://x:y@example.com/simple
      - git+https://github.com/org/openai-fork.git#egg=openai
"""


def test_conda_environment() -> None:
    """Conda packages (conda/…), AI ones also as pypi frameworks, and the pip list."""
    findings, problems = _run(CondaEnvironmentDetector(), "environment.yml", ENVIRONMENT)
    assert problems == []
    packages = _by(findings)
    assert {k: (v.version, v.location.line) for k, v in packages.items()} == {
        "conda/python": (None, 6),
        "conda/pytorch": ("2.1.0", 7),
        "conda/numpy": ("1.26.4", 8),
        "conda/scikit-learn": (None, 9),
        "conda/xgboost": ("2.0.3", 10),
        "conda/pip": (None, 11),
        "pypi/transformers": ("4.40.0", 13),
        "pypi/openai": (None, 16),
    }
    assert packages["conda/pytorch"].properties["channel"] == "pytorch"
    assert set(_by(findings, ItemKind.FRAMEWORK)) == {
        "pypi/torch", "pypi/scikit-learn", "pypi/xgboost", "pypi/transformers", "pypi/openai",
    }  # fmt: skip
    assert "x:y" not in repr(findings)


def test_conda_environment_malformed_and_unsafe() -> None:
    """Bad YAML, wrong shapes and python-object tags are problems, never executed."""
    marker = Path("/tmp/tutela-yaml-marker-never")
    cases = [
        "dependencies: [unclosed\n",
        "dependencies: 3\n",
        "- a list\n",
        f"dependencies: !!python/object/apply:os.system ['touch {marker}']\n",
        "dependencies:\n  - {other: 1}\n",
    ]
    for text in cases:
        findings, problems = _run(CondaEnvironmentDetector(), "environment.yaml", text)
        assert findings == []
        assert len(problems) == 1, text
        assert problems[0].path == "environment.yaml"
    assert not marker.exists()
    _, problems = _run(CondaEnvironmentDetector(), "environment.yml", "a: [b\n  c: d\n")
    assert problems[0].message.startswith("line ")


SETUP_CFG = """\
[metadata]
name = demo

[options]
install_requires =
    requests>=2
    # a comment
    torch==2.1.0; platform_system != "Darwin"
tests_require = pytest

[options.extras_require]
LLM =
    openai>=1
    anthropic
docs = file: docs/reqs.txt
"""


def test_setup_cfg() -> None:
    """install_requires, tests_require and extras_require; file: is not followed."""
    findings, problems = _run(SetupCfgDetector(), "setup.cfg", SETUP_CFG)
    packages = _by(findings)
    assert {
        k: (v.version, v.properties["scope"], v.location.line) for k, v in packages.items()
    } == {
        "pypi/requests": (None, "runtime", 6),
        "pypi/torch": ("2.1.0", "runtime", 8),
        "pypi/pytest": (None, "dev", 9),
        "pypi/openai": (None, "optional:llm", 13),
        "pypi/anthropic": (None, "optional:llm", 14),
    }
    assert packages["pypi/torch"].properties["marker"] == 'platform_system != "Darwin"'
    assert len(problems) == 1
    assert "file: docs/reqs.txt" in problems[0].message
    _, problems = _run(SetupCfgDetector(), "setup.cfg", "no section header\n")
    assert "malformed setup.cfg" in problems[0].message


@pytest.mark.parametrize("detector", MANIFEST_DETECTORS, ids=lambda d: d.id)
def test_every_manifest_detector_refuses_oversize_and_binary(detector: object) -> None:
    """Truncated, over 5 MiB or binary input is one problem naming the file."""
    rel = {
        "discover.requirements": "requirements.txt",
        "discover.pyproject": "pyproject.toml",
        "discover.poetry-lock": "poetry.lock",
        "discover.uv-lock": "uv.lock",
        "discover.pipfile": "Pipfile",
        "discover.pipfile-lock": "Pipfile.lock",
        "discover.conda": "environment.yml",
        "discover.setup-cfg": "setup.cfg",
    }[detector.id]  # type: ignore[attr-defined]
    assert detector.wants(rel, rel)  # type: ignore[attr-defined]
    big = FileInput(Path("/x"), rel, b"a" * 10, 6 * 1024 * 1024, False)
    truncated = _file(rel, b"x", truncated=True)
    binary = _file(rel, b"\x00\x01\x02")
    for file in (big, truncated, binary):
        findings, problems = detector.detect(file)  # type: ignore[attr-defined]
        assert findings == []
        assert [p.path for p in problems] == [rel]


def test_catalog() -> None:
    """PEP 503 normalisation and AI distribution membership, families by prefix."""
    assert normalise_distribution("Scikit_Learn") == "scikit-learn"
    assert normalise_distribution("zope.interface") == "zope-interface"
    assert all(normalise_distribution(n) == n for n in AI_DISTRIBUTIONS)
    assert is_ai_distribution("LangChain_AWS")
    assert is_ai_distribution("llama-index-llms-openai")
    assert not is_ai_distribution("boto3")
    assert not is_ai_distribution("requests")
    assert set(AI_IMPORTS.values()) <= AI_DISTRIBUTIONS
    for name in ("openai", "anthropic", "google-genai", "google-generativeai", "vllm",
                 "google-cloud-aiplatform", "cohere", "mistralai", "ollama", "litellm",
                 "transformers", "sentence-transformers", "torch", "tensorflow", "keras",
                 "scikit-learn", "xgboost", "lightgbm", "mlflow", "huggingface-hub",
                 "datasets", "onnxruntime", "jax", "groq", "together", "replicate"):  # fmt: skip
        assert name in AI_DISTRIBUTIONS, name


def _score(expected: set[tuple[str, str]], found: set[tuple[str, str]], kind: str) -> None:
    exp = {i for k, i in expected if k == kind}
    got = {i for k, i in found if k == kind}
    precision = len(exp & got) / len(got) if got else 1.0
    recall = len(exp & got) / len(exp) if exp else 1.0
    assert precision >= 0.95, (kind, got - exp)
    assert recall >= 0.95, (kind, exp - got)


def test_precision_and_recall_over_the_fixtures() -> None:
    """Over every fixture above, PACKAGE and FRAMEWORK precision and recall are >= 0.95."""
    cases: list[tuple[object, str, str, set[str], set[str]]] = [
        (RequirementsDetector(), "requirements.txt", REQUIREMENTS,
         {"torch", "numpy", "transformers", "requests", "my-proj", "torchvision",
          "langchain-openai", "scikit-learn"},
         {"torch", "transformers", "torchvision", "langchain-openai", "scikit-learn"}),
        (PyprojectDetector(), "pyproject.toml", PYPROJECT,
         {"hatchling", "openai", "requests", "anthropic", "torch", "scikit-learn", "pytest",
          "ruff", "cohere", "numpy", "llama-index", "pandas", "hypothesis", "mypy", "mkdocs"},
         {"openai", "anthropic", "torch", "scikit-learn", "cohere", "llama-index"}),
        (PoetryLockDetector(), "poetry.lock", POETRY_LOCK, {"torch", "pytest", "my-lib"},
         {"torch"}),
        (UvLockDetector(), "uv.lock", UV_LOCK, {"anyio", "sentence-transformers"},
         {"sentence-transformers"}),
        (PipfileDetector(), "Pipfile", PIPFILE,
         {"requests", "openai", "torch", "mylib", "pytest", "sphinx"}, {"openai", "torch"}),
        (SetupCfgDetector(), "setup.cfg", SETUP_CFG,
         {"requests", "torch", "pytest", "openai", "anthropic"}, {"torch", "openai", "anthropic"}),
    ]  # fmt: skip
    expected: set[tuple[str, str]] = set()
    found: set[tuple[str, str]] = set()
    for index, (detector, rel, text, packages, frameworks) in enumerate(cases):
        expected |= {("package", f"{index}:pypi/{p}") for p in packages}
        expected |= {("framework", f"{index}:pypi/{p}") for p in frameworks}
        findings, _ = _run(detector, rel, text)
        found |= {(f.kind.value, f"{index}:{f.identity}") for f in findings}
    _score(expected, found, "package")
    _score(expected, found, "framework")
