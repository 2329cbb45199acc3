"""Load and validate probe data files (YAML or JSON) into ``Probe`` objects.

A probe file is ``{"version": 1, "probes": [ … ]}``; each probe names its category, its
OWASP LLM Top 10 (2025) and MITRE ATLAS ids, the detectors that decide success, and the
turns to send. Validation is strict: an unknown key, a bad id format, an unknown detector
or a duplicate id is an error naming the file and the probe. See docs/arena-probes.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from tutela.arena.interface import ArenaError, Probe

__all__ = [
    "CATEGORIES",
    "FILE_VERSION",
    "ProbeFileError",
    "builtin_probe_files",
    "load_builtin_probes",
    "load_probe_file",
    "load_probes",
    "parse_probe_document",
]

FILE_VERSION = 1
MAX_FILE_BYTES = 2_000_000
MAX_TURNS = 50
MAX_TURN_CHARS = 100_000

CATEGORIES = frozenset({
    "prompt_injection", "indirect_prompt_injection", "jailbreak", "system_prompt_extraction",
    "sensitive_information_disclosure", "improper_output_handling", "excessive_agency",
    "package_hallucination", "unbounded_consumption", "toxicity", "crescendo",
})  # fmt: skip
SEVERITIES = frozenset({"critical", "high", "medium", "low"})

_ID = re.compile(r"^probe\.[a-z0-9_]+(?:\.[a-z0-9_]+)+$")
_OWASP = re.compile(r"^LLM(?:0[1-9]|10):2025$")
_ATLAS = re.compile(r"^AML\.T\d{4}(?:\.\d{3})?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

_REQUIRED = {"id", "category", "owasp", "atlas", "severity", "turns", "detectors"}
_OPTIONAL = {"language", "source", "licence", "system", "document", "tools", "params",
             "version", "description"}  # fmt: skip


class ProbeFileError(ArenaError):
    """A probe file is unreadable or does not follow the probe schema."""

    code = "arena.probe_file"


def _fail(name: str, problem: str, *, probe: str | None = None) -> ProbeFileError:
    where = f"{name}: probe {probe!r}" if probe else name
    return ProbeFileError(f"{where}: {problem}", subject=name)


def _str(entry: dict[str, Any], key: str, name: str, pid: str, *, default: str | None = None,
         optional: bool = False) -> str | None:  # fmt: skip
    value = entry.get(key, default)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value.strip() and not optional):
        raise _fail(name, f"{key!r} must be a non-empty string", probe=pid)
    return value


def _probe(entry: Any, name: str, index: int, known: Collection[str] | None) -> Probe:
    if not isinstance(entry, dict):
        raise _fail(name, f"probe #{index} is not a mapping")
    pid = entry.get("id")
    if not isinstance(pid, str) or not _ID.match(pid):
        raise _fail(name, f"probe #{index} has a bad id {pid!r} (expected probe.<category>.<name>)")
    missing = sorted(_REQUIRED - entry.keys())
    if missing:
        raise _fail(name, f"missing keys {missing}", probe=pid)
    unknown = sorted(entry.keys() - _REQUIRED - _OPTIONAL)
    if unknown:
        raise _fail(name, f"unknown keys {unknown}", probe=pid)
    category = _str(entry, "category", name, pid) or ""
    if category not in CATEGORIES:
        raise _fail(name, f"unknown category {category!r}", probe=pid)
    owasp = _str(entry, "owasp", name, pid) or ""
    if not _OWASP.match(owasp):
        raise _fail(name, f"owasp {owasp!r} is not an OWASP LLM Top 10 2025 id (LLM01:2025 …)",
                    probe=pid)  # fmt: skip
    atlas = _str(entry, "atlas", name, pid) or ""
    if not _ATLAS.match(atlas):
        raise _fail(name, f"atlas {atlas!r} is not a MITRE ATLAS technique id (AML.T0051.000 …)",
                    probe=pid)  # fmt: skip
    severity = _str(entry, "severity", name, pid) or ""
    if severity not in SEVERITIES:
        raise _fail(name, f"severity {severity!r} is not one of {sorted(SEVERITIES)}", probe=pid)
    language = _str(entry, "language", name, pid, default="en") or "en"
    if not _LANGUAGE.match(language):
        raise _fail(name, f"language {language!r} is not a BCP 47 tag", probe=pid)
    turns = entry["turns"]
    if isinstance(turns, str):
        turns = [turns]
    turns_ok = isinstance(turns, list) and 1 <= len(turns) <= MAX_TURNS
    if not turns_ok or not all(isinstance(t, str) and 0 < len(t) <= MAX_TURN_CHARS for t in turns):
        raise _fail(name, f"'turns' must be 1–{MAX_TURNS} non-empty strings", probe=pid)
    detectors = entry["detectors"]
    if isinstance(detectors, str):
        detectors = [detectors]
    if (
        not isinstance(detectors, list)
        or not detectors
        or not all(isinstance(d, str) for d in detectors)
    ):
        raise _fail(name, "'detectors' must be a non-empty list of detector ids", probe=pid)
    if known is not None:
        bad = sorted(set(detectors) - set(known))
        if bad:
            raise _fail(name, f"unknown detectors {bad}", probe=pid)
    tools = entry.get("tools", [])
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise _fail(name, "'tools' must be a list of tool definitions (mappings)", probe=pid)
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise _fail(name, "'params' must be a mapping", probe=pid)
    version = entry.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(name, "'version' must be a positive integer", probe=pid)
    source = _str(entry, "source", name, pid, default="written for Tutela") or ""
    licence = _str(entry, "licence", name, pid, default="Apache-2.0") or ""
    system = _str(entry, "system", name, pid, optional=True)
    document = _str(entry, "document", name, pid, optional=True)
    canary = params.get("canary")
    if category == "system_prompt_extraction" and not (
        isinstance(canary, str) and system and canary in system
    ):
        raise _fail(name, "system-prompt extraction must plant params.canary in 'system'",
                    probe=pid)  # fmt: skip
    return Probe(
        id=pid, category=category, owasp=owasp, atlas=atlas, severity=severity,
        turns=tuple(turns), detectors=tuple(detectors), language=language, source=source,
        licence=licence, system=system, document=document, tools=tuple(tools),
        params=dict(params), version=version,
    )  # fmt: skip


def parse_probe_document(
    data: Any, name: str, known_detectors: Collection[str] | None = None
) -> list[Probe]:
    """Validate one parsed probe file; ``name`` is used in error messages."""
    if not isinstance(data, dict):
        raise _fail(name, "top level must be a mapping with 'version' and 'probes'")
    version = data.get("version")
    if version != FILE_VERSION:
        raise _fail(name, f"unsupported file version {version!r} (expected {FILE_VERSION})")
    extra = sorted(data.keys() - {"version", "probes", "description"})
    if extra:
        raise _fail(name, f"unknown top-level keys {extra}")
    entries = data.get("probes")
    if not isinstance(entries, list) or not entries:
        raise _fail(name, "'probes' must be a non-empty list")
    probes = [_probe(e, name, i, known_detectors) for i, e in enumerate(entries, 1)]
    seen: set[str] = set()
    for p in probes:
        if p.id in seen:
            raise _fail(name, "duplicate probe id", probe=p.id)
        seen.add(p.id)
    return probes


def _read(path: Path | Traversable) -> tuple[str, Any]:
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(name, f"cannot read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(name, f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
        if name.endswith(".json"):
            return name, json.loads(text)
        return name, yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise _fail(name, "not UTF-8 text") from exc
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(
            name, f"not valid {'JSON' if name.endswith('.json') else 'YAML'}: {first}"
        ) from exc
    except RecursionError as exc:
        raise _fail(name, "nesting too deep") from exc


def load_probe_file(path: Path | Traversable,
                    known_detectors: Collection[str] | None = None) -> list[Probe]:  # fmt: skip
    """Load and validate one ``.yaml``/``.yml``/``.json`` probe file."""
    name, data = _read(path)
    return parse_probe_document(data, name, known_detectors)


def builtin_probe_files() -> list[Traversable]:
    """The probe files shipped with Tutela, sorted by name."""
    folder = resources.files("tutela.arena").joinpath("data", "probes")
    files = [f for f in folder.iterdir() if f.name.endswith((".yaml", ".yml", ".json"))]
    return sorted(files, key=lambda f: f.name)


def load_probes(paths: Iterable[Path | Traversable],
                known_detectors: Collection[str] | None = None) -> list[Probe]:  # fmt: skip
    """Load several files; probe ids must be unique across all of them."""
    probes: list[Probe] = []
    owner: dict[str, str] = {}
    for path in paths:
        for probe in load_probe_file(path, known_detectors):
            if probe.id in owner:
                raise _fail(str(path), f"duplicate probe id (also in {owner[probe.id]})",
                            probe=probe.id)  # fmt: skip
            owner[probe.id] = str(path)
            probes.append(probe)
    return probes


def load_builtin_probes(known_detectors: Collection[str] | None = None) -> list[Probe]:
    """Every shipped probe, validated against ``known_detectors`` (default: the built-ins)."""
    if known_detectors is None:
        from tutela.arena.detectors import builtin_detectors

        known_detectors = builtin_detectors().keys()
    return load_probes(builtin_probe_files(), known_detectors)
