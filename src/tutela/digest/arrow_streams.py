"""Arrow stream nodes: hash one column as byte streams that depend only on logical values.

Each node turns successive Arrow arrays of one column (or nested child) into streams —
validity, fixed-width values, lengths, bytes — so chunking and physical encodings never
change the result. numpy, pyarrow and pyarrow.compute are imported inside the methods.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from tutela.digest.core import PREFIX
from tutela.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Node", "make_node"]


class _Stream:
    """One named byte stream of a column, hashed incrementally."""

    __slots__ = ("hasher",)

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()

    def update(self, data: Any) -> None:
        self.hasher.update(data)

    def text(self) -> str:
        return PREFIX + self.hasher.hexdigest()


class Node:
    """Hashes one column (or nested child) from successive Arrow arrays."""

    def __init__(self, logical: str) -> None:
        self.logical = logical

    def update(self, arr: Any) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        raise NotImplementedError


def _validity(arr: Any) -> npt.NDArray[np.bool_] | None:
    """Row validity as a numpy bool array, or None when no row is null."""
    if arr.null_count == 0:
        return None
    return arr.is_valid().to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


class _ValidityNode(Node):
    """A node whose first stream is row validity, one byte a row; subclasses hash the rest.

    Empty arrays touch no stream, so an empty chunk hashes exactly like no chunk.
    """

    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.validity = _Stream()

    def update(self, arr: Any) -> None:
        import numpy as np

        rows = len(arr)
        if rows == 0:
            return
        valid = _validity(arr)
        if valid is None:
            self.validity.update(np.ones(rows, dtype=np.uint8))
        else:
            self.validity.update(valid.view(np.uint8))
        self._update_values(arr, rows, valid)

    def _update_values(self, arr: Any, rows: int, valid: npt.NDArray[np.bool_] | None) -> None:
        """Hash the value streams of a non-empty array whose validity is already hashed."""
        raise NotImplementedError


class _ValuesNode(_ValidityNode):
    """Validity plus one ``values`` stream: booleans and fixed-width values."""

    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.values = _Stream()

    def describe(self) -> dict[str, object]:
        return {
            "type": self.logical,
            "validity": self.validity.text(),
            "values": self.values.text(),
        }


class _NullNode(Node):
    def update(self, arr: Any) -> None:
        """A null-typed column has no streams: the row count says everything."""

    def describe(self) -> dict[str, object]:
        return {"type": self.logical}


class _BoolNode(_ValuesNode):
    def _update_values(self, arr: Any, rows: int, valid: npt.NDArray[np.bool_] | None) -> None:
        import numpy as np
        import pyarrow.compute as pc

        # Bit-packed buffers do not concatenate across chunk boundaries; one byte a row does.
        filled = pc.fill_null(arr, False) if arr.null_count else arr
        self.values.update(filled.to_numpy(zero_copy_only=False).view(np.uint8))


_CANONICAL_NAN: Final = {2: 0x7E00, 4: 0x7FC00000, 8: 0x7FF8000000000000}


class _FixedNode(_ValuesNode):
    """Fixed-width values hashed straight from the Arrow values buffer."""

    def __init__(
        self, logical: str, width: int, *, is_float: bool = False, decimal: bool = False
    ) -> None:
        super().__init__(logical)
        self.width, self.is_float, self.decimal = width, is_float, decimal

    def _update_values(self, arr: Any, rows: int, valid: npt.NDArray[np.bool_] | None) -> None:
        import numpy as np

        width = self.width
        buffer = arr.buffers()[1]
        values: Any
        owned = False  # whether `values` is our own writable copy
        if buffer is None:
            values, owned = np.zeros((rows, width), dtype=np.uint8), True
        elif width in (1, 2, 4, 8) and not self.decimal:
            values = np.frombuffer(
                buffer, dtype=f"<u{width}", count=rows, offset=arr.offset * width
            )
        else:
            values = np.frombuffer(
                buffer, dtype=np.uint8, count=rows * width, offset=arr.offset * width
            ).reshape(rows, width)
        if self.is_float:
            nans = np.isnan(values.view(f"<f{width}"))
            if nans.any():
                values, owned = values.copy(), True
                values[nans] = _CANONICAL_NAN[width]
        if self.decimal and width != 32:
            # Sign-extend every decimal to 256 bits so widths of one logical type agree.
            wide = np.empty((rows, 32), dtype=np.uint8)
            wide[:, :width] = values
            wide[:, width:] = (values[:, width - 1 : width] >> 7) * np.uint8(0xFF)
            values, owned = wide, True
        if valid is not None:
            if not owned:
                values = values.copy()
            values[~valid] = 0
        self.values.update(np.ascontiguousarray(values))


def _int64_le(values: Any) -> Any:
    import numpy as np

    return np.ascontiguousarray(values, dtype="<i8")


class _BinaryNode(_ValidityNode):
    """Strings and binaries: int64 lengths (0 for null) and the concatenated bytes."""

    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.lengths, self.data = _Stream(), _Stream()

    def _update_values(self, arr: Any, rows: int, valid: npt.NDArray[np.bool_] | None) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
        item = 8 if wide else 4

        def offsets(a: Any) -> Any:
            return np.frombuffer(
                a.buffers()[1], dtype=f"<i{item}", count=rows + 1, offset=a.offset * item
            )

        offs = offsets(arr)
        lengths = np.diff(offs)
        if valid is not None and lengths[~valid].any():
            # Arrow lets a null slot own bytes; rebuild so nulls own none.
            empty = pa.scalar(
                b"" if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type) else "",
                arr.type,
            )
            arr = pc.if_else(arr.is_valid(), arr, empty)
            offs = offsets(arr)
            lengths = np.diff(offs)
        self.lengths.update(_int64_le(lengths))
        start, stop = int(offs[0]), int(offs[-1])
        if stop > start:
            self.data.update(memoryview(arr.buffers()[2])[start:stop])

    def describe(self) -> dict[str, object]:
        return {
            "type": self.logical,
            "validity": self.validity.text(),
            "lengths": self.lengths.text(),
            "data": self.data.text(),
        }


class _ListNode(_ValidityNode):
    """Lists of any layout: int64 lengths (0 for null) and the child values of valid rows."""

    def __init__(self, logical: str, child: Node) -> None:
        super().__init__(logical)
        self.child = child
        self.lengths = _Stream()

    def _update_values(self, arr: Any, rows: int, valid: npt.NDArray[np.bool_] | None) -> None:
        import pyarrow.compute as pc

        lengths = pc.fill_null(pc.list_value_length(arr), 0)
        self.lengths.update(_int64_le(lengths.to_numpy(zero_copy_only=False)))
        # flatten() honours the slice offset and skips null rows backed by values.
        self.child.update(arr.flatten())

    def describe(self) -> dict[str, object]:
        return {
            "type": self.logical,
            "validity": self.validity.text(),
            "lengths": self.lengths.text(),
            "children": [self.child.describe()],
        }


class _StructNode(_ValidityNode):
    def __init__(self, logical: str, names: list[str], children: list[Node]) -> None:
        super().__init__(logical)
        self.names, self.children = names, children

    def _update_values(self, arr: Any, rows: int, valid: npt.NDArray[np.bool_] | None) -> None:
        # flatten() folds the struct's own nulls into each field, so hidden field values
        # under a null struct row never reach the hash.
        for child, values in zip(self.children, arr.flatten(), strict=True):
            child.update(values)

    def describe(self) -> dict[str, object]:
        children = [
            {"name": name, **child.describe()}
            for name, child in zip(self.names, self.children, strict=True)
        ]
        return {"type": self.logical, "validity": self.validity.text(), "children": children}


class _Normalised(Node):
    """Rewrites each array into the physical form its inner node hashes."""

    def __init__(self, inner: Node, prepare: Callable[[Any], Any]) -> None:
        super().__init__(inner.logical)
        self.inner, self.prepare = inner, prepare

    def update(self, arr: Any) -> None:
        self.inner.update(self.prepare(arr))

    def describe(self) -> dict[str, object]:
        return self.inner.describe()


def _unsupported(arrow_type: Any) -> InputError:
    return InputError(
        f"unsupported column type {arrow_type}",
        hint="cast the column to a plain Arrow type (numbers, strings, temporal, list, struct)",
    )


def _logical_name(t: Any) -> str:
    """Canonical logical type text; physical variants of one logical type share it."""
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(t) or types.is_run_end_encoded(t):
        return _logical_name(t.value_type)
    if isinstance(t, pa.ExtensionType):
        return f"extension<{json.dumps(t.extension_name)}: {_logical_name(t.storage_type)}>"
    if types.is_null(t):
        return "null"
    if types.is_boolean(t):
        return "bool"
    if types.is_integer(t):
        return str(t)
    if types.is_floating(t):
        return f"float{t.bit_width}"
    if types.is_string(t) or types.is_large_string(t) or types.is_string_view(t):
        return "string"
    if types.is_binary(t) or types.is_large_binary(t) or types.is_binary_view(t):
        return "binary"
    if types.is_fixed_size_binary(t) and not types.is_decimal(t):
        return f"fixed_size_binary[{t.byte_width}]"
    if types.is_decimal(t):
        return f"decimal({t.precision}, {t.scale})"
    if types.is_date32(t) or types.is_date64(t):
        return "date32" if types.is_date32(t) else "date64"
    if types.is_time32(t) or types.is_time64(t):
        return f"time{t.bit_width}[{t.unit}]"
    if types.is_timestamp(t):
        return f"timestamp[{t.unit}]" if t.tz is None else f"timestamp[{t.unit}, tz={t.tz}]"
    if types.is_duration(t):
        return f"duration[{t.unit}]"
    if types.is_interval(t):
        return f"interval[{t}]"
    if types.is_fixed_size_list(t):
        return f"fixed_size_list<{_logical_name(t.value_type)}>[{t.list_size}]"
    if types.is_map(t):
        return f"map<{_logical_name(t.key_type)}, {_logical_name(t.item_type)}>"
    if (
        types.is_list(t)
        or types.is_large_list(t)
        or types.is_list_view(t)
        or types.is_large_list_view(t)
    ):
        return f"list<{_logical_name(t.value_type)}>"
    if types.is_struct(t):
        fields = ", ".join(f"{json.dumps(f.name)}: {_logical_name(f.type)}" for f in t)
        return f"struct<{fields}>"
    raise _unsupported(t)


def make_node(t: Any) -> Node:
    """Build the hasher tree for an Arrow type (checked recursively before any data is read)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    types = pa.types
    logical = _logical_name(t)
    if isinstance(t, pa.ExtensionType):
        return _Normalised(make_node(t.storage_type), lambda a: a.storage)
    if types.is_dictionary(t):
        return _Normalised(make_node(t.value_type), lambda a: a.dictionary_decode())
    if types.is_run_end_encoded(t):
        return _Normalised(make_node(t.value_type), pc.run_end_decode)
    if types.is_string_view(t) or types.is_binary_view(t):
        target = pa.large_string() if types.is_string_view(t) else pa.large_binary()
        return _Normalised(_BinaryNode(logical), lambda a: a.cast(target))
    if types.is_null(t):
        return _NullNode(logical)
    if types.is_boolean(t):
        return _BoolNode(logical)
    if types.is_floating(t):
        return _FixedNode(logical, t.bit_width // 8, is_float=True)
    if types.is_decimal(t):
        return _FixedNode(logical, t.bit_width // 8, decimal=True)
    if (
        types.is_string(t)
        or types.is_large_string(t)
        or types.is_binary(t)
        or types.is_large_binary(t)
    ):
        return _BinaryNode(logical)
    if types.is_map(t):
        entry = pa.struct(
            [pa.field("key", t.key_type, nullable=False), pa.field("value", t.item_type)]
        )
        as_list = pa.large_list(entry)
        inner = _ListNode(logical, make_node(entry))
        return _Normalised(inner, lambda a: a.cast(as_list))
    if (
        types.is_list(t)
        or types.is_large_list(t)
        or types.is_list_view(t)
        or types.is_large_list_view(t)
        or types.is_fixed_size_list(t)
    ):
        return _ListNode(logical, make_node(t.value_type))
    if types.is_struct(t):
        return _StructNode(logical, [f.name for f in t], [make_node(f.type) for f in t])
    try:
        bits = t.bit_width
    except ValueError:
        raise _unsupported(t) from None
    if bits % 8:
        raise _unsupported(t)
    return _FixedNode(logical, bits // 8)
