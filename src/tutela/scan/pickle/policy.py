"""Judge an imported name: allowed, denied (with the entry's reason) or unknown.

The policy is pure data plus string matching; it never imports what it judges, so the
verdict does not depend on which packages are installed beside the scanner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutela.scan.interface import Severity
from tutela.scan.pickle.allowlist import (
    ALLOW_CLASSES,
    ALLOW_EXACT,
    NEVER_CLASSES,
    ClassPattern,
)
from tutela.scan.pickle.denylist import DENYLIST, DenyEntry

__all__ = ["Judgement", "Policy"]

ALLOWED = "allowed"
DENIED = "denied"
UNKNOWN = "unknown"

_MODULE_ALIASES = {"__builtin__": "builtins", "__builtins__": "builtins", "copy_reg": "copyreg"}
_CLASS_LIKE = re.compile(r"_*[A-Z][A-Za-z0-9_]*")
_DUNDER = re.compile(r"__\w+__")
# Dunder names that are ordinary module-level names, not attribute traversal.
_PLAIN_DUNDERS = frozenset({"__newobj__", "__newobj_ex__", "__import__"})
# Names that make an unknown import more suspicious.
_DANGEROUS_NAMES = frozenset(
    [
        "system",
        "popen",
        "popen2",
        "popen3",
        "exec",
        "eval",
        "execfile",
        "spawn",
        "spawnl",
        "spawnlp",
        "spawnv",
        "spawnve",
        "run_path",
        "run_module",
        "_run_code",
        "runcode",
        "runsource",
        "runctx",
        "getoutput",
        "getstatusoutput",
        "check_output",
        "check_call",
        "Popen",
        "startfile",
        "fork",
        "forkpty",
        "execv",
        "execve",
        "execl",
        "execlp",
        "import_module",
        "rmtree",
        "unlink",
        "remove",
        "loads",
        "load",
        "load_module",
        "urlopen",
        "urlretrieve",
    ]
)


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict on one imported dotted name."""

    status: str  # "allowed" | "denied" | "unknown"
    severity: Severity
    rule: str  # rule id of the import finding ("" when allowed)
    reason: str
    target: str  # what the name resolves to (a denylist path when a tail matched)
    category: str = ""

    def allowed(self) -> bool:
        return self.status == ALLOWED


class Policy:
    """Allowlist and denylist matching with a per-instance cache."""

    def __init__(
        self,
        deny: tuple[DenyEntry, ...] = DENYLIST,
        allow_exact: dict[str, str] | None = None,
        allow_classes: tuple[ClassPattern, ...] = ALLOW_CLASSES,
    ) -> None:
        self._deny = {entry.pattern: entry for entry in deny}
        self._allow = dict(ALLOW_EXACT if allow_exact is None else allow_exact)
        self._classes = allow_classes
        self._cache: dict[tuple[str, str], Judgement] = {}

    def deny_entry(self, path: str) -> DenyEntry | None:
        """The most specific denylist entry covering ``path``."""
        parts = path.split(".")
        if parts[0] in _MODULE_ALIASES:
            parts[0] = _MODULE_ALIASES[parts[0]]
        for end in range(len(parts), 0, -1):
            entry = self._deny.get(".".join(parts[:end]))
            if entry is not None:
                return entry
        return None

    def judge(self, module: str, qual: str) -> Judgement:
        key = (module, qual)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._judge(module, qual)
            if len(self._cache) < 100_000:
                self._cache[key] = cached
        return cached

    def _judge(self, module: str, qual: str) -> Judgement:
        module = _MODULE_ALIASES.get(module, module)
        full = f"{module}.{qual}" if qual else module
        comps = qual.split(".") if qual else []
        dunder = any(
            _DUNDER.fullmatch(c) and (len(comps) > 1 or c not in _PLAIN_DUNDERS) for c in comps
        )
        entry = self.deny_entry(full)
        if len(comps) > 1 or dunder:
            if not dunder and full in self._allow:
                return Judgement(ALLOWED, Severity.INFO, "", self._allow[full], full)
            tail = entry or self._tail_entry(full)
            severe = dunder or tail is not None
            why = "dotted name reaches an attribute of an imported object"
            if dunder:
                why = (
                    "name traverses interpreter internals ("
                    + ", ".join(c for c in comps if _DUNDER.fullmatch(c))
                    + ") to reach arbitrary objects"
                )
            if tail is not None:
                why += f"; resolves to denied {tail.pattern}: {tail.reason}"
            return Judgement(
                DENIED,
                Severity.CRITICAL if severe else Severity.HIGH,
                "pickle.attribute-traversal",
                why,
                _tail_target(full, tail),
                tail.category if tail else "reach",
            )
        if entry is not None:
            rule = "pickle.marshalled-code" if entry.category == "code" else "pickle.denied-import"
            return Judgement(DENIED, entry.severity, rule, entry.reason, full, entry.category)
        if full in self._allow:
            return Judgement(ALLOWED, Severity.INFO, "", self._allow[full], full)
        pattern = self._class_pattern(module, comps)
        if pattern is not None:
            return Judgement(ALLOWED, Severity.INFO, "", pattern.reason, full)
        last = comps[-1] if comps else module.rsplit(".", 1)[-1]
        severity = Severity.HIGH if last in _DANGEROUS_NAMES else Severity.MEDIUM
        why = "not on the allowlist of names safe model files use"
        if severity is Severity.HIGH:
            why += f"; the name {last!r} suggests code execution or file access"
        return Judgement(UNKNOWN, severity, "pickle.unknown-import", why, full)

    def _tail_entry(self, full: str) -> DenyEntry | None:
        """A denylist entry matched by a suffix of ``full`` (``pathlib.os.system``)."""
        parts = full.split(".")
        for start in range(1, len(parts)):
            tail = parts[start:]
            entry = self.deny_entry(".".join(tail))
            if entry is None:
                continue
            # A bare last name only counts when it names a whole denied module.
            if len(tail) == 1 and entry.pattern != _MODULE_ALIASES.get(tail[0], tail[0]):
                continue
            return entry
        return None

    def _class_pattern(self, module: str, comps: list[str]) -> ClassPattern | None:
        if len(comps) != 1 or not _CLASS_LIKE.fullmatch(comps[0]) or comps[0] in NEVER_CLASSES:
            return None
        for pattern in self._classes:
            if module == pattern.prefix or module.startswith(pattern.prefix + "."):
                if any(module == x or module.startswith(x + ".") for x in pattern.exclude):
                    return None
                return pattern
        return None


def _tail_target(full: str, entry: DenyEntry | None) -> str:
    if entry is None:
        return full
    idx = full.find("." + entry.pattern + ".")
    if idx >= 0:
        return full[idx + 1 :]
    if full.endswith("." + entry.pattern):
        return entry.pattern
    return full
