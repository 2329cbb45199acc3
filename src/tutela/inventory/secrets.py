"""Hard-coded AI credentials: found by pattern and context, reported by type and place only.

A credential is recognised in two ways:

* by its own shape, anywhere in a text: OpenAI (``sk-…``, ``sk-proj-…``), Anthropic
  (``sk-ant-…``), AWS access key ids (``AKIA…``/``ASIA…``), Google (``AIza…``), Hugging
  Face (``hf_…``), Groq (``gsk_…``), Replicate (``r8_…``);
* by context, for keys without a prefix (Cohere, Mistral, Azure OpenAI, an AWS secret
  access key): a literal assigned to a known name (``COHERE_API_KEY = "…"``,
  ``"azure_openai_key": "…"``), a 40-character AWS secret near an access key id, or
  (through :func:`secret_from_literal`) an ``api_key=`` literal given to an AI SDK.

A finding never carries the value nor any part of it: ``properties`` holds the ``type``
and a ``fingerprint`` (SHA-256 of the value, so a rotation shows as a new fingerprint).
Placeholders (``sk-...``, ``<your key>``, ``xxx``, ``EXAMPLE``, ``sk-test…``, runs such as
``1234567890``) and values with too little variety are not reported.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass

from tutela.inventory.interface import Confidence, Finding, ItemKind, Location

__all__ = ["SECRET_TYPES", "find_secrets", "is_placeholder", "secret_from_literal"]

DETECTOR_ID = "discover.secrets"

# type -> human label; the keys are the stable ``type`` values.
SECRET_TYPES: dict[str, str] = {
    "openai-api-key": "OpenAI API key",
    "anthropic-api-key": "Anthropic API key",
    "aws-access-key-id": "AWS access key id",
    "aws-secret-access-key": "AWS secret access key",
    "google-api-key": "Google API key",
    "huggingface-token": "Hugging Face token",
    "cohere-api-key": "Cohere API key",
    "mistral-api-key": "Mistral API key",
    "groq-api-key": "Groq API key",
    "azure-openai-api-key": "Azure OpenAI API key",
    "together-api-key": "Together AI API key",
    "replicate-api-token": "Replicate API token",
    "generic-api-key": "API key given to an AI SDK",
}

_EDGE = r"(?<![A-Za-z0-9_\-])"
_END = r"(?![A-Za-z0-9_\-])"
# Order matters: the Anthropic pattern is tried before the OpenAI one it resembles.
_PREFIXED: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("anthropic-api-key", re.compile(_EDGE + r"sk-ant-[A-Za-z0-9_\-]{32,300}" + _END), 7),
    (
        "openai-api-key",
        re.compile(_EDGE + r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,300}" + _END),
        3,
    ),
    ("aws-access-key-id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), 4),
    ("google-api-key", re.compile(_EDGE + r"AIza[0-9A-Za-z_\-]{35}" + _END), 4),
    ("huggingface-token", re.compile(_EDGE + r"hf_[A-Za-z0-9]{30,80}" + _END), 3),
    ("groq-api-key", re.compile(_EDGE + r"gsk_[A-Za-z0-9]{40,80}" + _END), 4),
    ("replicate-api-token", re.compile(_EDGE + r"r8_[A-Za-z0-9]{30,60}" + _END), 3),
)

# A literal assigned to a name: NAME = "v", "name": "v", NAME: v, NAME=v (.env).
_ASSIGNED = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,80})[\"']?\s*(?::=|=>|=|:)\s*"
    r"(?:[rbuRBU]?(?P<q>[\"'`]))?(?P<value>[A-Za-z0-9_\-+/=.:]{16,300})(?P=q)?"
)
_KEYISH = ("key", "token", "secret")
# name fragment -> type, first match wins (azure before openai: AZURE_OPENAI_KEY).
_NAME_TYPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("secret_access_key", "secretaccesskey", "aws_secret"), "aws-secret-access-key"),
    (("azure",), "azure-openai-api-key"),
    (("cohere", "co_api_key"), "cohere-api-key"),
    (("mistral",), "mistral-api-key"),
    (("anthropic", "claude"), "anthropic-api-key"),
    (("openai",), "openai-api-key"),
    (("groq",), "groq-api-key"),
    (("gemini", "google"), "google-api-key"),
    (("hugging", "hf_token", "hf_api"), "huggingface-token"),
    (("together",), "together-api-key"),
    (("replicate",), "replicate-api-token"),
)
_AWS_SECRET = re.compile(r"[\"'](?P<value>[A-Za-z0-9/+]{40})[\"']")
_PLACEHOLDER_MARKS = (
    "...", "xxxx", "****", "<", ">", "{", "}", "$", "%", "your", "example", "placeholder",
    "dummy", "fake", "redacted", "changeme", "change_me", "replace", "insert", "sample",
    "0123456789", "1234567890", "abcdefghij", "secret_here", "key_here", "todo",
)  # fmt: skip
_TEST_PREFIXES = ("sk-test", "sk_test", "sk-proj-test", "sk-ant-test", "hf_test", "gsk_test")
_MAX_TEXT = 8 * 1024 * 1024
_LINE_OPENERS = ("", "export", "-", "set")
_BARE = re.compile(r"[A-Za-z0-9+/=\-]+")  # an unquoted key: no dots or underscores of code


@dataclass(frozen=True, slots=True)
class _Hit:
    type: str
    value: str
    line: int


def is_placeholder(value: str) -> bool:
    """Whether a candidate looks like documentation rather than a credential."""
    low = value.lower()
    if low.startswith(_TEST_PREFIXES) or any(m in low for m in _PLACEHOLDER_MARKS):
        return True
    return not _varied(value)


def _varied(value: str) -> bool:
    """Random keys mix character classes and have high per-character entropy."""
    body = value[-40:]
    classes = sum(
        (
            any(c.islower() for c in body),
            any(c.isupper() for c in body),
            any(c.isdigit() for c in body),
        )
    )
    if classes < 2 or len(set(body)) < 10:
        return False
    counts = Counter(body)
    entropy = -sum(n / len(body) * math.log2(n / len(body)) for n in counts.values())
    return entropy >= 3.0


def _fingerprint(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def _finding(hit: _Hit, rel: str, *, detector: str, cell: int | None, line: int | None) -> Finding:
    place = f"{rel}:cell{cell}" if cell is not None else rel
    where = f"{place}:{line}" if line else (f"{place}:output" if cell is not None else place)
    properties: dict[str, object] = {"type": hit.type, "fingerprint": _fingerprint(hit.value)}
    if cell is not None:
        properties["cell"] = cell
        properties["cell_line"] = line
    return Finding(
        kind=ItemKind.SECRET,
        identity=f"secret/{hit.type}@{where}",
        name=SECRET_TYPES[hit.type],
        confidence=Confidence.INFERRED,
        location=Location(rel, line),
        detector=detector,
        properties=properties,
    )


def _type_for_name(name: str) -> str | None:
    low = name.lower()
    if not any(k in low for k in _KEYISH):
        return None
    for fragments, kind in _NAME_TYPES:
        if any(f in low for f in fragments):
            return kind
    return None


def _prefixed(value: str) -> str | None:
    """The type of a value that is entirely one prefixed credential."""
    for kind, pattern, _ in _PREFIXED:
        if pattern.fullmatch(value):
            return kind
    return None


def _line_hits(line: str, number: int) -> list[_Hit]:
    hits: list[_Hit] = []
    for kind, pattern, _ in _PREFIXED:
        for match in pattern.finditer(line):
            value = match.group(0)
            if kind == "openai-api-key" and value.startswith("sk-ant-"):
                continue
            if not is_placeholder(value):
                hits.append(_Hit(kind, value, number))
    low = line.lower()
    if any(k in low for k in _KEYISH):
        for match in _ASSIGNED.finditer(line):
            kind_by_name = _type_for_name(match.group("name"))
            value = match.group("value")
            if kind_by_name is None or _prefixed(value) or is_placeholder(value):
                continue
            # An unquoted value counts only in NAME=value files (.env, YAML): the name
            # must open the line, so `KEY = settings.attr` in code is not a literal.
            if match.group("q") is None and (
                line[: match.start()].strip() not in _LINE_OPENERS or not _BARE.fullmatch(value)
            ):
                continue
            if kind_by_name == "aws-secret-access-key" and not re.fullmatch(
                r"[A-Za-z0-9/+]{40}", value
            ):
                continue
            hits.append(_Hit(kind_by_name, value, number))
    return hits


def _aws_secrets_near(lines: list[str], id_lines: set[int]) -> list[_Hit]:
    """40-character base64 literals within three lines of an AWS access key id."""
    hits: list[_Hit] = []
    wanted = {n for i in id_lines for n in range(i - 3, i + 4)}
    for number in sorted(wanted):
        if 1 <= number <= len(lines):
            for match in _AWS_SECRET.finditer(lines[number - 1]):
                value = match.group("value")
                if not is_placeholder(value) and not _prefixed(value):
                    hits.append(_Hit("aws-secret-access-key", value, number))
    return hits


_KEYISH_ANY = re.compile("|".join(_KEYISH), re.IGNORECASE)


def _candidate_lines(text: str) -> list[int]:
    """1-based numbers of the lines any pattern could hit, found by whole-text scans in C.

    Running every pattern on every line cost more than parsing the file; a line where no
    prefixed pattern matches and no key-like word appears can yield nothing, so only the
    others are examined line by line. Offsets follow ``str.splitlines`` exactly.
    """
    starts: list[int] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        starts.append(offset)
        offset += len(line)
    found: set[int] = set()
    patterns = [pattern for _kind, pattern, _ in _PREFIXED] + [_KEYISH_ANY]
    for pattern in patterns:
        for match in pattern.finditer(text):
            found.add(bisect.bisect_right(starts, match.start()))
    return sorted(n for n in found if 1 <= n <= len(starts))


def find_secrets(
    text: str,
    rel: str,
    *,
    detector: str = DETECTOR_ID,
    cell: int | None = None,
    output: bool = False,
) -> list[Finding]:
    """Credentials in ``text`` (any text file, or one notebook cell when ``cell`` is set).

    Lines are 1-based within ``text``; a cell's ``output`` has no line. The same value on
    one line is reported once.
    """
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT]
    lines = text.splitlines()
    hits: list[_Hit] = []
    for number in _candidate_lines(text):
        hits.extend(_line_hits(lines[number - 1], number))
    id_lines = {h.line for h in hits if h.type == "aws-access-key-id"}
    if id_lines:
        hits.extend(_aws_secrets_near(lines, id_lines))
    seen: set[tuple[int, str]] = set()
    findings: list[Finding] = []
    for hit in hits:
        key = (hit.line, hit.value)
        if key in seen:
            continue
        seen.add(key)
        where = None if output else hit.line
        findings.append(_finding(hit, rel, detector=detector, cell=cell, line=where))
    return findings


def secret_from_literal(
    value: str,
    rel: str,
    line: int | None,
    *,
    hint: str | None,
    detector: str = DETECTOR_ID,
    cell: int | None = None,
) -> Finding | None:
    """A credential given as a literal to an AI SDK (``api_key="…"``), or ``None``.

    ``hint`` is the provider the SDK talks to (``"cohere"``, ``"azure-openai"``…); it
    names the type when the value has no recognisable prefix.
    """
    value = value.strip()
    kind = _prefixed(value)
    if kind is None:
        if not re.fullmatch(r"[A-Za-z0-9_\-+/=.:]{16,300}", value):
            return None
        kind = _HINT_TYPES.get(hint or "", "generic-api-key")
    if is_placeholder(value):
        return None
    return _finding(_Hit(kind, value, line or 0), rel, detector=detector, cell=cell, line=line)


def fingerprint_of(finding: Finding) -> str | None:
    """The fingerprint a secret finding carries (to avoid reporting one value twice)."""
    value = finding.properties.get("fingerprint")
    return value if isinstance(value, str) else None


_HINT_TYPES: dict[str, str] = {
    "openai": "openai-api-key",
    "azure-openai": "azure-openai-api-key",
    "anthropic": "anthropic-api-key",
    "cohere": "cohere-api-key",
    "mistral": "mistral-api-key",
    "groq": "groq-api-key",
    "google-genai": "google-api-key",
    "google-vertexai": "google-api-key",
    "hf": "huggingface-token",
    "hf-inference": "huggingface-token",
    "together": "together-api-key",
    "replicate": "replicate-api-token",
    "aws-bedrock": "aws-secret-access-key",
    "aws-sagemaker": "aws-secret-access-key",
}
