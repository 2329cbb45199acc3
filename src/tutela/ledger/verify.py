"""The one verification algorithm, fed entry by entry from a database or a bundle.

It imports no database code so that an exported bundle can be checked offline with
nothing but this package, ``cryptography`` and a public key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from tutela.errors import IntegrityError
from tutela.ledger.checkpoint import SignedCheckpoint
from tutela.ledger.keys import PublicKey
from tutela.ledger.merkle import CompactRange, leaf_hash

__all__ = ["GENESIS", "ChainVerifier", "Problem", "VerifyReport", "next_chain"]

GENESIS = bytes(32)


def next_chain(previous: bytes, leaf: bytes) -> bytes:
    """Chain hash of an entry: sha256(previous chain || leaf hash of its body)."""
    return hashlib.sha256(previous + leaf).digest()


@dataclass(frozen=True)
class Problem:
    kind: str  # gap, chain, order, head, checkpoint, signature, truncated
    message: str
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "message": self.message}


@dataclass
class VerifyReport:
    entries: int = 0
    root: bytes = b""
    chain: bytes = GENESIS
    checkpoints: int = 0
    signed_size: int = 0  # the largest size a valid signature covers
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def summary(self) -> str:
        if self.ok:
            return (
                f"ledger intact: {self.entries} entries, {self.checkpoints} signed checkpoints, "
                f"root {self.root.hex()[:16]}…"
            )
        first = self.problems[0]
        where = f"entry {first.seq}: " if first.seq is not None else ""
        more = f" (+{len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        return f"ledger verification FAILED: {where}{first.message}{more}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "root": self.root.hex(),
            "chain": self.chain.hex(),
            "checkpoints": self.checkpoints,
            "signed_size": self.signed_size,
            "first_bad_seq": self.first_bad_seq,
            "problems": [p.to_dict() for p in self.problems],
        }


class ChainVerifier:
    """Feed entries in sequence order with :meth:`feed`, then call :meth:`finish`.

    Checks: sequence numbers are 1..n without gaps; each stored chain hash equals the
    recomputed one; each checkpoint's signature is valid, and its root and chain head
    equal the recomputed ones at its size; no checkpoint is larger than the log.
    """

    _MAX_PROBLEMS = 100

    def __init__(self, key: PublicKey, checkpoints: list[SignedCheckpoint]) -> None:
        self._key = key
        self._report = VerifyReport()
        self._range = CompactRange()
        self._chain = GENESIS
        self._expected = 1
        self._broken = False  # after a chain break, later chain hashes are not re-reported
        self._by_size: dict[int, list[SignedCheckpoint]] = {}
        for cp in checkpoints:
            try:
                size = cp.size
            except IntegrityError as exc:
                self._problem("checkpoint", exc.problem)
                continue
            if not cp.signature_valid(key):
                self._problem("signature", f"checkpoint at size {size} has an invalid signature")
                continue
            self._by_size.setdefault(size, []).append(cp)
        self._check_at(0)

    def _problem(self, kind: str, message: str, seq: int | None = None) -> None:
        if len(self._report.problems) < self._MAX_PROBLEMS:
            self._report.problems.append(Problem(kind, message, seq))

    def feed(self, seq: int, body: bytes, chain: bytes) -> None:
        if seq != self._expected:
            if seq > self._expected:
                self._problem(
                    "gap", f"entries {self._expected}..{seq - 1} are missing", self._expected
                )
            else:
                self._problem("order", f"entry {seq} appears out of order or twice", seq)
            self._broken = True
            self._expected = seq
        leaf = leaf_hash(body)
        self._chain = next_chain(self._chain, leaf)
        if chain != self._chain and not self._broken:
            self._problem(
                "chain", "body or chain hash was altered (chain hash does not match)", seq
            )
            self._broken = True
        self._range.append(leaf)
        self._expected += 1
        self._report.entries += 1
        if self._range.size in self._by_size:
            self._check_at(self._range.size)

    def _check_at(self, size: int) -> None:
        for cp in self._by_size.pop(size, []):
            self._report.checkpoints += 1
            if cp.root != self._range.root():
                self._problem(
                    "checkpoint",
                    f"the first {size} entries differ from what checkpoint {size} signed "
                    "(entries were edited, inserted, removed or reordered)",
                    size if size else None,
                )
            elif cp.chain != self._chain:
                self._problem("checkpoint", f"chain head differs from checkpoint {size}", size)
            else:
                self._report.signed_size = max(self._report.signed_size, size)

    def finish(self) -> VerifyReport:
        for size in sorted(self._by_size):
            count = len(self._by_size[size])
            self._report.checkpoints += count
            self._problem(
                "truncated",
                f"the log has {self._range.size} entries but a signed checkpoint covers {size}: "
                "entries were removed from the end",
                self._range.size + 1,
            )
        self._by_size.clear()
        self._report.root = self._range.root()
        self._report.chain = self._chain
        return self._report

    @property
    def frontier(self) -> CompactRange:
        return self._range
