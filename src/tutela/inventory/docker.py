"""Dockerfiles: base images, packages installed and models fetched at build time.

Read without Docker: parser directives (``# syntax=``, ``# escape=``), line continuations,
comments, ``ARG``/``ENV`` substitution of ``$VAR``/``${VAR}``/``${VAR:-default}``. Heredoc
bodies (``RUN <<EOF``) are skipped, not interpreted. Reported:

* each ``FROM`` image (and ``COPY --from=<image>``) -> ``CONTAINER``
  ``oci/<registry>/<path>:<tag>``;
* ``pip install``/``uv pip install``/``uv add``/``poetry add`` arguments -> ``PACKAGE``
  (+ ``FRAMEWORK`` for AI distributions); ``conda install`` -> ``conda/<name>``;
* ``huggingface-cli download``/``hf download``, ``ollama pull``, ``git clone`` of a Hugging
  Face repository and ``wget``/``curl`` of weight files -> ``MODEL`` (``DATASET`` for
  ``--repo-type dataset``);
* ``ENV`` variables that point an AI client at an endpoint -> ``SERVICE`` ``service/url/…``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tutela.inventory.argv import positionals
from tutela.inventory.interface import (
    Confidence,
    FileInput,
    Finding,
    ItemKind,
    Location,
    Problem,
)
from tutela.inventory.manifests import (
    Requirement,
    name_from_archive,
    package_findings,
    parse_requirement,
    parse_text,
    redact_url,
)

__all__ = ["DockerfileDetector", "normalise_image"]

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_IMAGE_PATH = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Fa-f0-9]{32,}\Z")
_WEIGHTS = (
    ".safetensors",
    ".gguf",
    ".bin",
    ".pt",
    ".pth",
    ".onnx",
    ".ckpt",
    ".h5",
    ".keras",
    ".tflite",
    ".pb",
    ".mlmodel",
    ".ggml",
    ".joblib",
    ".pkl",
    ".pickle",
    ".npz",
)
_SHELL_SPLIT = re.compile(r"&&|\|\||;|\|(?!\|)")
_PIP_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--trusted-host",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--src",
        "--upgrade-strategy",
        "--progress-bar",
        "--cache-dir",
        "--log",
        "--timeout",
        "--retries",
        "--proxy",
        "--cert",
        "--client-cert",
        "--python",
        "-p",
        "--group",
        "--extra",
        "--index",
        "--default-index",
        "--only-binary",
        "--no-binary",
        "-C",
        "--config-settings",
        "--source",
        "--optional",
        "-G",
        "--exists-action",
    }
)
_CONDA_VALUE_OPTIONS = frozenset({"-c", "--channel", "-n", "--name", "-p", "--prefix", "--file"})
_AI_ENDPOINT_KEY = re.compile(
    r"(OPENAI|ANTHROPIC|CLAUDE|OLLAMA|HF|HUGGINGFACE|LLM|MISTRAL|COHERE|GROQ|TOGETHER|GEMINI"
    r"|GOOGLE_GENAI|VERTEX|VLLM|LITELLM|BEDROCK|INFERENCE|EMBEDDING|MODEL|TGI|AZURE_AI)"
    r"[A-Z0-9_]*(BASE_URL|API_BASE|API_URL|ENDPOINT|HOST|_URL)$"
)
_HF_URL = re.compile(
    r"^https?://(?:www\.)?(?:huggingface\.co|hf\.co)/(datasets/)?([\w.-]+(?:/[\w.-]+)?)"
    r"(?:/(?:resolve|blob|raw)/([^/]+)/(.+))?/?$"
)
_HF_ID = re.compile(r"[\w.-]+/[\w.-]+\Z|[\w.-]+\Z")


def normalise_image(reference: str) -> str | None:
    """``python:3.11`` -> ``docker.io/library/python:3.11``; ``None`` when malformed."""
    ref = reference.strip()
    name, _, digest = ref.partition("@")
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, path = parts[0].lower(), "/".join(parts[1:])
    else:
        registry, path = "docker.io", name
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = "docker.io"
    if registry == "docker.io" and "/" not in path:
        path = f"library/{path}"
    if not _IMAGE_PATH.match(path) or (tag is not None and not _TAG.match(tag)):
        return None
    if digest and not _DIGEST.match(digest):
        return None
    if not tag and not digest:
        tag = "latest"
    return f"{registry}/{path}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


@dataclass(slots=True)
class _Instruction:
    line: int
    keyword: str
    args: str


@dataclass(slots=True)
class _State:
    rel: str
    detector: str
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    stages: set[str] = field(default_factory=set)
    stage: str | None = None

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.rel, f"line {line}: {message}"))

    def add(
        self,
        kind: ItemKind,
        identity: str,
        name: str,
        line: int,
        version: str | None = None,
        **properties: Any,
    ) -> None:
        self.findings.append(
            Finding(
                kind,
                identity,
                name,
                Confidence.DECLARED,
                Location(self.rel, line),
                self.detector,
                version,
                {k: v for k, v in properties.items() if v is not None or k == "stage"},
            )
        )

    def expand(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(3)
            if name in self.variables:
                return self.variables[name]
            if match.group(2) is not None and match.group(0).find(":-") > 0:
                return match.group(2)
            return match.group(0)

        return _VAR.sub(replace, text)


def _instructions(text: str) -> Iterator[_Instruction | Problem]:
    """Logical instructions: directives read, continuations joined, heredocs skipped."""
    escape = "\\"
    lines = text.splitlines()
    index = 0
    # parser directives come first, before any instruction, comment or blank line
    while index < len(lines):
        directive = _DIRECTIVE.match(lines[index].strip())
        if directive is None:
            break
        if directive.group(1).lower() == "escape" and directive.group(2) in ("`", "\\"):
            escape = directive.group(2)
        index += 1
    while index < len(lines):
        start = index
        stripped = lines[index].strip()
        index += 1
        if not stripped or stripped.startswith("#"):
            continue
        parts = [stripped]
        while parts[-1].endswith(escape) and index < len(lines):
            parts[-1] = parts[-1][: -len(escape)]
            following = lines[index].strip()
            index += 1
            if following.startswith("#"):
                parts.append(escape)  # a comment inside a continuation is dropped
                continue
            parts.append(following)
        if parts[-1].endswith(escape):
            parts[-1] = parts[-1][: -len(escape)]
        logical = " ".join(p for p in parts if p)
        keyword, _, args = logical.partition(" ")
        if not keyword.isalpha():
            yield Problem("", f"line {start + 1}: not an instruction: {logical[:60]!r}")
            continue
        for heredoc in _HEREDOC.finditer(args):
            strip_tabs, terminator = heredoc.group(1) == "-", heredoc.group(3)
            while index < len(lines):
                body = lines[index].lstrip("\t") if strip_tabs else lines[index]
                index += 1
                if body.rstrip("\r") == terminator:
                    break
            else:
                yield Problem("", f"line {start + 1}: heredoc {terminator} never ends")
        args = _HEREDOC.sub("", args)
        yield _Instruction(start + 1, keyword.upper(), args.strip())


def _exec_form(args: str) -> list[str] | None:
    if not args.startswith("["):
        return None
    try:
        value = json.loads(args)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


class DockerfileDetector:
    """``Dockerfile``, ``*.Dockerfile``, ``Dockerfile.*``, ``Containerfile``."""

    id = "discover.dockerfile"

    def wants(self, rel: str, name: str) -> bool:
        lower = name.lower()
        return (
            lower in ("dockerfile", "containerfile")
            or lower.endswith((".dockerfile", ".containerfile"))
            or lower.startswith(("dockerfile.", "containerfile."))
        )

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return parse_text(file, "Dockerfile", self._parse)

    def _parse(self, file: FileInput, text: str) -> tuple[list[Finding], list[Problem]]:
        state = _State(file.rel, self.id)
        for item in _instructions(text):
            if isinstance(item, Problem):
                state.problems.append(Problem(file.rel, item.message))
                continue
            self._instruction(item, state)
        return state.findings, state.problems

    def _instruction(self, item: _Instruction, state: _State) -> None:
        if item.keyword == "ARG":
            for name, value in _assignments(item.args, legacy=False):
                if value is not None and name not in state.variables:
                    state.variables[name] = state.expand(value)
        elif item.keyword == "ENV":
            for name, value in _assignments(item.args, legacy=True):
                if value is None:
                    continue
                value = state.expand(value)
                state.variables[name] = value
                _endpoint(name, value, item.line, state)
        elif item.keyword == "FROM":
            _from(item, state)
        elif item.keyword == "COPY":
            source = re.search(r"--from=(\S+)", item.args)
            if source and not source.group(1).isdigit():
                _image(state.expand(source.group(1)), item.line, state, via="copy")
        elif item.keyword == "RUN":
            exec_form = _exec_form(item.args)
            command = shlex.join(exec_form) if exec_form is not None else item.args
            command = re.sub(r"^(--\S+\s+)+", "", command)  # RUN --mount=… --network=…
            _run(state.expand(command), item.line, state)


def _assignments(args: str, *, legacy: bool) -> list[tuple[str, str | None]]:
    """``K=V K2="v 2"`` pairs; ``ENV K value`` legacy form; ``ARG K`` without a default."""
    try:
        tokens = shlex.split(args, posix=True)
    except ValueError:
        return []
    if legacy and tokens and "=" not in tokens[0]:
        return [(tokens[0], " ".join(tokens[1:]))]
    pairs: list[tuple[str, str | None]] = []
    for token in tokens:
        name, eq, value = token.partition("=")
        pairs.append((name, value if eq else None))
    return pairs


def _from(item: _Instruction, state: _State) -> None:
    tokens = item.args.split()
    platform = next((t.split("=", 1)[1] for t in tokens if t.startswith("--platform=")), None)
    tokens = [t for t in tokens if not t.startswith("--")]
    if not tokens:
        state.problem(item.line, "FROM without an image")
        return
    stage = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
    state.stage = stage
    _image(state.expand(tokens[0]), item.line, state, platform=platform)
    if stage:
        state.stages.add(stage.lower())


def _image(reference: str, line: int, state: _State, **properties: str | None) -> None:
    if reference.lower() == "scratch" or reference.lower() in state.stages:
        return
    if "$" in reference:
        state.add(
            ItemKind.CONTAINER,
            f"oci/{reference}",
            reference,
            line,
            stage=state.stage,
            unresolved=True,
            **properties,
        )
        return
    normal = normalise_image(reference)
    if normal is None:
        state.problem(line, f"not an image reference: {reference[:80]!r}")
        return
    digest = normal.partition("@")[2] or None
    tag = normal.partition("@")[0].rsplit("/", 1)[-1].partition(":")[2] or None
    state.add(
        ItemKind.CONTAINER,
        f"oci/{normal}",
        reference,
        line,
        tag or digest,
        stage=state.stage,
        digest=digest,
        **properties,
    )


def _endpoint(name: str, value: str, line: int, state: _State) -> None:
    if not _AI_ENDPOINT_KEY.search(name.upper()) or not re.match(r"https?://", value, re.I):
        return
    parts = urlsplit(value)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    url = urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))
    state.add(
        ItemKind.SERVICE, f"service/url/{url}", url, line, variable=name, url=redact_url(value)
    )


def _run(command: str, line: int, state: _State) -> None:
    for piece in _SHELL_SPLIT.split(command):
        piece = piece.strip()
        if not piece:
            continue
        try:
            words = shlex.split(piece, posix=True)
        except ValueError:
            state.problem(line, f"unbalanced quotes in RUN: {piece[:60]!r}")
            continue
        while words and (
            ("=" in words[0] and not words[0].startswith("-"))
            or words[0] in ("sudo", "exec", "time", "env", "then", "do", "else")
        ):
            words = words[1:]  # VAR=1 pip install …, sudo …
        if words:
            _command(words, line, state)


def _command(words: list[str], line: int, state: _State) -> None:
    program = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    if re.fullmatch(r"python[0-9.]*", program) and rest[:2] == ["-m", "pip"]:
        program, rest = "pip", rest[2:]
    if program == "uv" and rest[:1] == ["pip"]:
        program, rest = "pip", rest[1:]
    if re.fullmatch(r"pip[0-9.]*", program) and rest[:1] == ["install"]:
        _packages(rest[1:], line, state, "pip install")
    elif program in ("uv", "poetry", "pdm") and rest[:1] == ["add"]:
        _packages(rest[1:], line, state, f"{program} add")
    elif program in ("conda", "mamba", "micromamba") and rest[:1] == ["install"]:
        _conda(rest[1:], line, state)
    elif (program == "huggingface-cli" and rest[:1] == ["download"]) or (
        program == "hf" and rest[:1] == ["download"]
    ):
        _hf_download(rest[1:], line, state)
    elif program == "ollama" and rest[:1] in (["pull"], ["run"]) and len(rest) > 1:
        _ollama(rest[1], line, state)
    elif program in ("wget", "curl"):
        for word in rest:
            if re.match(r"https?://", word, re.I):
                _download(word, line, state)
    elif program == "git" and rest[:1] == ["clone"]:
        for word in rest[1:]:
            hub = _HF_URL.match(word)
            if hub:
                kind = ItemKind.DATASET if hub.group(1) else ItemKind.MODEL
                repo = hub.group(2).removesuffix(".git")
                state.add(kind, f"hf/{repo}", repo, line, via="git clone")


def _packages(args: list[str], line: int, state: _State, via: str) -> None:
    for arg in positionals(args, _PIP_VALUE_OPTIONS):
        if "$" in arg or arg in (".", "./"):
            if "$" in arg:
                state.problem(line, f"unresolved variable in {via}: {arg[:60]!r}")
            continue
        if "://" in arg or arg.startswith(("git+", "./", "/", "../")):
            egg = re.search(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)", arg)
            archive = name_from_archive(arg)
            name = egg.group(1) if egg else archive[0] if archive else None
            if name is None:
                continue  # a local folder or an unnamed URL: nothing to name
            req = Requirement(name, url=arg)
            version = archive[1] if archive and not egg else None
        else:
            try:
                req = parse_requirement(arg)
            except ValueError as exc:
                state.problem(line, f"{via}: not a requirement ({exc}): {arg[:60]!r}")
                continue
            version = req.pinned
        properties: dict[str, Any] = {
            "specifier": req.specifier,
            "extras": list(req.extras),
            "scope": "runtime",
            "source": "dockerfile",
            "via": via,
        }
        if req.url:
            properties["url"] = redact_url(req.url)
        if state.stage:
            properties["stage"] = state.stage
        state.findings.extend(
            package_findings(
                req.name,
                Location(state.rel, line),
                state.detector,
                version=version,
                properties=properties,
            )
        )


def _conda(args: list[str], line: int, state: _State) -> None:
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in _CONDA_VALUE_OPTIONS
            continue
        match = re.match(r"(?:[\w./-]+::)?([A-Za-z0-9_][A-Za-z0-9_.+-]*)(.*)", arg)
        if match is None or "$" in arg:
            continue
        name, spec = match.group(1).lower(), match.group(2)
        pinned = re.fullmatch(r"==?([0-9][^=*,<>|]*)(?:=\S+)?", spec)
        properties: dict[str, Any] = {
            "specifier": spec,
            "extras": [],
            "scope": "runtime",
            "source": "dockerfile",
            "via": "conda install",
        }
        state.findings.extend(
            package_findings(
                name,
                Location(state.rel, line),
                state.detector,
                version=pinned.group(1) if pinned else None,
                properties=properties,
                identity=f"conda/{name}",
                framework_name={"pytorch": "torch"}.get(name, name),
            )
        )


def _hf_download(args: list[str], line: int, state: _State) -> None:
    repo_type = "model"
    revision = None
    positional: list[str] = []
    skip_next: str | None = None
    for arg in args:
        if skip_next:
            if skip_next == "--repo-type":
                repo_type = arg
            elif skip_next == "--revision":
                revision = arg
            skip_next = None
            continue
        if arg.startswith("--") and "=" in arg:
            key, _, value = arg.partition("=")
            repo_type = value if key == "--repo-type" else repo_type
            revision = value if key == "--revision" else revision
        elif arg in (
            "--repo-type",
            "--revision",
            "--local-dir",
            "--cache-dir",
            "--token",
            "--include",
            "--exclude",
            "--max-workers",
        ):
            skip_next = arg
        elif not arg.startswith("-"):
            positional.append(arg)
    if not positional or not _HF_ID.match(positional[0]):
        state.problem(line, "hugging face download without a repository id")
        return
    repo = positional[0]
    kind = ItemKind.DATASET if repo_type == "dataset" else ItemKind.MODEL
    files = positional[1:] or None
    state.add(kind, f"hf/{repo}", repo, line, revision, via="huggingface-cli", files=files)


def _ollama(model: str, line: int, state: _State) -> None:
    name = model.removesuffix(":latest")
    if not re.fullmatch(r"[\w./-]+(:[\w.-]+)?", name):
        state.problem(line, f"not an ollama model name: {model[:60]!r}")
        return
    tag = name.partition(":")[2] or None
    state.add(ItemKind.MODEL, f"ollama/{name}", name, line, tag, via="ollama")


def _download(url: str, line: int, state: _State) -> None:
    path = urlsplit(url).path.lower()
    hub = _HF_URL.match(url.split("?", 1)[0])
    if hub and hub.group(4):
        kind = ItemKind.DATASET if hub.group(1) else ItemKind.MODEL
        state.add(
            kind,
            f"hf/{hub.group(2)}",
            hub.group(2),
            line,
            hub.group(3),
            via="download",
            file=hub.group(4),
        )
        return
    if not path.endswith(_WEIGHTS):
        return
    parts = urlsplit(url)
    clean = urlunsplit((parts.scheme.lower(), parts.hostname or "", parts.path, "", ""))
    state.add(ItemKind.MODEL, f"url/{clean}", clean, line, via="download", url=redact_url(url))
