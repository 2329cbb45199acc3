"""Static checks of one rule expression against the fact catalogue, before any gate runs.

``unknown_fact`` says why a path a rule reads is not a fact (an unknown name, a whole
namespace, a key read on a fact that is not a map). ``not_boolean`` says why a rule cannot
return a boolean: first by the shape of its top-level expression (arithmetic, a number or
string literal, a non-boolean fact), then by evaluating it once against sample values of
the catalogue's types, which catches what the shape alone cannot tell.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import lark

from tutela.facts.cel import CompiledExpression, fact_path, unwrap
from tutela.facts.interface import FactSpec, FactType

__all__ = ["not_boolean", "unknown_fact"]


def unknown_fact(path: str, catalogue: Mapping[str, FactSpec]) -> str | None:
    parts = path.split(".")
    namespaces = {name.partition(".")[0] for name in catalogue}
    if len(parts) == 1:
        if parts[0] in namespaces:
            example = _example(parts[0], catalogue)
            return f"{parts[0]} is a namespace; read one of its facts, such as {example}"
        return f"unknown fact {parts[0]!r}{_suggest(parts[0], catalogue)}"
    name = ".".join(parts[:2])
    spec = catalogue.get(name)
    if spec is None:
        return f"unknown fact {name!r}{_suggest(name, catalogue)}"
    if len(parts) > 2:
        if spec.type != "map":
            return f"fact {name} is a {spec.type}, not a map: {path} cannot be read"
        if len(parts) > 3 and spec.value_type != "map":
            return f"fact {name} maps to {spec.value_type or 'values'}: {path} cannot be read"
    return None


def _example(namespace: str, catalogue: Mapping[str, FactSpec]) -> str:
    return next((n for n in catalogue if n.startswith(namespace + ".")), namespace + ".<name>")


def _suggest(name: str, catalogue: Mapping[str, FactSpec]) -> str:
    close = difflib.get_close_matches(name, list(catalogue), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else " (see `tutela policy facts`)"


# -- the boolean check -----------------------------------------------------------------

_BOOL_METHODS = frozenset(
    {"all", "exists", "exists_one", "startsWith", "endsWith", "contains", "matches"}
)
_VALUE_METHODS = frozenset({"size", "map", "filter", "getFullYear", "getMonth", "getDate"})
_BOOL_FUNCTIONS = frozenset({"has", "matches", "bool"})
_VALUE_FUNCTIONS = frozenset(
    {"size", "int", "uint", "double", "string", "bytes", "duration", "timestamp", "type"}
)
_LITERAL_KINDS = {
    "INT_LIT": "an integer",
    "UINT_LIT": "an integer",
    "FLOAT_LIT": "a number",
    "STRING_LIT": "a string",
    "MLSTRING_LIT": "a string",
    "BYTES_LIT": "bytes",
    "NULL_LIT": "null",
}


def not_boolean(compiled: CompiledExpression, catalogue: Mapping[str, FactSpec]) -> str | None:
    """Why the expression's result cannot be a boolean, or None if it can (or may)."""
    verdict = _static(compiled.top_level(), catalogue)
    if verdict is not None:
        return verdict
    # Evaluate once against typed samples: catches what the shape alone cannot tell.
    result = compiled.evaluate(_sample_activation(compiled, catalogue))
    if result.ok and not isinstance(result.value, bool):
        return f"it returns {_kind_of(result.value)}"
    return None


def _static(node: lark.Tree[Any], catalogue: Mapping[str, FactSpec]) -> str | None:
    node = unwrap(node)
    kind = node.data
    children = [c for c in node.children if c is not None]
    if kind == "expr" and len(children) == 3:  # cond ? a : b
        for branch in children[1:]:
            if isinstance(branch, lark.Tree):
                why = _static(branch, catalogue)
                if why is not None:
                    return f"a branch of ?: is not a boolean ({why})"
        return None
    if kind in {"conditionalor", "conditionaland", "relation"}:
        return None
    if kind in {"addition", "multiplication"}:
        return "it is arithmetic, which gives a number"
    if kind == "unary":
        head = children[0]
        if isinstance(head, lark.Tree) and head.data == "unary_neg":
            return "it is a negated number"
        return None
    if kind == "literal":
        token = children[0]
        lexeme = token.type if isinstance(token, lark.Token) else ""
        if lexeme == "BOOL_LIT":
            return None
        return f"it is {_LITERAL_KINDS.get(lexeme, 'a literal')} literal"
    if kind in {"list_lit", "map_lit"}:
        return "it is a list or map literal"
    if kind in {"member_dot", "member_index", "ident"}:
        path = fact_path(node)
        if path is None:
            return None
        fact_type = _type_at(path, catalogue)
        if fact_type is None or fact_type == "bool":
            return None
        return f"fact {path} is a {fact_type}"
    if kind == "member_dot_arg":
        method = str(children[1])
        if method in _BOOL_METHODS:
            return None
        if method in _VALUE_METHODS:
            return f".{method}() does not give a boolean"
        return None
    if kind == "ident_arg":
        function = str(children[0])
        if function in _BOOL_FUNCTIONS:
            return None
        if function in _VALUE_FUNCTIONS:
            return f"{function}() does not give a boolean"
    return None


def _type_at(path: str, catalogue: Mapping[str, FactSpec]) -> FactType | None:
    parts = path.split(".")
    spec = catalogue.get(".".join(parts[:2]))
    if spec is None:
        return None
    if len(parts) == 2:
        return spec.type
    return spec.value_type if len(parts) == 3 else None


_SAMPLES: dict[str, Any] = {
    "bool": False,
    "int": 0,
    "double": 0.0,
    "string": "",
    "timestamp": datetime(2000, 1, 1, tzinfo=UTC),
    "list": [],
    "map": {},
}


def _sample_activation(
    compiled: CompiledExpression, catalogue: Mapping[str, FactSpec]
) -> dict[str, dict[str, Any]]:
    activation: dict[str, dict[str, Any]] = {}
    for name, spec in catalogue.items():
        namespace, _, fact = name.partition(".")
        activation.setdefault(namespace, {})[fact] = (
            _SAMPLES[spec.type] if spec.type != "map" else {}
        )
    for path in compiled.paths():
        parts = path.split(".")
        read = catalogue.get(".".join(parts[:2]))
        if read is not None and read.type == "map" and len(parts) == 3:
            value_type = read.value_type or "string"
            activation[parts[0]][parts[1]][parts[2]] = _SAMPLES[value_type]
    return activation


def _kind_of(value: Any) -> str:
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"
