"""Jinja chat templates that try to leave the template sandbox (SSTI).

GGUF files and tokenizer configs carry a Jinja ``chat_template`` that inference
servers render. Rendered outside a sandbox (llama-cpp-python before 0.2.72,
CVE-2024-34359), a template reaches Python through attribute chains such as
``().__class__.__base__.__subclasses__()`` or ``cycler.__init__.__globals__.os`` and
runs commands. Legitimate chat templates never touch dunder attributes, so every such
access is reported. The template is parsed with Jinja's parser when available (parsing
never renders), plus a textual pass that catches obfuscation the AST hides.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from tutela.scan.interface import Severity

__all__ = ["TemplateIssue", "inspect_template"]

_DUNDER = re.compile(r"__[A-Za-z0-9_]+__")
_ESCAPED_UNDERSCORE = re.compile(r"\\x5f|\\u005f|\\137|\\U0000005f", re.IGNORECASE)
_ATTR_FILTER = re.compile(r"\|\s*attr\s*\(")
_DANGEROUS_WORDS = re.compile(
    r"\b(popen|subprocess|os\.system|eval|exec|execfile|compile|__import__|import_module|"
    r"builtins|globals|getattr|setattr|subclasses|mro|func_globals|f_globals|gi_frame|"
    r"co_code|_module|_TemplateReference__context)\b"
)
_GLOBAL_HELPERS = re.compile(r"\b(cycler|joiner|namespace|lipsum|self|range|dict)\s*\.\s*_")
_UNDERSCORE_LITERAL = re.compile(r"""(['"])_{2,}\1|(['"])_{2}[a-z]""")
_CHR_BUILD = re.compile(r"""['"]%c['"]\s*\|\s*format|\bformat\s*\(\s*95\s*\)""")


@dataclass(frozen=True, slots=True)
class TemplateIssue:
    severity: Severity
    message: str


def inspect_template(source: str) -> list[TemplateIssue]:
    """Everything in ``source`` that reaches for Python internals; empty when benign."""
    issues: list[TemplateIssue] = []
    dunders = sorted(set(_DUNDER.findall(source)))
    if dunders:
        issues.append(
            TemplateIssue(
                Severity.CRITICAL,
                "template accesses Python internals: " + ", ".join(dunders[:8]),
            )
        )
    if _GLOBAL_HELPERS.search(source):
        issues.append(
            TemplateIssue(
                Severity.CRITICAL,
                "template reaches a private attribute of a Jinja global "
                "(cycler/joiner/namespace/lipsum/self): the classic sandbox escape",
            )
        )
    words = sorted(set(_DANGEROUS_WORDS.findall(source)))
    if words:
        issues.append(
            TemplateIssue(Severity.HIGH, "template names execution primitives: " + ", ".join(words))
        )
    if _ESCAPED_UNDERSCORE.search(source) or _CHR_BUILD.search(source):
        issues.append(
            TemplateIssue(Severity.HIGH, "template builds underscores from escapes or char codes")
        )
    if _ATTR_FILTER.search(source) or _UNDERSCORE_LITERAL.search(source):
        issues.append(
            TemplateIssue(
                Severity.MEDIUM,
                "template uses the attr filter or underscore string literals "
                "(attribute access obfuscation)",
            )
        )
    issues.extend(_inspect_ast(source))
    return issues


def _inspect_ast(source: str) -> list[TemplateIssue]:
    try:
        jinja2: Any = importlib.import_module("jinja2")
        nodes: Any = importlib.import_module("jinja2.nodes")
    except ImportError:
        return []
    try:
        tree = jinja2.Environment(autoescape=True).parse(source)
    except RecursionError:
        return [TemplateIssue(Severity.MEDIUM, "template nests too deeply to parse")]
    except Exception as exc:
        return [TemplateIssue(Severity.LOW, f"template does not parse: {str(exc)[:100]}")]
    private: set[str] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else _const(node.arg, nodes)
        if isinstance(name, str) and name.startswith("_"):
            private.add(name)
    for node in tree.find_all(nodes.Filter):
        if node.name == "attr" and node.args:
            value = _const(node.args[0], nodes)
            if isinstance(value, str) and value.startswith("_"):
                private.add(value)
    if private:
        return [
            TemplateIssue(
                Severity.CRITICAL,
                "template reads private attributes: " + ", ".join(sorted(private)[:8]),
            )
        ]
    return []


def _const(node: Any, nodes: Any) -> Any:
    return node.value if isinstance(node, nodes.Const) else None
