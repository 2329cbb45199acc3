"""Symbolic calls: what an invoked callable is, and what its result resolves to.

A call result is itself a symbolic value, so chains such as
``vars(importlib.import_module('os')).get('system')('id')`` are judged as a call of
``os.system``. Wrappers (``functools.partial``, ``operator.attrgetter`` /
``itemgetter`` / ``methodcaller``, ``map``) are emulated when they are called.
"""

from __future__ import annotations

from typing import Any

from tutela.scan.interface import Severity
from tutela.scan.pickle.allowlist import HIGHER_ORDER, TRANSPARENT
from tutela.scan.pickle.policy import Judgement, Policy
from tutela.scan.pickle.report import Collector
from tutela.scan.pickle.values import Blob, Box, Sym, is_plain, preview

__all__ = ["CallModel", "NotCallable"]

_MODULES_NS = "<sys.modules>"
_CALLER_NS = "<caller globals>"
_GETTERS = frozenset({"get", "__getitem__", "pop", "setdefault"})
_HARMLESS_DUNDER_KEYS = frozenset(
    {"__module__", "__doc__", "__qualname__", "__name__", "__annotations__"}
)
_MAX_CHAIN = 32  # nested wrapper calls followed before giving up


class NotCallable(Exception):
    """The unpickler would raise here: the value is certainly not callable."""


def _join(qual: str, name: str) -> str:
    return f"{qual}.{name}" if qual else name


class CallModel:
    """Judges calls and resolves symbolic results; shared state lives in the machine."""

    def __init__(self, policy: Policy, collector: Collector) -> None:
        self.policy = policy
        self.out = collector
        self.imports: dict[str, None] = {}
        self.invoked = False  # something not on the allowlist was invoked

    # -- imports ---------------------------------------------------------------------------

    def import_ref(self, module: str, qual: str, offset: int, via: str) -> Any:
        """Record and judge an import of ``module.qual``; return the symbolic reference."""
        judgement = self.policy.judge(module, qual)
        full = f"{module}.{qual}" if qual else module
        if full not in self.imports and len(self.imports) < 100_000:
            self.imports[full] = None
        if not judgement.allowed():
            if judgement.status == "denied":
                message = (
                    f"imports {full} ({via}): {judgement.reason}. Importing alone is already "
                    "dangerous: it runs the module's top-level code and hands the pickle the object"
                )
            else:
                message = f"imports {full} ({via}): {judgement.reason} — review"
            details: dict[str, Any] = {"via": via, "category": judgement.category}
            if judgement.target != full:
                details["resolves_to"] = judgement.target
            self.out.add(
                judgement.rule,
                judgement.severity,
                message,
                offset=offset,
                callable=full,
                details=details,
            )
        if "." in qual:
            # Walk the dotted path so the value is what the attribute chain reaches
            # (print.__self__.__dict__ is the builtins namespace).
            comps = qual.split(".")
            value: Any = Sym("ref", module, "")
            for name in comps:
                if not (isinstance(value, Sym) and value.kind == "ref"):
                    value = self.attr(value, name, offset)
                    continue
                value = self._ref_attr(value, name, offset, quiet=True)
            if isinstance(value, Sym) and value.kind == "ref" and value.path() == full:
                value.data = judgement
            return value
        return Sym("ref", module, qual, judgement)

    def judgement_of(self, ref: Sym) -> Judgement:
        data = ref.data
        if isinstance(data, Judgement):
            return data
        return self.policy.judge(ref.module, ref.qual)

    # -- attribute and item resolution --------------------------------------------------------

    def attr(self, obj: Any, name: Any, offset: int) -> Any:
        """``getattr(obj, name)`` on symbolic values."""
        if not isinstance(name, str):
            return Sym("inst")
        if isinstance(obj, Sym):
            if obj.kind == "ref":
                return self._ref_attr(obj, name, offset)
            if obj.kind == "ns" and name in _GETTERS:
                return Sym("nsmethod", data=obj)
            if obj.kind == "inst" and obj.qual:
                return Sym("bound", obj.module, _join(obj.qual, name), data=obj.data)
        if isinstance(obj, Box) and obj.kind == "dict" and name in _GETTERS:
            return Sym("nsmethod", data=obj)
        return Sym("inst")

    def _ref_attr(self, ref: Sym, name: str, offset: int, quiet: bool = False) -> Any:
        module, qual = ref.module, ref.qual
        if name == "__dict__":
            return Sym("ns", module, qual)
        if name == "__globals__":
            return Sym("ns", module)
        if name == "__builtins__":
            return Sym("ns", "builtins")
        if name == "__self__" and qual and "." not in qual:
            # A module-level builtin function's __self__ is its module.
            return self._mkref(module, "", offset, quiet)
        if module == "sys" and not qual and name == "modules":
            return Sym("ns", _MODULES_NS)
        return self._mkref(module, _join(qual, name), offset, quiet)

    def _mkref(self, module: str, qual: str, offset: int, quiet: bool) -> Any:
        if quiet:
            return Sym("ref", module, qual)
        return self.import_ref(module, qual, offset, "resolved")

    def item(self, obj: Any, key: Any, offset: int) -> Any:
        """``obj[key]`` on symbolic values."""
        if isinstance(obj, Sym) and obj.kind == "ns":
            if not isinstance(key, str):
                return Sym("inst")
            if obj.module == _MODULES_NS:
                return self.import_ref(key, "", offset, "resolved")
            if key == "__builtins__":
                return Sym("ns", "builtins")
            if obj.module == _CALLER_NS:
                return Sym("inst")
            return self._ref_attr(Sym("ref", obj.module, obj.qual), key, offset)
        if isinstance(obj, Box) and obj.kind == "dict":
            found = obj.lookup(key)
            return found if found is not None else Sym("inst")
        return Sym("inst")

    # -- calls -----------------------------------------------------------------------------------

    def call(
        self, func: Any, args: Any, offset: int, how: str, kwargs: Any = None, depth: int = 0
    ) -> Any:
        """Judge invoking ``func(*args)`` and return the symbolic result."""
        if depth > _MAX_CHAIN:
            return self._dynamic(func, args, offset, how, Severity.CRITICAL)
        if not isinstance(func, Sym):
            if isinstance(func, Box):
                raise NotCallable(f"{func.kind} object is not callable")
            if is_plain(func) or isinstance(func, tuple | Blob):
                raise NotCallable(f"{type(func).__name__} object is not callable")
            return self._dynamic(func, args, offset, how, Severity.CRITICAL)
        argv: tuple[Any, ...] = args if isinstance(args, tuple) else ()
        self._judge_lazy(argv, offset, depth)
        kind = func.kind
        if kind == "ref":
            return self._call_ref(func, args, argv, offset, how, kwargs, depth)
        if kind == "partial":
            inner, bound = func.data
            return self.call(inner, tuple(bound) + argv, offset, how, kwargs, depth + 1)
        if kind == "attrgetter" and argv:
            value = argv[0]
            for dotted in func.data:
                value = argv[0]
                for part in str(dotted).split("."):
                    value = self.attr(value, part, offset)
            return value
        if kind == "itemgetter" and argv:
            return self.item(argv[0], func.data[0] if func.data else None, offset)
        if kind == "methodcaller" and argv:
            name, margs = func.data
            target = self.attr(argv[0], name, offset)
            return self.call(target, tuple(margs), offset, how, None, depth + 1)
        if kind == "nsmethod" and argv:
            return self.item(func.data, argv[0], offset)
        if kind == "bound":
            allowed = isinstance(func.data, Judgement) and func.data.allowed()
            sev = Severity.HIGH if allowed else Severity.CRITICAL
            return self._dynamic(func, args, offset, how, sev, callable_name=func.path())
        if kind == "inst" and func.qual:
            allowed = isinstance(func.data, Judgement) and func.data.allowed()
            sev = Severity.HIGH if allowed else Severity.CRITICAL
            return self._dynamic(func, args, offset, how, sev, callable_name=func.path() + "()")
        return self._dynamic(func, args, offset, how, Severity.CRITICAL)

    def _call_ref(
        self,
        ref: Sym,
        args: Any,
        argv: tuple[Any, ...],
        offset: int,
        how: str,
        kwargs: Any,
        depth: int,
    ) -> Any:
        judgement = self.judgement_of(ref)
        path = ref.path()
        target = judgement.target
        if not judgement.allowed():
            self.invoked = True
            if judgement.status == "denied":
                self.out.add(
                    "pickle.denied-call",
                    max(judgement.severity, Severity.HIGH),
                    f"invokes {target} ({how}) when the pickle is loaded: {judgement.reason}",
                    offset=offset,
                    callable=target,
                    args_preview=preview(args),
                    details={"opcode": how, "imported_as": path}
                    if target != path
                    else {"opcode": how},
                )
            else:
                entry_key = ("pickle.unknown-import", path)
                entry = self.out.entries.get(entry_key)
                if entry is not None:
                    entry.details.setdefault("invoked_at", offset)
                    entry.details.setdefault("args_preview", preview(args))
        norm = _normalise(path)
        special = self._special(norm, argv, offset, depth, how)
        if special is not None:
            return special
        for index in HIGHER_ORDER.get(norm, ()):
            if index < len(argv):
                inner = argv[index]
                if isinstance(inner, Sym) and not (
                    inner.kind == "ref" and self.judgement_of(inner).allowed()
                ):
                    self.call(inner, (), offset, f"{how} via {norm}", None, depth + 1)
        return Sym("inst", ref.module, ref.qual, judgement)

    def _special(self, norm: str, argv: tuple[Any, ...], offset: int, depth: int, how: str) -> Any:
        """Results of callables whose semantics the analysis needs to follow."""
        n = len(argv)
        if norm == "builtins.getattr" and n >= 2:
            return self.attr(argv[0], argv[1], offset)
        if norm == "builtins.vars" and n >= 1:
            obj = argv[0]
            if isinstance(obj, Sym) and obj.kind == "ref":
                return Sym("ns", obj.module, obj.qual)
            return Sym("inst")
        if norm in ("builtins.globals", "builtins.locals"):
            return Sym("ns", _CALLER_NS)
        if (
            norm in ("builtins.__import__", "importlib.__import__")
            and n >= 1
            and isinstance(argv[0], str)
        ):
            name = argv[0]
            fromlist = argv[3] if n >= 4 else ()
            top = name if fromlist else name.split(".")[0]
            return self.import_ref(top, "", offset, "resolved")
        if (
            norm
            in (
                "importlib.import_module",
                "importlib._bootstrap._gcd_import",
                "pydoc.locate",
                "pkgutil.resolve_name",
            )
            and n >= 1
            and isinstance(argv[0], str)
        ):
            name = argv[0].replace(":", ".")
            if norm in ("pydoc.locate", "pkgutil.resolve_name") and "." in name:
                module, _, qual = name.rpartition(".")
                return self.import_ref(module, qual, offset, "resolved")
            return self.import_ref(name, "", offset, "resolved")
        if (
            norm
            in (
                "builtins.dict.get",
                "builtins.dict.__getitem__",
                "builtins.dict.pop",
                "builtins.dict.setdefault",
                "operator.getitem",
                "_operator.getitem",
            )
            and n >= 2
        ):
            return self.item(argv[0], argv[1], offset)
        if norm in ("operator.attrgetter", "_operator.attrgetter"):
            return Sym("attrgetter", data=argv)
        if norm in ("operator.itemgetter", "_operator.itemgetter"):
            return Sym("itemgetter", data=argv)
        if norm in ("operator.methodcaller", "_operator.methodcaller") and n >= 1:
            return Sym("methodcaller", data=(argv[0], argv[1:]))
        if norm in TRANSPARENT and n >= 1:
            return Sym("partial", data=(argv[0], argv[1:]))
        if norm in ("builtins.map", "builtins.filter", "itertools.starmap") and n >= 1:
            return Sym("lazy", data=argv[0])
        if norm in ("operator.call", "_operator.call") and n >= 1:
            return self.call(argv[0], argv[1:], offset, f"{how} via {norm}", None, depth + 1)
        if norm in ("builtins.apply", "functools.reduce") and n >= 1:
            inner_args = argv[1] if n >= 2 and isinstance(argv[1], tuple) else ()
            return self.call(argv[0], inner_args, offset, f"{how} via {norm}", None, depth + 1)
        return None

    def _judge_lazy(self, argv: tuple[Any, ...], offset: int, depth: int) -> None:
        # Consuming a map()/filter() object calls the function it wraps.
        for value in argv:
            if isinstance(value, Sym) and value.kind == "lazy":
                self.call(value.data, (), offset, "iteration of map()", None, depth + 1)

    def _dynamic(
        self,
        func: Any,
        args: Any,
        offset: int,
        how: str,
        severity: Severity,
        callable_name: str | None = None,
    ) -> Any:
        self.invoked = True
        self.out.add(
            "pickle.dynamic-call",
            severity,
            f"invokes a value computed at load time ({how}) whose target cannot be "
            "resolved to an allowed callable",
            offset=offset,
            callable=callable_name or "?",
            args_preview=preview(args),
            details={"opcode": how, "callee": preview(func, 120)},
        )
        return Sym("inst")

    # -- state mutation ------------------------------------------------------------------------

    def check_state(self, target: Any, state: Any, offset: int, how: str) -> None:
        """Flag BUILD/SETITEM(S)/APPEND(S) that plant attributes or mutate imported objects."""
        dunders: set[str] = set()
        for part in state if isinstance(state, tuple) else (state,):
            if isinstance(part, Box) and part.dunder_keys:
                dunders |= part.dunder_keys - _HARMLESS_DUNDER_KEYS
        on_global = isinstance(target, Sym) and target.kind in ("ref", "ns")
        if not dunders and not on_global:
            return
        self.invoked = True
        name = target.path() if isinstance(target, Sym) else type(target).__name__
        if dunders:
            what = f"sets special attributes {sorted(dunders)[:8]} on {name}"
            severity = Severity.CRITICAL
        else:
            what = f"mutates the imported object {name}"
            severity = Severity.HIGH
        self.out.add(
            "pickle.state-injection",
            severity,
            f"{how} {what}; later attribute lookups (e.g. __setstate__) can run planted callables",
            offset=offset,
            callable=name,
            args_preview=preview(state),
            details={"opcode": how},
        )


def _normalise(path: str) -> str:
    head, _, rest = path.partition(".")
    if head in ("__builtin__", "__builtins__"):
        return f"builtins.{rest}" if rest else "builtins"
    return path
