"""The catalogue of every rule the scanner can report, for docs, SARIF and `tutela rules`."""

from __future__ import annotations

from collections.abc import Iterable

from tutela.scan.formats.interface import FormatScanner, RuleInfo
from tutela.scan.formats.registry import BUILTIN_SCANNERS
from tutela.scan.interface import Severity

__all__ = ["ENGINE_RULES", "PICKLE_RULES", "all_rules"]

# The pickle engine's rules (tutela.scan.pickle). Severity is the default; a finding may
# carry a higher one (e.g. malformed after something was already invoked).
PICKLE_RULES: tuple[RuleInfo, ...] = (
    RuleInfo("pickle.denied-import", Severity.CRITICAL, "imports a callable on the denylist"),
    RuleInfo("pickle.denied-call", Severity.CRITICAL, "invokes a callable on the denylist"),
    RuleInfo("pickle.unknown-import", Severity.MEDIUM, "imports a name on neither list: review"),
    RuleInfo(
        "pickle.attribute-traversal",
        Severity.CRITICAL,
        "a dotted name reaches interpreter internals (__globals__, __builtins__, ...)",
    ),
    RuleInfo(
        "pickle.dynamic-call",
        Severity.CRITICAL,
        "calls the result of getattr/vars/dict.get/attrgetter that resolves to a danger",
    ),
    RuleInfo(
        "pickle.marshalled-code",
        Severity.CRITICAL,
        "rebuilds a function from marshalled code (types.FunctionType, dill, cloudpickle)",
    ),
    RuleInfo("pickle.malformed", Severity.MEDIUM, "the pickle is truncated or malformed"),
    RuleInfo(
        "pickle.frame-mismatch",
        Severity.MEDIUM,
        "FRAME lengths disagree with the opcodes, a known trick to hide opcodes from parsers",
    ),
    RuleInfo("pickle.trailing-data", Severity.LOW, "bytes after the last pickle"),
    RuleInfo(
        "pickle.extension-code",
        Severity.HIGH,
        "EXT1/2/4 copyreg extension code that cannot be resolved statically",
    ),
    RuleInfo("pickle.state-injection", Severity.HIGH, "BUILD sets state on a callable or module"),
    RuleInfo("pickle.persistent-id", Severity.INFO, "persistent ids (normal in torch files)"),
    RuleInfo("pickle.out-of-band-buffer", Severity.LOW, "protocol 5 out-of-band buffers"),
    RuleInfo("pickle.limit", Severity.MEDIUM, "a resource limit stopped the analysis"),
)

# Rules the engine itself reports about a file, whatever its format.
ENGINE_RULES: tuple[RuleInfo, ...] = ()


def all_rules(scanners: Iterable[type[FormatScanner]] = BUILTIN_SCANNERS) -> list[RuleInfo]:
    """Every rule once, sorted by id (a rule several scanners share appears once)."""
    seen: dict[str, RuleInfo] = {}
    for rule in (*PICKLE_RULES, *ENGINE_RULES):
        seen.setdefault(rule.rule_id, rule)
    for scanner in scanners:
        for rule in scanner.rules:
            seen.setdefault(rule.rule_id, rule)
    return [seen[k] for k in sorted(seen)]
