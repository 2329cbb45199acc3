"""The one verification algorithm, fed entry by entry from a database or a bundle.

It imports no database code so that an exported bundle can be checked offline with
nothing but this package, ``cryptography`` and a public key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tutela.errors import IntegrityError
from tutela.ledger.checkpoint import SignedCheckpoint
from tutela.ledger.keys import PublicKey
from tutela.ledger.merkle import CompactRange

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
    note: str = ""  # what was proven, for reports other than a whole log
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def summary(self) -> str:
        if self.ok and self.note:
            return self.note
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
        self._checkpoint_broken = False  # likewise for later checkpoints over the same damage
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
        self.feed_rows(((seq, body, chain),))

    def feed_rows(self, rows: Iterable[tuple[int, bytes, bytes]]) -> None:
        """The hot loop: the Merkle frontier and chain are inlined, since verification
        of millions of entries is bounded by Python overhead, not by SHA-256."""
        sha256 = hashlib.sha256
        frontier = self._range
        nodes = frontier.nodes
        pending = self._by_size
        chain = self._chain
        expected = self._expected
        size = frontier.size
        for seq, body, stored in rows:
            if seq != expected:
                if seq > expected:
                    self._problem("gap", f"entries {expected}..{seq - 1} are missing", expected)
                else:
                    self._problem("order", f"entry {seq} appears out of order or twice", seq)
                self._broken = True
                expected = seq
            leaf = sha256(b"\x00" + body).digest()
            chain = sha256(chain + leaf).digest()
            if stored != chain and not self._broken:
                self._problem(
                    "chain", "body or chain hash was altered (chain hash does not match)", seq
                )
                self._broken = True
            # Each trailing one bit of the size is a perfect subtree this leaf completes.
            carry, n = leaf, size
            while n & 1:
                carry = sha256(b"\x01" + nodes.pop() + carry).digest()
                n >>= 1
            nodes.append(carry)
            size += 1
            expected += 1
            if size in pending:
                frontier.size, self._chain = size, chain
                self._check_at(size)
        frontier.size = size
        self._chain = chain
        self._expected = expected
        self._report.entries = size

    def _check_at(self, size: int) -> None:
        for cp in self._by_size.pop(size, []):
            self._report.checkpoints += 1
            if cp.root != self._range.root() or cp.chain != self._chain:
                if not self._checkpoint_broken:
                    self._problem(
                        "checkpoint",
                        f"the first {size} entries differ from what checkpoint {size} signed "
                        "(entries were edited, inserted, removed or reordered)",
                        size if size else None,
                    )
                self._checkpoint_broken = True
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
