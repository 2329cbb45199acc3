"""Read policy files and reject every malformed one before any gate runs.

A policy is one YAML file or a folder of ``*.yaml`` / ``*.yml`` files (not recursive),
read in name order. Every problem names ``file:line`` and a reason: bad YAML, unknown or
missing keys, duplicate rule ids, CEL syntax errors, facts no provider declares, and
rules that cannot return a boolean. YAML is composed into nodes first (``yaml.compose``)
so each value keeps the line it came from; aliases are refused, which also closes the
door on alias-expansion bombs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from tutela.errors import InputError, LimitExceeded
from tutela.facts.cel import CompiledExpression, compile_expression
from tutela.facts.interface import FactSpec
from tutela.policy.schema import Condition, ConditionItem, PolicyFile, Rule
from tutela.policy.typecheck import not_boolean, unknown_fact
from tutela.readlimit import read_limited

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_RULES",
    "LoadedCondition",
    "LoadedRule",
    "Policy",
    "PolicyError",
    "PolicySource",
    "Problem",
    "load_policy",
]

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32  # YAML nesting; a policy needs about eight
MAX_NODES = 100_000
MAX_RULES = 1000  # across all files of a policy
MAX_FILES = 200
SUFFIXES = (".yaml", ".yml")

Op = Literal["expr", "all_of", "any_of"]


@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.source, "line": self.line, "reason": self.reason}


class PolicyError(InputError):
    """A policy that cannot be used; ``problems`` lists every reason found, in file order."""

    code = "policy"

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        where = f"{first.source}:{first.line}" if first.line is not None else first.source
        super().__init__(
            f"{first.reason}{more}",
            subject=where,
            hint="run `tutela policy check` to see every problem" if more else None,
        )
        self.problems = list(problems)


@dataclass(frozen=True)
class PolicySource:
    path: str
    digest: str  # sha256 of the bytes read


@dataclass(frozen=True)
class LoadedCondition:
    op: Op
    line: int | None
    name: str | None = None
    message: str | None = None
    expression: CompiledExpression | None = None
    children: tuple[LoadedCondition, ...] = ()

    def expressions(self) -> Iterator[CompiledExpression]:
        if self.expression is not None:
            yield self.expression
        for child in self.children:
            yield from child.expressions()


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    source: str
    line: int | None
    condition: LoadedCondition

    @property
    def id(self) -> str:
        return self.rule.id

    def location(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source

    def references(self) -> set[str]:
        return {ref for e in self.condition.expressions() for ref in e.references()}


@dataclass(frozen=True)
class Policy:
    rules: tuple[LoadedRule, ...]
    sources: tuple[PolicySource, ...]
    names: tuple[str, ...] = field(default=())

    def digests(self) -> dict[str, str]:
        return {s.path: s.digest for s in self.sources}


def load_policy(path: Path, catalogue: Mapping[str, FactSpec]) -> Policy:
    """Load and check a policy file or folder against the facts in ``catalogue``."""
    files = _policy_files(path)
    problems: list[Problem] = []
    rules: list[LoadedRule] = []
    sources: list[PolicySource] = []
    names: list[str] = []
    seen: dict[str, LoadedRule] = {}
    for file in files:
        shown = str(file)
        data = read_limited(file, MAX_FILE_BYTES, "policy file")
        sources.append(PolicySource(shown, "sha256:" + hashlib.sha256(data).hexdigest()))
        parsed = _parse_file(shown, data, catalogue, problems)
        if parsed is None:
            continue
        model, loaded = parsed
        if model.name:
            names.append(model.name)
        for rule in loaded:
            earlier = seen.get(rule.id)
            if earlier is not None:
                problems.append(
                    Problem(
                        shown,
                        rule.line,
                        f"duplicate rule id {rule.id!r} (first defined at {earlier.location()})",
                    )
                )
                continue
            seen[rule.id] = rule
            rules.append(rule)
    if len(rules) > MAX_RULES:
        raise LimitExceeded(
            "too many rules in the policy", subject=str(path), expected=f"at most {MAX_RULES}"
        )
    if problems:
        raise PolicyError(problems)
    return Policy(tuple(rules), tuple(sources), tuple(names))


# -- files -------------------------------------------------------------------------------


def _policy_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        if len(files) > MAX_FILES:
            raise LimitExceeded(
                "too many policy files", subject=str(path), expected=f"at most {MAX_FILES}"
            )
        return files
    if path.is_file():
        return [path]
    raise InputError("no such policy file or folder", subject=str(path))


def _parse_file(
    source: str, data: bytes, catalogue: Mapping[str, FactSpec], problems: list[Problem]
) -> tuple[PolicyFile, list[LoadedRule]] | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(source, None, f"not UTF-8 text (byte {exc.start})"))
        return None
    try:
        alias = _first_alias(text)
        if alias is not None:  # refused up front: building values would expand them
            problems.append(
                Problem(source, alias, "YAML aliases (*name) are not allowed in a policy")
            )
            return None
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        problems.append(Problem(source, line, f"bad YAML: {reason}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(source, None, f"bad YAML: {' '.join(str(exc).split())}"))
        return None
    if root is None:  # an empty file: a policy with no rules (gates fail closed)
        return PolicyFile(), []
    tree = _Tree(source)
    try:
        value = tree.convert(root, (), 0)
    except _TreeError as exc:
        problems.append(Problem(source, exc.line, exc.reason))
        return None
    if not isinstance(value, dict):
        problems.append(Problem(source, tree.lines[()], "a policy file is a mapping with `rules:`"))
        return None
    try:
        model = PolicyFile.model_validate(value)
    except ValidationError as exc:
        problems.extend(_validation_problems(source, exc, tree))
        return None
    before = len(problems)
    loaded = [
        _load_rule(source, index, rule, tree, catalogue, problems)
        for index, rule in enumerate(model.rules)
    ]
    if len(problems) > before:
        return None
    return model, [r for r in loaded if r is not None]


def _first_alias(text: str) -> int | None:
    """The line of the first alias: found on the event stream, before anything is built."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            return int(mark.line) + 1 if mark is not None else 1
    return None


class _TreeError(Exception):
    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


_FIELD = re.compile(r"^[a-z_]+$")  # pydantic adds union branch names to error locations
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
)


class _Tree:
    """YAML nodes to plain values, remembering each value's line (1-based) by its path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[tuple[Any, ...], int] = {}
        self.expr_lines: dict[tuple[Any, ...], int] = {}
        self.key_lines: dict[tuple[Any, ...], int] = {}
        self._constructor = yaml.SafeLoader("")
        self._seen: set[int] = set()

    def convert(self, node: yaml.Node, path: tuple[Any, ...], depth: int) -> Any:
        line = node.start_mark.line + 1
        if depth > MAX_DEPTH:
            raise _TreeError(line, f"nested deeper than {MAX_DEPTH} levels")
        if id(node) in self._seen:
            raise _TreeError(line, "YAML aliases (*name) are not allowed in a policy")
        self._seen.add(id(node))
        if len(self._seen) > MAX_NODES:
            raise _TreeError(line, f"more than {MAX_NODES} YAML nodes")
        self.lines[path] = line
        if node.tag not in _PLAIN_TAGS:
            kind = node.tag.removeprefix("tag:yaml.org,2002:")
            if isinstance(node, yaml.ScalarNode) and node.tag != kind and "/" not in kind:
                raise _TreeError(line, f"YAML reads {node.value!r} as a {kind}; quote it")
            raise _TreeError(line, f"YAML tag {node.tag!r} is not allowed in a policy")
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node)
                if not isinstance(key, str):
                    raise _TreeError(key_node.start_mark.line + 1, f"key {key!r} is not a string")
                if key in out:
                    raise _TreeError(key_node.start_mark.line + 1, f"duplicate key {key!r}")
                self.key_lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.convert(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        value = self._scalar(node)
        # A block scalar's text starts on the line after its indicator (| or >).
        style = getattr(node, "style", None)
        self.expr_lines[path] = line + 1 if style in ("|", ">") else line
        return value

    def _scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise _TreeError(node.start_mark.line + 1, "a key must be a plain scalar")
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise _TreeError(node.start_mark.line + 1, f"bad YAML value: {exc}") from None


def _path_for(loc: Sequence[Any], lines: Mapping[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """The YAML path of a pydantic error location (which adds union member names)."""
    path: tuple[Any, ...] = ()
    for part in loc:
        candidate = (*path, part)
        if candidate in lines:
            path = candidate
    return path


def _line_for(loc: Sequence[Any], lines: Mapping[tuple[Any, ...], int]) -> int | None:
    return lines.get(_path_for(loc, lines))


def _validation_problems(source: str, exc: ValidationError, tree: _Tree) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[int | None, str]] = set()
    for error in exc.errors():
        loc = error["loc"]
        line = _line_for(loc, tree.lines)
        where = ".".join(str(p) for p in loc if isinstance(p, int) or _FIELD.match(str(p)))
        if error["type"] == "extra_forbidden":
            reason = f"unknown key {str(loc[-1])!r}"
            line = tree.key_lines.get((*_path_for(loc[:-1], tree.lines), loc[-1]), line)
        elif error["type"] == "missing":
            reason = f"missing key {str(loc[-1])!r}"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            reason = f"{where}: {message}" if where else message
        # A union reports once per member; one line per place is enough for a person.
        # A condition item is a string or a mapping: pydantic reports both branches; the
        # mapping branch ("Condition" in loc) says more, so the string branch is dropped.
        if (line, reason) in seen or ("str" in loc and any(isinstance(p, int) for p in loc)):
            continue
        seen.add((line, reason))
        out.append(Problem(source, line, reason))
    return out or [Problem(source, None, " ".join(str(exc).split()))]


# -- rules -------------------------------------------------------------------------------


def _load_rule(
    source: str,
    index: int,
    rule: Rule,
    tree: _Tree,
    catalogue: Mapping[str, FactSpec],
    problems: list[Problem],
) -> LoadedRule | None:
    path = ("rules", index)
    checker = _Checker(source, tree.lines, tree.expr_lines, catalogue, problems)
    condition = checker.condition(rule, path)
    if condition is None:
        return None
    return LoadedRule(rule, source, tree.lines.get(path), condition)


@dataclass
class _Checker:
    source: str
    lines: Mapping[tuple[Any, ...], int]
    expr_lines: Mapping[tuple[Any, ...], int]
    catalogue: Mapping[str, FactSpec]
    problems: list[Problem]

    def condition(self, node: Rule | Condition, path: tuple[Any, ...]) -> LoadedCondition | None:
        name = node.name if isinstance(node, Condition) else None
        # A rule's own message is shown with its result; only sub-conditions add theirs.
        message = node.message if isinstance(node, Condition) else None
        if node.expr is not None:
            expression = self.expression(node.expr, (*path, "expr"))
            if expression is None:
                return None
            return LoadedCondition("expr", expression.line, name, message, expression=expression)
        op: Op = "all_of" if node.all_of is not None else "any_of"
        items: list[ConditionItem] = node.all_of if node.all_of is not None else (node.any_of or [])
        children: list[LoadedCondition] = []
        ok = True
        for i, item in enumerate(items):
            child_path = (*path, op, i)
            if isinstance(item, str):
                expression = self.expression(item, child_path)
                child = (
                    LoadedCondition("expr", expression.line, expression=expression)
                    if expression is not None
                    else None
                )
            else:
                child = self.condition(item, child_path)
            if child is None:
                ok = False
            else:
                children.append(child)
        if not ok:
            return None
        return LoadedCondition(
            op, self.lines.get((*path, op)), name, message, None, tuple(children)
        )

    def expression(self, text: str, path: tuple[Any, ...]) -> CompiledExpression | None:
        line = self.lines.get(path)
        expr_line = self.expr_lines.get(path, line)
        try:
            compiled = compile_expression(text, source=self.source, line=expr_line)
        except InputError as exc:
            self.problems.append(Problem(self.source, _subject_line(exc, line), exc.problem))
            return None
        before = len(self.problems)
        for path_read in sorted(compiled.paths()):
            reason = unknown_fact(path_read, self.catalogue)
            if reason is not None:
                self.problems.append(Problem(self.source, line, reason))
        if len(self.problems) > before:
            return None
        reason = not_boolean(compiled, self.catalogue)
        if reason is not None:
            self.problems.append(
                Problem(self.source, line, f"rule cannot return a boolean: {reason}")
            )
            return None
        return compiled


def _subject_line(exc: InputError, default: int | None) -> int | None:
    subject = exc.subject or ""
    _, _, tail = subject.rpartition(":")
    return int(tail) if tail.isdigit() else default
