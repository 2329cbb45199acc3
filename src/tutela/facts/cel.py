"""CEL expressions for policy rules: compile once, read what they reference, evaluate safely.

Rules are CEL (cel-python), never Python ``eval``: CEL has no side effects, no loops
beyond bounded macros and no access to anything but the activation it is given.

A fact ``arena.asr`` is reached in CEL as ``arena.asr`` (namespace ``arena`` is a map);
a map fact's key as ``arena.asr.prompt_injection`` or ``arena.asr["prompt_injection"]``.
``references()`` returns the facts (``namespace.name``) an expression reads, ``paths()``
the full paths including literal map keys, so a failed evaluation can say which fact
was missing rather than echo a ``KeyError``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import celpy
import lark
import lark.exceptions
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, CELSyntaxError, CELUnsupportedError

from tutela.errors import InputError, LimitExceeded

__all__ = [
    "MAX_EXPRESSION_CHARS",
    "MAX_TREE_DEPTH",
    "CompiledExpression",
    "EvalResult",
    "compile_expression",
    "fact_path",
    "from_cel",
    "to_cel",
    "unwrap",
]

# A rule is a line or a few; anything longer is a mistake or an attempt to exhaust the parser.
MAX_EXPRESSION_CHARS = 8192
# The evaluator recurses once per parse-tree level; past ~600 it exhausts Python's stack.
MAX_TREE_DEPTH = 300
# Macros that bind their first argument as a local variable, not a fact.
_BINDING_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

# celpy logs every evaluation step at DEBUG; keep that out of Tutela's logs by default.
logging.getLogger("celpy").setLevel(logging.WARNING)


@functools.cache
def _env() -> celpy.Environment:
    # Building the CEL grammar takes ~150 ms: done on first use, not when tutela.policy
    # is imported (the approvals fact provider lives in this package).
    return celpy.Environment()


@dataclass(frozen=True)
class EvalResult:
    """The outcome of one evaluation: a plain Python value, or why there is none.

    ``missing`` lists the fact paths the expression reads that the activation does not
    hold; when the evaluation failed because of them, ``error`` says so in those terms.
    """

    value: Any = None
    error: str | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.error is None


class CompiledExpression:
    """A parsed CEL expression bound to where it came from (``source`` and ``line``)."""

    def __init__(self, text: str, tree: lark.Tree[Any], *, source: str, line: int | None) -> None:
        self.text = text
        self.tree = tree
        self.source = source
        self.line = line
        self._program = _env().program(tree)
        self._paths = frozenset(_collect_paths(tree))

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r}, source={self.location()!r})"

    def location(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source

    def paths(self) -> set[str]:
        """Every dotted path read from the activation, with literal map keys."""
        return set(self._paths)

    def references(self) -> set[str]:
        """The facts read, as ``namespace.name`` (or a bare ``namespace`` if read whole)."""
        return {".".join(path.split(".")[:2]) for path in self._paths}

    def top_level(self) -> lark.Tree[Any]:
        """The innermost node that still spans the whole expression (for static checks)."""
        return unwrap(self.tree)

    def evaluate(self, activation: Mapping[str, Any]) -> EvalResult:
        """Evaluate against ``{namespace: {name: value}}``; never raises on bad data."""
        missing = tuple(sorted(p for p in self._paths if not _has_path(activation, p)))
        try:
            cel_activation = {str(k): to_cel(v) for k, v in activation.items()}
            raw: object = self._program.evaluate(cel_activation)
        except (CELEvalError, CELSyntaxError, CELUnsupportedError) as exc:
            return EvalResult(error=_eval_message(exc, missing), missing=missing)
        except (TypeError, ValueError, KeyError, ArithmeticError, RecursionError) as exc:
            # celpy lets some Python errors through (a bad operand in a native function).
            return EvalResult(error=f"{type(exc).__name__}: {exc}", missing=missing)
        if isinstance(raw, CELEvalError):
            return EvalResult(error=_eval_message(raw, missing), missing=missing)
        return EvalResult(value=from_cel(raw), missing=missing)


def compile_expression(
    text: str, *, source: str = "<expr>", line: int | None = None
) -> CompiledExpression:
    """Parse ``text``; a syntax error becomes an InputError naming ``source:line``.

    ``line`` is the line of ``source`` on which the expression's first line sits, so an
    error on the third line of a multi-line expression is reported at ``line + 2``.
    """
    where = f"{source}:{line}" if line is not None else source
    if not isinstance(text, str) or not text.strip():
        raise InputError("empty CEL expression", subject=where, expected="a CEL expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise LimitExceeded(
            "CEL expression too long",
            subject=where,
            expected=f"at most {MAX_EXPRESSION_CHARS} characters",
            found=f"{len(text)}",
        )
    try:
        tree = _env().compile(text)
        if _depth(tree) > MAX_TREE_DEPTH:
            raise RecursionError
        return CompiledExpression(text, tree, source=source, line=line)
    except CELParseError as exc:
        err_line = line + (exc.line or 1) - 1 if line is not None else exc.line
        subject = f"{source}:{err_line}" if err_line is not None else source
        column = f" at column {exc.column}" if exc.column is not None else ""
        raise InputError(
            f"CEL syntax error{column}: {_parse_reason(exc)}",
            subject=subject,
            found=repr(_one_line(text)),
            hint="see https://github.com/google/cel-spec/blob/master/doc/langdef.md",
        ) from None
    except RecursionError:
        raise LimitExceeded(
            "CEL expression nested too deeply",
            subject=where,
            expected=f"at most {MAX_TREE_DEPTH} levels of parse tree (about 30 parentheses)",
        ) from None


# -- conversion ----------------------------------------------------------------------------


def to_cel(value: Any) -> Any:
    """Plain Python/JSON values and datetimes to celpy values."""
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, bytes):
        return celtypes.BytesType(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return celtypes.TimestampType(aware)
    if isinstance(value, date):
        return celtypes.TimestampType(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, timedelta):
        return celtypes.DurationType(value)
    if isinstance(value, Mapping):
        return celtypes.MapType({celtypes.StringType(str(k)): to_cel(v) for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return celtypes.ListType([to_cel(v) for v in items])
    raise TypeError(f"cannot give a {type(value).__name__} to CEL")


def from_cel(value: Any) -> Any:
    """celpy values back to plain Python (bool before int: BoolType is an int)."""
    if value is None:
        return None
    if isinstance(value, celtypes.BoolType | bool):
        return bool(value)
    if isinstance(value, celtypes.TimestampType):
        return datetime.fromtimestamp(value.timestamp(), tz=UTC)
    if isinstance(value, celtypes.DurationType):
        return timedelta(seconds=value.total_seconds())
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {from_cel(k): from_cel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_cel(v) for v in value]
    return str(value)


# -- parse-tree reading ----------------------------------------------------------------------


def unwrap(tree: lark.Tree[Any]) -> lark.Tree[Any]:
    """Descend through single-child grammar levels (expr → conditionalor → … → member)."""
    node = tree
    while True:
        children = [c for c in node.children if c is not None]
        if node.data == "paren_expr" or (
            len(children) == 1
            and isinstance(children[0], lark.Tree)
            and node.data
            in {
                "expr",
                "conditionalor",
                "conditionaland",
                "relation",
                "addition",
                "multiplication",
                "unary",
                "member",
                "primary",
                "paren_expr",
            }
        ):
            child = children[0]
            if not isinstance(child, lark.Tree):
                return node
            node = child
            continue
        return node


def _depth(tree: lark.Tree[Any]) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((c, level + 1) for c in node.children if isinstance(c, lark.Tree))
    return deepest


def _collect_paths(tree: lark.Tree[Any]) -> Iterator[str]:
    yield from _walk(tree, frozenset())


def _walk(node: lark.Tree[Any], bound: frozenset[str]) -> Iterator[str]:
    if node.data == "member_dot_arg":
        target, method = node.children[0], node.children[1]
        args = node.children[2] if len(node.children) > 2 else None
        if isinstance(target, lark.Tree):
            yield from _walk(target, bound)
        inner_bound = bound
        if str(method) in _BINDING_MACROS and isinstance(args, lark.Tree) and args.children:
            var = _ident_name(args.children[0])
            if var is not None:
                inner_bound = bound | {var}
                args_children = args.children[1:]
            else:
                args_children = list(args.children)
        else:
            args_children = list(args.children) if isinstance(args, lark.Tree) else []
        for child in args_children:
            if isinstance(child, lark.Tree):
                yield from _walk(child, inner_bound)
        return
    if node.data in {"member_dot", "member_index"} or _is_root_ident(node):
        path, rest = _chain(node)
        if path is not None and path[0] not in bound:
            yield ".".join(path)
        for child in rest:
            yield from _walk(child, bound)
        return
    for child in node.children:
        if isinstance(child, lark.Tree):
            yield from _walk(child, bound)


def fact_path(node: lark.Tree[Any]) -> str | None:
    """The dotted path a node reads (``arena.asr.prompt_injection``), if it is a plain read."""
    path, rest = _chain(unwrap(node))
    return ".".join(path) if path is not None and not rest else None


def _is_root_ident(node: lark.Tree[Any]) -> bool:
    return node.data == "ident"


def _chain(node: lark.Tree[Any]) -> tuple[list[str] | None, list[lark.Tree[Any]]]:
    """The dotted path of a ``a.b["c"].d`` chain, and sub-trees still to walk.

    A non-literal index (``m[k]``) ends the path there; its index expression is walked.
    """
    if node.data == "ident":
        return [str(node.children[0])], []
    if node.data in {"member", "primary"} and len(node.children) == 1:
        child = node.children[0]
        if isinstance(child, lark.Tree):
            if child.data in {"member_dot", "member_index", "ident", "member", "primary"}:
                return _chain(child)
            return None, [child]
        return None, []
    if node.data == "member_dot":
        base, rest = _chain(node.children[0])
        if base is None:
            return None, rest
        return [*base, str(node.children[1])], rest
    if node.data == "member_index":
        base, rest = _chain(node.children[0])
        index = node.children[1]
        key = _string_literal(index)
        if base is None:
            return None, [*rest, index]
        if key is None:
            return base, [*rest, index]
        return [*base, key], rest
    return None, [node]


def _ident_name(node: Any) -> str | None:
    if not isinstance(node, lark.Tree):
        return None
    inner = unwrap(node)
    if inner.data == "ident":
        return str(inner.children[0])
    return None


def _string_literal(node: Any) -> str | None:
    if not isinstance(node, lark.Tree):
        return None
    inner = unwrap(node)
    if inner.data != "literal":
        return None
    token = inner.children[0]
    if not isinstance(token, lark.Token) or token.type != "STRING_LIT":
        return None
    raw = str(token)
    if raw[:1] in {"r", "R"}:
        raw = raw[1:]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in {"'", '"'}:
        body = raw[1:-1]
        if "\\" not in body:
            return body
    return None


def _has_path(activation: Mapping[str, Any], path: str) -> bool:
    current: Any = activation
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False
        current = current[part]
    return True


def _eval_message(exc: BaseException, missing: tuple[str, ...]) -> str:
    if missing:
        names = ", ".join(missing)
        noun = "fact" if len(missing) == 1 else "facts"
        verb = "is" if len(missing) == 1 else "are"
        return f"{noun} {names} {verb} missing (no evidence)"
    args = getattr(exc, "args", ())
    detail = str(args[0]) if args else str(exc)
    return f"evaluation error: {_one_line(detail)}"


def _parse_reason(exc: CELParseError) -> str:
    # celpy raises inside lark's except block, so the lark error is the context.
    cause = exc.__context__
    if isinstance(cause, lark.exceptions.UnexpectedToken):
        if cause.token.type == "$END":
            return "unexpected end of expression"
        return f"unexpected {str(cause.token)!r}"
    if isinstance(cause, lark.exceptions.UnexpectedCharacters):
        return f"unexpected character {cause.char!r}"
    text = str(exc.args[0]) if exc.args else ""
    return _one_line(text) or "syntax error"


def _one_line(text: str) -> str:
    return " ".join(text.split())
