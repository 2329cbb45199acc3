"""The emulated unpickler: reads opcodes exactly as CPython's C unpickler consumes bytes.

Framing follows ``Modules/_pickle.c``: FRAME only checks that the declared number of
bytes is available (``_Unpickler_Read`` then rewinds); opcodes and their arguments may
cross a frame's end, and the next pickle starts right after STOP. Where the pure-Python
unpickler (``_Unframer``) would disagree, a ``pickle.frame-mismatch`` finding records it.
Stack discipline mirrors the C ``Pdata`` stack: a separate mark stack and a fence below
which no opcode may pop.
"""

from __future__ import annotations

import codecs
import time
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections.abc import Callable
from typing import Any

from tutela.scan.interface import Limits, Severity
from tutela.scan.pickle.calls import CallModel, NotCallable
from tutela.scan.pickle.joblib_arrays import WRAPPER, DtypeInfo, dtype_from_call, layout_of
from tutela.scan.pickle.policy import Policy
from tutela.scan.pickle.report import Collector
from tutela.scan.pickle.values import Blob, Box, Sym, is_plain, preview, ref_path
from tutela.scan.source import ByteSource

__all__ = ["Machine", "Stop"]

_MAX_DTYPES = 100_000  # numpy.dtype results remembered per stream

MAX_STR = 1024  # longer strings are kept as a head only (names beyond this are refused)
MAX_BYTES = 256  # longer bytes payloads are skipped, keeping a head
HEAD = 64
MAX_LINE = 4096  # protocol 0 text arguments kept per line
RETAIN_BUDGET = 256 * 1024 * 1024  # characters of strings kept alive across the stream
HIGHEST_PROTOCOL = 5
_I64_MAX = (1 << 63) - 1


class Stop(Exception):
    """Analysis of the current pickle ends here."""

    def __init__(self, kind: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.kind = kind  # "malformed" | "limit"
        self.message = message
        self.offset = offset


class _LongLine(Exception):
    """A protocol 0 data line longer than what is kept."""

    def __init__(self, head: bytes, length: int) -> None:
        super().__init__(length)
        self.head = head
        self.length = length


Handler = Callable[[int], bool]


class Machine(CallModel):
    """Opcode interpreter over a ``ByteSource``; one instance per stream."""

    def __init__(
        self,
        src: ByteSource,
        policy: Policy,
        collector: Collector,
        limits: Limits,
        deadline: float,
    ) -> None:
        super().__init__(policy, collector)
        self.src = src
        self.limits = limits
        self.deadline = deadline
        self.opcodes = 0
        self.retained = 0
        self.stack: list[Any] = []
        self.marks: list[int] = []
        self.memo: dict[int, Any] = {}
        self.proto = 0
        self.frame_end: int | None = None
        self.persistent_ids = 0
        self.dtypes: dict[Sym, DtypeInfo] = {}  # numpy.dtype(...) results, for joblib arrays
        self.ops: list[Handler | None] = [None] * 256
        for code, name in _OPCODES.items():
            self.ops[code] = getattr(self, "op_" + name.lower())

    # -- driver --------------------------------------------------------------------------------

    def run_pickle(self) -> bool:
        """Interpret one pickle up to STOP. False when the stream was already at its end."""
        self._reset()
        src = self.src
        read_byte = src.read_byte
        tell = src.tell
        ops = self.ops
        stack = self.stack
        marks = self.marks
        max_ops = self.limits.max_pickle_opcodes
        max_depth = self.limits.max_stack_depth
        first = True
        while True:
            off = tell()
            code = read_byte()
            if code < 0:
                if first:
                    return False
                raise Stop("malformed", "pickle data was truncated: no STOP opcode", off)
            first = False
            if self.frame_end is not None and off >= self.frame_end:
                self._frame_passed(off)
            count = self.opcodes + 1
            self.opcodes = count
            if count > max_ops:
                raise Stop("limit", f"more than {max_ops} opcodes", off)
            if not count & 0xFFF and time.monotonic() > self.deadline:
                raise Stop("limit", "time limit reached", off)
            handler = ops[code]
            if handler is None:
                raise Stop("malformed", f"invalid load key {bytes([code])!r}", off)
            if handler(off):
                return True
            if len(stack) + len(marks) > max_depth:
                raise Stop("limit", f"stack deeper than {max_depth}", off)

    def _reset(self) -> None:
        # Each pickle.load() starts with an empty stack, marks and memo.
        self.stack = []
        self.marks = []
        self.memo = {}
        self.proto = 0
        self.frame_end = None

    # -- reading helpers -----------------------------------------------------------------------

    def _read(self, n: int, off: int) -> bytes:
        data = self.src.read(n)
        if len(data) < n:
            raise Stop("malformed", "pickle data was truncated", off)
        return data

    def _uint(self, n: int, off: int) -> int:
        return int.from_bytes(self._read(n, off), "little")

    def _line(self, off: int, what: str, data: bool = False) -> bytes:
        head, length, complete = self.src.readline(MAX_LINE)
        if not complete:
            raise Stop("malformed", f"pickle data was truncated inside {what}", off)
        if length > MAX_LINE and data:
            raise _LongLine(head, length)
        if length > MAX_LINE:
            self.out.add(
                "pickle.limit",
                Severity.MEDIUM,
                f"{what} argument of {length} bytes truncated to {MAX_LINE}",
                offset=off,
            )
            return head
        return head[:-1]

    def _name_line(self, off: int, what: str) -> str:
        raw = self._line(off, what)
        if not raw:
            raise Stop("malformed", f"empty {what} name", off)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Stop("malformed", f"{what} name is not UTF-8", off) from None

    def _text(self, n: int, off: int, decode: str) -> Any:
        """A string argument of ``n`` bytes: kept when short, else a head and a skip."""
        keep = n <= MAX_STR and (n <= 64 or self.retained < RETAIN_BUDGET)
        if keep:
            raw = self._read(n, off)
            self.retained += n
            try:
                return raw.decode(decode, "surrogatepass" if decode == "utf-8" else "strict")
            except UnicodeDecodeError:
                raise Stop("malformed", "string argument is not valid UTF-8", off) from None
        head = self._read(min(HEAD, n), off)
        if self.src.skip(n - len(head)) < n - len(head):
            raise Stop("malformed", "pickle data was truncated inside a string", off)
        return Blob("str", n, head.decode(decode, "replace"))

    def _binary(self, n: int, off: int, kind: str) -> Any:
        if n <= MAX_BYTES and kind == "bytes":
            return self._read(n, off)
        head = self._read(min(HEAD, n), off)
        rest = n - len(head)
        if rest and self.src.skip(rest) < rest:
            raise Stop("malformed", f"pickle data was truncated inside a {n}-byte payload", off)
        return Blob(kind, n, head)

    def _size8(self, off: int, what: str) -> int:
        size = self._uint(8, off)
        if size > _I64_MAX:
            raise Stop("malformed", f"{what} exceeds the maximum size", off)
        return size

    # -- stack helpers (C Pdata semantics) -----------------------------------------------------

    def _fence(self) -> int:
        return self.marks[-1] if self.marks else 0

    def _pop(self, off: int) -> Any:
        stack = self.stack
        if len(stack) <= (self.marks[-1] if self.marks else 0):
            raise Stop("malformed", "unpickling stack underflow", off)
        return stack.pop()

    def _top(self, off: int) -> Any:
        if len(self.stack) <= self._fence():
            raise Stop("malformed", "unpickling stack underflow", off)
        return self.stack[-1]

    def _marker(self, off: int) -> int:
        if not self.marks:
            raise Stop("malformed", "could not find MARK", off)
        return self.marks.pop()

    def _pop_from(self, start: int, off: int) -> list[Any]:
        if start < self._fence():
            raise Stop("malformed", "unpickling stack underflow", off)
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def _push(self, value: Any) -> None:
        self.stack.append(value)

    def _memo_put(self, key: int, value: Any, off: int) -> None:
        memo = self.memo
        if key not in memo and len(memo) >= self.limits.max_memo_entries:
            raise Stop("limit", f"more than {self.limits.max_memo_entries} memo entries", off)
        memo[key] = value

    def _memo_get(self, key: int, off: int) -> None:
        try:
            self.stack.append(self.memo[key])
        except KeyError:
            raise Stop("malformed", f"memo value not found at index {key}", off) from None

    # -- framing -------------------------------------------------------------------------------

    def _frame_passed(self, off: int) -> None:
        end = self.frame_end
        self.frame_end = None
        if end is not None and off > end:
            self._mismatch(end, "an opcode crosses the end of its frame")

    def _mismatch(self, off: int, why: str) -> None:
        self.out.add(
            "pickle.frame-mismatch",
            Severity.MEDIUM,
            f"{why}: the C unpickler accepts this, the pure-Python one raises; "
            "CPython's own pickler never writes it",
            offset=off,
        )

    def op_frame(self, off: int) -> bool:
        size = self._size8(off, "FRAME length")
        start = self.src.tell()
        if self.frame_end is not None and off < self.frame_end:
            self._mismatch(off, "a new FRAME starts before the current frame ends")
        available = self.src.has(size)
        if available is False:
            # C raises here; the pure-Python unpickler keeps going with a short frame,
            # so the rest is still analysed (and reported).
            self.out.add(
                "pickle.malformed",
                Severity.MEDIUM,
                f"FRAME declares {size} bytes but the stream ends first "
                "(the C unpickler stops here, the pure-Python one continues)",
                offset=off,
                details={"frame_length": size},
            )
        self.frame_end = start + size if size else None
        return False

    # -- opcodes: control ----------------------------------------------------------------------

    def op_proto(self, off: int) -> bool:
        proto = self._uint(1, off)
        if proto > HIGHEST_PROTOCOL:
            raise Stop("malformed", f"unsupported pickle protocol: {proto}", off)
        self.proto = proto
        return False

    def op_stop(self, off: int) -> bool:
        self._pop(off)
        end = self.frame_end
        if end is not None and self.src.tell() < end:
            self._mismatch(off, "STOP inside a frame with unread bytes")
        return True

    def op_mark(self, off: int) -> bool:
        self.marks.append(len(self.stack))
        return False

    def op_pop(self, off: int) -> bool:
        stack = self.stack
        marks = self.marks
        if marks and marks[-1] == len(stack):
            marks.pop()
        elif len(stack) <= (marks[-1] if marks else 0):
            raise Stop("malformed", "unpickling stack underflow", off)
        else:
            stack.pop()
        return False

    def op_pop_mark(self, off: int) -> bool:
        start = self._marker(off)
        self._pop_from(start, off)
        return False

    def op_dup(self, off: int) -> bool:
        self.stack.append(self._top(off))
        return False

    # -- opcodes: scalars ----------------------------------------------------------------------

    def op_none(self, off: int) -> bool:
        self.stack.append(None)
        return False

    def op_newtrue(self, off: int) -> bool:
        self.stack.append(True)
        return False

    def op_newfalse(self, off: int) -> bool:
        self.stack.append(False)
        return False

    def op_binint(self, off: int) -> bool:
        self.stack.append(int.from_bytes(self._read(4, off), "little", signed=True))
        return False

    def op_binint1(self, off: int) -> bool:
        self.stack.append(self._uint(1, off))
        return False

    def op_binint2(self, off: int) -> bool:
        self.stack.append(self._uint(2, off))
        return False

    def op_int(self, off: int) -> bool:
        line = self._line(off, "INT")
        try:
            value: Any = int(line, 0) if line not in (b"00", b"01") else line == b"01"
        except ValueError:
            try:
                value = int(line.rstrip(b"L"), 10)
            except ValueError:
                raise Stop("malformed", "could not convert INT argument to int", off) from None
        self.stack.append(value)
        return False

    def op_long(self, off: int) -> bool:
        line = self._line(off, "LONG")
        if line.endswith(b"L"):
            line = line[:-1]
        try:
            self.stack.append(
                int(line, 0) if line[:2] in (b"0x", b"0X", b"0o", b"0b") else int(line, 10)
            )
        except ValueError:
            raise Stop("malformed", "could not convert LONG argument to int", off) from None
        return False

    def op_long1(self, off: int) -> bool:
        n = self._uint(1, off)
        self.stack.append(int.from_bytes(self._read(n, off), "little", signed=True))
        return False

    def op_long4(self, off: int) -> bool:
        n = int.from_bytes(self._read(4, off), "little", signed=True)
        if n < 0:
            raise Stop("malformed", "LONG pickle has negative byte count", off)
        if n <= MAX_STR:
            self.stack.append(int.from_bytes(self._read(n, off), "little", signed=True))
        else:
            self._binary(n, off, "long")
            self.stack.append(0)
        return False

    def op_float(self, off: int) -> bool:
        line = self._line(off, "FLOAT")
        try:
            self.stack.append(float(line))
        except ValueError:
            raise Stop("malformed", "could not convert FLOAT argument to float", off) from None
        return False

    def op_binfloat(self, off: int) -> bool:
        self._read(8, off)
        self.stack.append(0.0)
        return False

    # -- opcodes: strings and bytes ------------------------------------------------------------

    def op_string(self, off: int) -> bool:
        try:
            line = self._line(off, "STRING", data=True)
        except _LongLine as long:
            self.stack.append(Blob("str", long.length, long.head[:HEAD].decode("latin-1")))
            return False
        if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b"'", b'"'):
            raise Stop("malformed", "the STRING opcode argument must be quoted", off)
        try:
            raw = codecs.escape_decode(line[1:-1])[0]
        except ValueError:
            raise Stop("malformed", "invalid escape in STRING argument", off) from None
        self.stack.append(raw.decode("latin-1"))
        return False

    def op_binstring(self, off: int) -> bool:
        n = int.from_bytes(self._read(4, off), "little", signed=True)
        if n < 0:
            raise Stop("malformed", "BINSTRING pickle has negative byte count", off)
        self.stack.append(self._text(n, off, "latin-1"))
        return False

    def op_short_binstring(self, off: int) -> bool:
        self.stack.append(self._text(self._uint(1, off), off, "latin-1"))
        return False

    def op_unicode(self, off: int) -> bool:
        try:
            line = self._line(off, "UNICODE", data=True)
        except _LongLine as long:
            self.stack.append(Blob("str", long.length, long.head[:HEAD].decode("latin-1")))
            return False
        try:
            self.stack.append(line.decode("raw-unicode-escape"))
        except UnicodeDecodeError:
            raise Stop("malformed", "invalid UNICODE argument", off) from None
        return False

    def op_short_binunicode(self, off: int) -> bool:
        self.stack.append(self._text(self._uint(1, off), off, "utf-8"))
        return False

    def op_binunicode(self, off: int) -> bool:
        self.stack.append(self._text(self._uint(4, off), off, "utf-8"))
        return False

    def op_binunicode8(self, off: int) -> bool:
        self.stack.append(self._text(self._size8(off, "BINUNICODE8"), off, "utf-8"))
        return False

    def op_short_binbytes(self, off: int) -> bool:
        self.stack.append(self._binary(self._uint(1, off), off, "bytes"))
        return False

    def op_binbytes(self, off: int) -> bool:
        self.stack.append(self._binary(self._uint(4, off), off, "bytes"))
        return False

    def op_binbytes8(self, off: int) -> bool:
        self.stack.append(self._binary(self._size8(off, "BINBYTES8"), off, "bytes"))
        return False

    def op_bytearray8(self, off: int) -> bool:
        self.stack.append(self._binary(self._size8(off, "BYTEARRAY8"), off, "bytearray"))
        return False

    def op_next_buffer(self, off: int) -> bool:
        self.out.add(
            "pickle.out-of-band-buffer",
            Severity.INFO,
            "refers to protocol 5 out-of-band buffers (data not inside this stream)",
            offset=off,
        )
        self.stack.append(Sym("buffer"))
        return False

    def op_readonly_buffer(self, off: int) -> bool:
        self._top(off)
        return False

    # -- opcodes: containers -------------------------------------------------------------------

    def op_empty_tuple(self, off: int) -> bool:
        self.stack.append(())
        return False

    def _counted_tuple(self, n: int, off: int) -> bool:
        stack = self.stack
        if len(stack) < n:
            raise Stop("malformed", "unpickling stack underflow", off)
        items = self._pop_from(len(stack) - n, off)
        stack.append(tuple(items))
        return False

    def op_tuple1(self, off: int) -> bool:
        return self._counted_tuple(1, off)

    def op_tuple2(self, off: int) -> bool:
        return self._counted_tuple(2, off)

    def op_tuple3(self, off: int) -> bool:
        return self._counted_tuple(3, off)

    def op_tuple(self, off: int) -> bool:
        start = self._marker(off)
        self.stack.append(tuple(self._pop_from(start, off)))
        return False

    def op_empty_list(self, off: int) -> bool:
        self.stack.append(Box("list"))
        return False

    def op_empty_dict(self, off: int) -> bool:
        self.stack.append(Box("dict"))
        return False

    def op_empty_set(self, off: int) -> bool:
        self.stack.append(Box("set"))
        return False

    def op_list(self, off: int) -> bool:
        box = Box("list")
        for item in self._pop_from(self._marker(off), off):
            box.add(item)
        self.stack.append(box)
        return False

    def op_frozenset(self, off: int) -> bool:
        box = Box("frozenset")
        for item in self._pop_from(self._marker(off), off):
            box.add(item)
        self.stack.append(box)
        return False

    def op_dict(self, off: int) -> bool:
        items = self._pop_from(self._marker(off), off)
        if len(items) % 2:
            raise Stop("malformed", "odd number of items for DICT", off)
        box = Box("dict")
        for i in range(0, len(items), 2):
            box.put(items[i], items[i + 1])
        self.stack.append(box)
        return False

    def _target(self, start: int, off: int, how: str) -> Any:
        """The container below ``start`` that APPEND(S)/SETITEM(S)/ADDITEMS mutate."""
        if start <= self._fence() or start > len(self.stack):
            raise Stop("malformed", "unpickling stack underflow", off)
        target = self.stack[start - 1]
        if is_plain(target) or isinstance(target, tuple | Blob):
            raise Stop("malformed", f"{how} on a {type(target).__name__} object", off)
        return target

    def _append(self, start: int, off: int, how: str) -> None:
        target = self._target(start, off, how)
        items = self.stack[start:]
        del self.stack[start:]
        if isinstance(target, Box):
            if target.kind != "list":
                raise Stop("malformed", f"{how} on a {target.kind}", off)
            for item in items:
                target.add(item)
        elif items:
            self.check_state(target, tuple(items), off, how)

    def op_append(self, off: int) -> bool:
        self._append(len(self.stack) - 1, off, "APPEND")
        return False

    def op_appends(self, off: int) -> bool:
        self._append(self._marker(off), off, "APPENDS")
        return False

    def _setitems(self, start: int, off: int, how: str) -> None:
        target = self._target(start, off, how)
        items = self.stack[start:]
        if len(items) % 2:
            raise Stop("malformed", f"odd number of items for {how}", off)
        del self.stack[start:]
        if isinstance(target, Box):
            if target.kind not in ("dict", "list"):
                raise Stop("malformed", f"{how} on a {target.kind}", off)
            for i in range(0, len(items), 2):
                target.put(items[i], items[i + 1])
        elif items:
            box = Box("dict")
            for i in range(0, len(items), 2):
                box.put(items[i], items[i + 1])
            self.check_state(target, box, off, how)

    def op_setitem(self, off: int) -> bool:
        self._setitems(len(self.stack) - 2, off, "SETITEM")
        return False

    def op_setitems(self, off: int) -> bool:
        self._setitems(self._marker(off), off, "SETITEMS")
        return False

    def op_additems(self, off: int) -> bool:
        start = self._marker(off)
        target = self._target(start, off, "ADDITEMS")
        items = self.stack[start:]
        del self.stack[start:]
        if isinstance(target, Box):
            if target.kind != "set":
                raise Stop("malformed", f"ADDITEMS on a {target.kind}", off)
            for item in items:
                target.add(item)
        elif items:
            self.check_state(target, tuple(items), off, "ADDITEMS")
        return False

    # -- opcodes: memo -------------------------------------------------------------------------

    def op_put(self, off: int) -> bool:
        line = self._line(off, "PUT")
        try:
            key = int(line, 10)
        except ValueError:
            raise Stop("malformed", "invalid PUT argument", off) from None
        if key < 0:
            raise Stop("malformed", "negative PUT argument", off)
        self._memo_put(key, self._top(off), off)
        return False

    def op_binput(self, off: int) -> bool:
        self._memo_put(self._uint(1, off), self._top(off), off)
        return False

    def op_long_binput(self, off: int) -> bool:
        self._memo_put(self._uint(4, off), self._top(off), off)
        return False

    def op_memoize(self, off: int) -> bool:
        self._memo_put(len(self.memo), self._top(off), off)
        return False

    def op_get(self, off: int) -> bool:
        line = self._line(off, "GET")
        try:
            key = int(line, 10)
        except ValueError:
            raise Stop("malformed", "invalid GET argument", off) from None
        self._memo_get(key, off)
        return False

    def op_binget(self, off: int) -> bool:
        self._memo_get(self._uint(1, off), off)
        return False

    def op_long_binget(self, off: int) -> bool:
        self._memo_get(self._uint(4, off), off)
        return False

    # -- opcodes: imports ----------------------------------------------------------------------

    def _global(self, module: str, name: str, off: int, via: str) -> Any:
        if self.proto < 3:
            mapped = NAME_MAPPING.get((module, name))
            if mapped is not None:
                module, name = mapped
            elif module in IMPORT_MAPPING:
                module = IMPORT_MAPPING[module]
        return self.import_ref(module, name, off, via)

    def op_global(self, off: int) -> bool:
        module = self._name_line(off, "GLOBAL module")
        name = self._name_line(off, "GLOBAL")
        self.stack.append(self._global(module, name, off, "GLOBAL"))
        return False

    def op_stack_global(self, off: int) -> bool:
        name = self._pop(off)
        module = self._pop(off)
        if isinstance(module, str) and isinstance(name, str):
            self.stack.append(self._global(module, name, off, "STACK_GLOBAL"))
            return False
        if isinstance(module, Blob | Sym | Box) or isinstance(name, Blob | Sym | Box):
            if isinstance(module, Blob) or isinstance(name, Blob):
                self.out.add(
                    "pickle.limit",
                    Severity.HIGH,
                    f"STACK_GLOBAL name longer than {MAX_STR} characters refused",
                    offset=off,
                )
            if isinstance(module, Box) or isinstance(name, Box):
                raise Stop("malformed", "STACK_GLOBAL requires str", off)
            self.invoked = True
            self.out.add(
                "pickle.dynamic-call",
                Severity.HIGH,
                "STACK_GLOBAL with a module or name computed at load time or too long to judge",
                offset=off,
                callable="?",
                args_preview=preview((module, name)),
                details={"opcode": "STACK_GLOBAL"},
            )
            self.stack.append(Sym("inst"))
            return False
        raise Stop("malformed", "STACK_GLOBAL requires str", off)

    def op_ext1(self, off: int) -> bool:
        return self._ext(self._uint(1, off), off)

    def op_ext2(self, off: int) -> bool:
        return self._ext(self._uint(2, off), off)

    def op_ext4(self, off: int) -> bool:
        return self._ext(int.from_bytes(self._read(4, off), "little", signed=True), off)

    def _ext(self, code: int, off: int) -> bool:
        if code <= 0:
            raise Stop("malformed", "EXT specifies code <= 0", off)
        self.out.add(
            "pickle.extension-code",
            Severity.HIGH,
            f"extension code {code} refers to the copyreg extension registry, which cannot "
            "be resolved statically (the standard registry is empty) — review",
            offset=off,
            callable=f"<extension {code}>",
        )
        self.stack.append(Sym("ext", data=code))
        return False

    # -- opcodes: calls ------------------------------------------------------------------------

    def _invoke(self, func: Any, args: Any, off: int, how: str, kwargs: Any = None) -> None:
        try:
            result = self.call(func, args, off, how, kwargs)
        except NotCallable as exc:
            raise Stop("malformed", f"{how}: {exc}", off) from None
        self.stack.append(result)
        dtype = dtype_from_call(ref_path(func), args)
        if dtype is not None and isinstance(result, Sym) and len(self.dtypes) < _MAX_DTYPES:
            self.dtypes[result] = dtype

    def op_reduce(self, off: int) -> bool:
        args = self._pop(off)
        func = self._pop(off)
        if not isinstance(args, tuple | Sym):
            raise Stop("malformed", "REDUCE argument list must be a tuple", off)
        self._invoke(func, args, off, "REDUCE")
        return False

    def op_newobj(self, off: int) -> bool:
        args = self._pop(off)
        cls = self._pop(off)
        if not isinstance(args, tuple | Sym):
            raise Stop("malformed", "NEWOBJ expected an arg tuple", off)
        self._invoke(cls, args, off, "NEWOBJ")
        return False

    def op_newobj_ex(self, off: int) -> bool:
        kwargs = self._pop(off)
        args = self._pop(off)
        cls = self._pop(off)
        if not isinstance(args, tuple | Sym):
            raise Stop("malformed", "NEWOBJ_EX args argument must be a tuple", off)
        if not isinstance(kwargs, Box | Sym) or (isinstance(kwargs, Box) and kwargs.kind != "dict"):
            raise Stop("malformed", "NEWOBJ_EX kwargs argument must be a dict", off)
        self._invoke(cls, args, off, "NEWOBJ_EX", kwargs)
        return False

    def op_inst(self, off: int) -> bool:
        module = self._name_line(off, "INST module")
        name = self._name_line(off, "INST")
        args = tuple(self._pop_from(self._marker(off), off))
        cls = self._global(module, name, off, "INST")
        self._invoke(cls, args, off, "INST")
        return False

    def op_obj(self, off: int) -> bool:
        start = self._marker(off)
        if len(self.stack) - start < 1:
            raise Stop("malformed", "unpickling stack underflow", off)
        items = self._pop_from(start, off)
        self._invoke(items[0], tuple(items[1:]), off, "OBJ")
        return False

    def op_build(self, off: int) -> bool:
        if len(self.stack) - 2 < self._fence():
            raise Stop("malformed", "unpickling stack underflow", off)
        state = self.stack.pop()
        inst = self.stack[-1]
        if state is not None:
            self.check_state(inst, state, off, "BUILD")
        if isinstance(inst, Sym):
            info = self.dtypes.get(inst)
            if info is not None and isinstance(state, tuple) and len(state) > 5:
                if isinstance(state[5], int):
                    info.elsize = state[5]
            elif inst.kind == "inst" and inst.path() == WRAPPER:
                self._joblib_array(state, off)
        return False

    def _joblib_array(self, state: Any, off: int) -> None:
        """Consume the array joblib wrote right after this wrapper, as joblib.load does."""
        layout = layout_of(state, self.dtypes)
        if layout.error is not None:
            raise Stop("limit", f"joblib inline array: {layout.error}", off)
        here = self.src.tell()
        if self.frame_end is not None and self.frame_end != here:
            raise Stop("malformed", "joblib array data inside a pickle frame", off)
        self.frame_end = None
        if layout.nested_pickle:
            nested = Machine(self.src, self.policy, self.out, self.limits, self.deadline)
            nested.opcodes = self.opcodes
            if not nested.run_pickle():
                raise Stop("malformed", "object array: nested pickle missing", here)
            self.opcodes = nested.opcodes
            self.invoked = self.invoked or nested.invoked
            return
        if layout.aligned:
            pad = self.src.read_byte()
            if pad < 0 or self.src.skip(pad) != pad:
                raise Stop("malformed", "joblib array padding was truncated", here)
        if self.src.skip(layout.nbytes) != layout.nbytes:
            raise Stop(
                "malformed", f"joblib array data was truncated ({layout.nbytes} bytes)", here
            )

    def op_persid(self, off: int) -> bool:
        pid = self._line(off, "PERSID")
        self._persistent(pid.decode("ascii", "replace"), off)
        return False

    def op_binpersid(self, off: int) -> bool:
        self._persistent(self._pop(off), off)
        return False

    def _persistent(self, pid: Any, off: int) -> None:
        self.persistent_ids += 1
        self.out.add(
            "pickle.persistent-id",
            Severity.INFO,
            "persistent ids are resolved by the loader's persistent_load "
            "(torch uses them for tensor storages)",
            offset=off,
            args_preview=preview(pid),
        )
        if (
            isinstance(pid, tuple)
            and len(pid) > 1
            and pid[0] == "module"
            and isinstance(pid[1], Sym)
        ):
            # torch's legacy persistent_load returns the class itself for ("module", cls, ...)
            self.stack.append(pid[1])
            return
        self.stack.append(Sym("persid", data=preview(pid, 80)))


_OPCODES: dict[int, str] = {
    ord(k): v
    for k, v in {
        "(": "MARK",
        ".": "STOP",
        "0": "POP",
        "1": "POP_MARK",
        "2": "DUP",
        "F": "FLOAT",
        "I": "INT",
        "J": "BININT",
        "K": "BININT1",
        "L": "LONG",
        "M": "BININT2",
        "N": "NONE",
        "P": "PERSID",
        "Q": "BINPERSID",
        "R": "REDUCE",
        "S": "STRING",
        "T": "BINSTRING",
        "U": "SHORT_BINSTRING",
        "V": "UNICODE",
        "X": "BINUNICODE",
        "a": "APPEND",
        "b": "BUILD",
        "c": "GLOBAL",
        "d": "DICT",
        "}": "EMPTY_DICT",
        "e": "APPENDS",
        "g": "GET",
        "h": "BINGET",
        "i": "INST",
        "j": "LONG_BINGET",
        "l": "LIST",
        "]": "EMPTY_LIST",
        "o": "OBJ",
        "p": "PUT",
        "q": "BINPUT",
        "r": "LONG_BINPUT",
        "s": "SETITEM",
        "t": "TUPLE",
        ")": "EMPTY_TUPLE",
        "u": "SETITEMS",
        "G": "BINFLOAT",
        "B": "BINBYTES",
        "C": "SHORT_BINBYTES",
        "\x80": "PROTO",
        "\x81": "NEWOBJ",
        "\x82": "EXT1",
        "\x83": "EXT2",
        "\x84": "EXT4",
        "\x85": "TUPLE1",
        "\x86": "TUPLE2",
        "\x87": "TUPLE3",
        "\x88": "NEWTRUE",
        "\x89": "NEWFALSE",
        "\x8a": "LONG1",
        "\x8b": "LONG4",
        "\x8c": "SHORT_BINUNICODE",
        "\x8d": "BINUNICODE8",
        "\x8e": "BINBYTES8",
        "\x8f": "EMPTY_SET",
        "\x90": "ADDITEMS",
        "\x91": "FROZENSET",
        "\x92": "NEWOBJ_EX",
        "\x93": "STACK_GLOBAL",
        "\x94": "MEMOIZE",
        "\x95": "FRAME",
        "\x96": "BYTEARRAY8",
        "\x97": "NEXT_BUFFER",
        "\x98": "READONLY_BUFFER",
    }.items()
}
