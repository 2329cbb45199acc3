"""Symbolic values living on the emulated unpickler's stack and memo.

Plain Python values stand for themselves: ``None``, ``bool``, ``int``, ``float``, short
``str`` and ``bytes`` and ``tuple`` (tuples never change after they are built). Everything
else is one of the small classes below. Containers keep only the items that matter for the
analysis (anything that is not a plain scalar), so memory stays bounded by the limits.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "KEEP_ITEMS",
    "Blob",
    "Box",
    "Sym",
    "is_plain",
    "preview",
    "ref_path",
]

KEEP_ITEMS = 64  # interesting items a container keeps for later resolution
KEEP_SCALARS = 16  # str-keyed plain values a dict keeps

_PLAIN = (type(None), bool, int, float, str, bytes)


class Sym:
    """A value known only symbolically.

    ``kind`` is one of:

    - ``ref``: the object named ``module`` + ``qual`` (a module when ``qual`` is empty);
    - ``ns``: the attribute namespace (``vars()``/``__dict__``) of that object;
    - ``inst``: what calling the callable ``module.qual`` returned (``qual`` may be
      empty when the callee was not resolved);
    - ``attrgetter``/``itemgetter``/``methodcaller``/``partial``/``lazy``: callable
      wrappers whose behaviour is emulated when they are called (``data`` holds the
      captured arguments);
    - ``persid``, ``buffer``, ``ext``: results of persistent ids, out-of-band buffers
      and extension codes.
    """

    __slots__ = ("data", "kind", "module", "qual")

    def __init__(self, kind: str, module: str = "", qual: str = "", data: Any = None) -> None:
        self.kind = kind
        self.module = module
        self.qual = qual
        self.data = data

    def path(self) -> str:
        return f"{self.module}.{self.qual}" if self.qual else self.module

    def __repr__(self) -> str:
        if self.kind == "ref":
            return f"<{self.path()}>"
        if self.kind == "ns":
            return f"<vars({self.path()})>"
        if self.kind == "inst":
            return f"<{self.path() or '?'}(...)>"
        return f"<{self.kind}>"


class Box:
    """A mutable container (list, dict, set, frozenset) built by the pickle."""

    __slots__ = ("count", "dunder_keys", "keep", "kind", "scalars")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.count = 0
        self.keep: list[Any] | None = None  # interesting items, or (key, value) pairs
        self.dunder_keys: set[str] | None = None
        # The first few str-keyed scalar values: enough to read small state dicts
        # (joblib's array wrappers) without keeping every plain value of big dicts.
        self.scalars: dict[str, Any] | None = None

    def add(self, item: Any) -> None:
        self.count += 1
        if not isinstance(item, _PLAIN):
            keep = self.keep
            if keep is None:
                self.keep = [item]
            elif len(keep) < KEEP_ITEMS:
                keep.append(item)

    def put(self, key: Any, value: Any) -> None:
        self.count += 1
        if isinstance(key, str) and len(key) > 4 and key[:2] == "__" and key[-2:] == "__":
            if self.dunder_keys is None:
                self.dunder_keys = set()
            if len(self.dunder_keys) < KEEP_ITEMS:
                self.dunder_keys.add(key)
        if isinstance(key, str) and isinstance(value, _PLAIN):
            if self.scalars is None:
                self.scalars = {}
            if len(self.scalars) < KEEP_SCALARS:
                self.scalars.setdefault(key, value)
        if not isinstance(value, _PLAIN) or not isinstance(key, _PLAIN):
            keep = self.keep
            if keep is None:
                self.keep = [(key, value)]
            elif len(keep) < KEEP_ITEMS:
                keep.append((key, value))

    def scalar(self, key: str) -> Any:
        """A plain value kept under ``key`` (dict boxes), or ``None``."""
        return self.scalars.get(key) if self.scalars else None

    def lookup(self, key: Any) -> Any:
        """The kept value stored under ``key`` (dict boxes), or ``None``."""
        for item in self.keep or ():
            if isinstance(item, tuple) and len(item) == 2 and item[0] == key:
                return item[1]
        return None

    def __repr__(self) -> str:
        return f"<{self.kind} n={self.count}>"


class Blob:
    """A large ``bytes``/``bytearray``/``str`` payload that was skipped, not loaded."""

    __slots__ = ("head", "kind", "length")

    def __init__(self, kind: str, length: int, head: bytes | str) -> None:
        self.kind = kind
        self.length = length
        self.head = head

    def __repr__(self) -> str:
        return f"<{self.kind} len={self.length}>"


def is_plain(value: Any) -> bool:
    """True for scalars that cannot name or carry a callable."""
    return isinstance(value, _PLAIN)


def ref_path(value: Any) -> str | None:
    """The dotted path of a ``ref`` symbol, else ``None``."""
    if isinstance(value, Sym) and value.kind == "ref":
        return value.path()
    return None


def preview(value: Any, limit: int = 200) -> str:
    """A short, bounded rendering of a symbolic value for findings."""
    out: list[str] = []
    _render(value, out, [limit])
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(value: Any, out: list[str], budget: list[int]) -> None:
    if budget[0] <= 0:
        return
    if isinstance(value, tuple):
        out.append("(")
        budget[0] -= 1
        for i, item in enumerate(value):
            if budget[0] <= 0:
                out.append("...")
                break
            if i:
                out.append(", ")
            _render(item, out, budget)
        out.append(",)" if len(value) == 1 else ")")
        return
    if isinstance(value, str | bytes):
        text = repr(value[:120])
    elif isinstance(value, Blob):
        text = f"<{value.kind} len={value.length} head={value.head[:24]!r}>"
    else:
        text = repr(value)
    text = text[: max(budget[0], 0)]
    budget[0] -= len(text) + 1
    out.append(text)
