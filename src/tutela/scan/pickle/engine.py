"""Drive the emulated unpickler over a stream of (possibly concatenated) pickles."""

from __future__ import annotations

import logging
import time

from tutela.scan.interface import Limits, Severity
from tutela.scan.pickle.machine import Machine, Stop
from tutela.scan.pickle.policy import Policy
from tutela.scan.pickle.report import Collector, PickleResult
from tutela.scan.source import ByteSource

__all__ = ["analyze_pickle"]

_log = logging.getLogger(__name__)


def analyze_pickle(
    stream: ByteSource,
    *,
    member: str | None,
    limits: Limits,
    deadline: float | None = None,
    max_pickles: int | None = None,
    policy: Policy | None = None,
) -> PickleResult:
    """Statically analyse the pickle(s) in ``stream`` without unpickling anything.

    Reads pickles one after another until the end of the stream (or ``max_pickles``,
    leaving the stream positioned right after the last STOP, as ``pickle.load`` would).
    Bytes after the last pickle that do not start another one are reported as
    ``pickle.trailing-data`` and skipped (still hashed). Never raises on bad input.
    """
    start = stream.tell()
    started = time.monotonic()
    budget = started + limits.max_seconds
    deadline = budget if deadline is None else min(deadline, budget)
    collector = Collector(member)
    machine = Machine(stream, policy or Policy(), collector, limits, deadline)
    inconclusive: list[str] = []
    pickles = 0
    while max_pickles is None or pickles < max_pickles:
        at = stream.tell()
        if pickles and stream.at_eof():
            break
        if pickles and not _looks_like_opcode(stream):
            _trailing(stream, collector, at)
            break
        try:
            if not machine.run_pickle():
                if pickles == 0:
                    collector.add(
                        "pickle.malformed",
                        Severity.MEDIUM,
                        "empty stream: no pickle at all (pickle.load raises EOFError)",
                        offset=at,
                    )
                break
            pickles += 1
        except Stop as stop:
            pickles += 1
            _stopped(stream, machine, collector, inconclusive, stop)
            break
        except (RecursionError, MemoryError) as exc:  # pragma: no cover - defensive
            pickles += 1
            aborted = Stop("limit", f"analysis aborted: {type(exc).__name__}", stream.tell())
            _stopped(stream, machine, collector, inconclusive, aborted)
            break
    if collector.dropped:
        inconclusive.append(f"{collector.dropped} further findings were not recorded")
    return PickleResult(
        findings=collector.findings(),
        inconclusive=inconclusive,
        imports=list(machine.imports),
        pickles=pickles,
        bytes_read=stream.tell() - start,
    )


def _looks_like_opcode(stream: ByteSource) -> bool:
    head = stream.peek(2)
    if not head:
        return False
    code = head[0]
    if code == 0x80:  # PROTO must carry a known protocol to start a pickle
        return len(head) == 2 and head[1] <= 5
    return code in _START_OPCODES


def _trailing(stream: ByteSource, collector: Collector, at: int) -> None:
    head = stream.peek(16)
    skipped = stream.finish()
    collector.add(
        "pickle.trailing-data",
        Severity.LOW,
        f"{skipped} bytes after the last pickle are not a pickle",
        offset=at,
        details={"bytes": skipped, "head": head.hex()},
    )


def _stopped(
    stream: ByteSource,
    machine: Machine,
    collector: Collector,
    inconclusive: list[str],
    stop: Stop,
) -> None:
    if stop.kind == "limit":
        collector.add(
            "pickle.limit",
            Severity.MEDIUM,
            f"analysis stopped: {stop.message}",
            offset=stop.offset,
        )
        inconclusive.append(f"pickle analysis stopped at byte {stop.offset}: {stop.message}")
        return
    invoked = machine.invoked
    rest = stream.finish()
    message = f"malformed pickle: {stop.message}"
    if invoked:
        message += "; code had already been invoked before the error"
    collector.add(
        "pickle.malformed",
        Severity.HIGH if invoked else Severity.MEDIUM,
        message,
        offset=stop.offset,
        details={"unanalysed_bytes": rest},
    )
    # A malformed pickle could not be parsed to its end: never a clean bill of health,
    # even when what was read looks harmless.
    unread = f"; {rest} bytes after it were not analysed" if rest else ""
    inconclusive.append(f"malformed pickle at byte {stop.offset}: {stop.message}{unread}")
    _log.debug("pickle stopped at %d: %s", stop.offset, stop.message)


# Opcodes that can begin a pickle of any protocol (everything except PROTO is judged
# by its first byte; data that is not one of these is trailing data, not a pickle).
_START_OPCODES = frozenset(b"(.0123FIJKLMNPQRSTUVXabcdegijlopqrstu}])GBC") | frozenset(
    range(0x81, 0x99)
)
