"""The estimator worker's wire format: length-prefixed JSON headers and NumPy arrays.

One message is ``!II`` (header length, payload length), a UTF-8 JSON header, then an
optional payload in NumPy's ``.npy`` format. Arrays are always read with
``allow_pickle=False``: the parent process never unpickles anything the worker sends,
so a hostile model that took over its worker still cannot run code in the parent.
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import time
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import MLArenaError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["MAX_HEADER", "MAX_PAYLOAD", "WireError", "decode_array", "encode", "read", "write"]

_PREFIX = struct.Struct("!II")
MAX_HEADER = 1 << 20
MAX_PAYLOAD = 1 << 30


class WireError(MLArenaError):
    """The worker broke the protocol, timed out or died."""


def encode(header: dict[str, Any], array: NDArray[Any] | None = None) -> bytes:
    import numpy as np

    head = json.dumps(header, separators=(",", ":")).encode()
    body = b""
    if array is not None:
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        body = buffer.getvalue()
    return _PREFIX.pack(len(head), len(body)) + head + body


def write(fd: int, header: dict[str, Any], array: NDArray[Any] | None = None) -> None:
    data = memoryview(encode(header, array))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    left = n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise WireError("the model worker did not answer in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise WireError("the model worker exited")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read(fd: int, timeout: float | None = None) -> tuple[dict[str, Any], bytes]:
    """One message: the JSON header and the raw payload (decode with ``decode_array``)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    head_len, body_len = _PREFIX.unpack(_read_exact(fd, _PREFIX.size, deadline))
    if head_len > MAX_HEADER or body_len > MAX_PAYLOAD:
        raise WireError(
            "oversized message from the model worker", found=f"{head_len} + {body_len} bytes"
        )
    try:
        header = json.loads(_read_exact(fd, head_len, deadline))
    except ValueError:
        raise WireError("malformed message header from the model worker") from None
    if not isinstance(header, dict):
        raise WireError("malformed message header from the model worker")
    return header, _read_exact(fd, body_len, deadline)


def decode_array(payload: bytes) -> NDArray[Any]:
    import numpy as np

    try:
        array: NDArray[Any] = np.load(io.BytesIO(payload), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise WireError(f"malformed array from the model worker: {exc}") from None
    return array
