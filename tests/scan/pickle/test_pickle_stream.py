"""Byte-exact reading: framing, protocols, concatenation, malformed input, limits."""

from __future__ import annotations

import io
import pickle
import struct
import time

import pytest
from picklecraft import MARK, PROTO4, STOP, TUPLE, call, frame, glob, rules, s, scan

from tutela.scan.interface import Limits, Severity
from tutela.scan.pickle import ByteSource, analyze_pickle

# Benign opcode streams with unusual framing. They hold no GLOBAL, so the real C
# unpickler can be asked what it does with them (differential check).
BODY = b"(K\x01K\x02" + b"X" + struct.pack("<I", 3) + b"abc" + b"t\x94"
ODD_FRAMES = [
    PROTO4 + frame(BODY + STOP),
    PROTO4 + frame(BODY[:4], declared=4) + BODY[4:] + STOP,  # opcode arg crosses frame end
    PROTO4 + frame(BODY, declared=3) + STOP,  # declared shorter than its opcodes
    PROTO4 + frame(BODY + STOP, declared=len(BODY) + 50) + b"\x00" * 49,  # STOP inside frame
    PROTO4 + frame(BODY + STOP, declared=len(BODY) + 50),  # frame beyond end of stream
    PROTO4 + frame(frame(BODY, declared=2), declared=len(BODY) + 9) + STOP,  # nested frames
    frame(BODY + STOP),  # frame without PROTO
    PROTO4 + frame(b"", declared=0) + BODY + STOP,
]


@pytest.mark.parametrize("data", ODD_FRAMES)
def test_framing_matches_the_c_unpickler(data: bytes) -> None:
    """Malformed exactly when pickle.loads (C) raises; never crashes."""
    try:
        pickle.loads(data)
        c_ok = True
    except Exception:
        c_ok = False
    result = scan(data)
    assert ("pickle.malformed" not in rules(result)) == c_ok, result.findings


@pytest.mark.parametrize("protocol", range(6))
def test_every_protocol_reads_to_the_end(protocol: int) -> None:
    """Every protocol's output is read completely, byte for byte."""
    data = pickle.dumps({"a": [1, 2.0, "x", b"y", (None, True)], "b": {3}}, protocol=protocol)
    result = scan(data)
    assert result.bytes_read == len(data) and result.pickles == 1


def test_concatenated_pickles_and_position() -> None:
    """Several pickles are all read; with max_pickles the stream stops right after STOP."""
    one = pickle.dumps([1], protocol=2)
    data = one + pickle.dumps("x", protocol=0) + pickle.dumps(3, protocol=5)
    assert scan(data).pickles == 3
    src = ByteSource.from_bytes(data)
    result = analyze_pickle(src, member=None, limits=Limits(), max_pickles=1)
    assert result.pickles == 1 and src.tell() == len(one)


def test_trailing_garbage_is_low() -> None:
    """Non-pickle bytes after the last pickle are trailing data, not a crash."""
    result = scan(pickle.dumps(1, protocol=4) + b"\xff\x00garbage")
    assert rules(result) == {"pickle.trailing-data": Severity.LOW}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80",
        b"\x80\x09N.",
        b"N",
        b"0",
        b"(t0.",
        b"h\x05.",
        b"X\x05\x00\x00\x00ab",
        b"]K\x01u.",
    ],
)
def test_malformed_inputs_are_findings(data: bytes) -> None:
    """Empty, truncated, bad protocol, underflow, memo miss, odd SETITEMS: pickle.malformed."""
    assert "pickle.malformed" in rules(scan(data))


def test_out_of_band_buffers_and_persistent_ids_are_info() -> None:
    """NEXT_BUFFER/READONLY_BUFFER and BINPERSID are recorded as info, not flagged."""
    buf = pickle.PickleBuffer(b"abc")
    data = pickle.dumps([buf], protocol=5, buffer_callback=lambda b: False)
    found = rules(scan(data))
    assert found.get("pickle.out-of-band-buffer") is Severity.INFO
    pers = PROTO4 + MARK + s("storage") + s("0") + TUPLE + b"Q" + STOP
    assert rules(scan(pers)) == {"pickle.persistent-id": Severity.INFO}


def test_large_payloads_are_skipped_not_loaded() -> None:
    """A 64 MiB BINBYTES8 payload is skipped; only its head is kept."""
    size = 64 * 1024 * 1024
    data = PROTO4 + b"\x8e" + struct.pack("<Q", size) + bytes(size) + STOP
    result = scan(data)
    assert result.findings == [] and result.bytes_read == len(data)


def test_opcode_limit() -> None:
    """An endless stream of pushes and pops ends at the opcode limit, inconclusive."""
    data = PROTO4 + b"N0" * 100_000
    result = scan(data, limits=Limits(max_pickle_opcodes=10_000))
    assert rules(result)["pickle.limit"] is Severity.MEDIUM
    assert result.inconclusive


def test_stack_and_memo_limits() -> None:
    """Deep marks and floods of memo entries hit their limits, not the memory."""
    deep = scan(PROTO4 + b"(" * 5000, limits=Limits(max_stack_depth=1000))
    assert "pickle.limit" in rules(deep)
    memo = scan(PROTO4 + b"N" + b"\x94" * 5000 + b".", limits=Limits(max_memo_entries=100))
    assert "pickle.limit" in rules(memo)


def test_deadline() -> None:
    """A deadline already in the past stops the analysis with a limit finding."""
    data = PROTO4 + b"N0" * 20_000 + STOP
    src = ByteSource.from_bytes(data)
    result = analyze_pickle(src, member=None, limits=Limits(), deadline=time.monotonic() - 1)
    assert "pickle.limit" in rules(result)


def test_long_names_are_refused() -> None:
    """A STACK_GLOBAL name longer than the cap is a limit finding, never silently allowed."""
    data = PROTO4 + call(s("os") + s("x" * 5000) + b"\x93", s("a")) + STOP
    found = rules(scan(data))
    assert found["pickle.limit"] >= Severity.HIGH
    long_global = PROTO4 + b"cos\n" + b"s" * 10_000 + b"\n" + STOP
    assert "pickle.limit" in rules(scan(long_global))


def test_unknown_size_stream() -> None:
    """A stream of unknown size (no size hint) is analysed the same way."""
    data = pickle.dumps({"k": list(range(100))}, protocol=4)
    result = analyze_pickle(ByteSource(io.BytesIO(data)), member=None, limits=Limits())
    assert result.findings == [] and result.bytes_read == len(data)


def test_globals_in_frames_are_found() -> None:
    """Globals inside a frame and results retrieved from memo are followed."""
    body = call(glob("os", "system"), s("id")) + b"\x94"
    result = scan(PROTO4 + frame(body) + b"0h\x00" + STOP)
    assert rules(result)["pickle.denied-call"] is Severity.CRITICAL
