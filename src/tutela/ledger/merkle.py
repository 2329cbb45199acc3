"""RFC 6962 Merkle hash trees: roots, the compact range, inclusion and consistency proofs.

The ledger commits to its entries with the Certificate Transparency tree (RFC 6962 section
2.1, restated in RFC 9162 section 2.1) so that anyone holding a signed root can check that an
entry is in the log and that a later log extends an earlier one, using standard tools.

Leaves and nodes are domain-separated (``0x00`` and ``0x01`` prefixes) so a leaf can never be
passed off as an interior node. Everything here is pure: no I/O, no state beyond the
``CompactRange`` object the caller owns.

Producers (``root_from_leaf_hashes``, ``inclusion_proof``, ``consistency_proof``,
``CompactRange``) raise ``UsageError`` when called with impossible arguments and
``IntegrityError`` on corrupt stored state. Verifiers (``verify_inclusion``,
``verify_consistency``) never raise: any malformed input simply fails verification.

A verifier learns only the shape of the path, so a proof also verifies for another tree size
whose path has the same shape (e.g. leaf 0 of 3 and of 4 leaves). That claim is vacuous: no
tree of the other size has the given root short of a SHA-256 collision. It does mean a root
must always be signed and stored together with its size, never trusted alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TypeGuard

from tutela.errors import IntegrityError, UsageError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
# RFC 6962 tree sizes are uint64; a larger stored size can only come from corruption.
_MAX_TREE_SIZE = (1 << 64) - 1
_MAX_TREE_HEIGHT = 64
_STATE_SUBJECT = "ledger Merkle compact range"


def leaf_hash(data: bytes) -> bytes:
    """MTH of a single entry: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node over two child hashes: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes; ``EMPTY_ROOT`` for none.

    Built level by level: pairing neighbours and promoting a lone last node unchanged
    yields exactly the RFC's split at the largest power of two below n.
    """
    _check_leaf_hashes(hashes, len(hashes))
    return _mth(hashes)


def _mth(hashes: Sequence[bytes]) -> bytes:
    """Root of already-validated leaf hashes (the hot loop: about n hashes, no recursion)."""
    if not hashes:
        return EMPTY_ROOT
    # Copying a context already fed the node prefix skips re-initialising SHA-256 per node:
    # measurably faster than hashlib.sha256(prefix + left + right) in this loop.
    fresh = hashlib.sha256(_NODE_PREFIX).copy
    level: Sequence[bytes] = hashes
    while len(level) > 1:
        parents: list[bytes] = []
        add = parents.append
        pairs = iter(level)
        # zip over one iterator pairs neighbours without indexing; it drops an odd last
        # node, which is promoted unchanged below.
        for left, right in zip(pairs, pairs, strict=False):
            digest = fresh()
            digest.update(left + right)
            add(digest.digest())
        if len(level) & 1:
            add(level[-1])
        level = parents
    return bytes(level[0])


def _check_leaf_hashes(hashes: Sequence[bytes], count: int) -> None:
    """Refuse leaf hashes that are not 32 bytes, since they would give a valid-looking root."""
    lengths = set(map(len, hashes[:count] if count != len(hashes) else hashes))
    if lengths - {HASH_SIZE}:
        raise UsageError(
            "a Merkle leaf hash has the wrong length",
            expected=f"{HASH_SIZE} bytes each",
            found=", ".join(f"{n} bytes" for n in sorted(lengths - {HASH_SIZE})),
            hint="pass leaf_hash(entry), not the entry itself",
        )


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): RFC 6962's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering leaves [0, size), largest first.

    This is all the state needed to append leaves and compute the root of the prefix:
    ``popcount(size)`` hashes, so at most 64.
    """

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if not _is_count(size) or size > _MAX_TREE_SIZE:
            raise IntegrityError(
                "the compact range has an invalid tree size",
                subject=_STATE_SUBJECT,
                expected="an integer from 0 to 2**64-1",
                found=repr(size),
            )
        given: object = nodes  # restored state is untrusted whatever its annotation says
        if not _is_proof(given):
            raise IntegrityError(
                "the compact range nodes are not a list of hashes",
                subject=_STATE_SUBJECT,
                found=type(nodes).__name__,
            )
        expected = size.bit_count()
        if len(nodes) != expected:
            raise IntegrityError(
                "the compact range does not match its tree size",
                subject=_STATE_SUBJECT,
                expected=f"{expected} node hashes for size {size}",
                found=f"{len(nodes)}",
            )
        for position, node in enumerate(nodes):
            if not _is_hash(node):
                raise IntegrityError(
                    f"compact range node {position} is not a {HASH_SIZE}-byte hash",
                    subject=_STATE_SUBJECT,
                )
        self.size: int = size
        self.nodes: list[bytes] = [bytes(node) for node in nodes]

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at index ``size``."""
        if not _is_hash(leaf):
            raise UsageError(
                "a Merkle leaf hash has the wrong type or length",
                expected=f"{HASH_SIZE} bytes",
                found=_describe(leaf),
                hint="pass leaf_hash(entry), not the entry itself",
            )
        # Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        carry = bytes(leaf)
        size = self.size
        while size & 1:
            carry = node_hash(self.nodes.pop(), carry)
            size >>= 1
        self.nodes.append(carry)
        self.size += 1

    def root(self) -> bytes:
        """MTH of leaves [0, size): fold the subtree roots from the right."""
        if not self.nodes:
            return EMPTY_ROOT
        root = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            root = node_hash(node, root)
        return root

    def to_state(self) -> dict[str, object]:
        """JSON-able snapshot; ``from_state`` restores it."""
        return {"size": self.size, "nodes": [node.hex() for node in self.nodes]}

    @classmethod
    def from_state(cls, state: Mapping[str, object]) -> CompactRange:
        """Restore a snapshot from ``to_state``, refusing anything that is not exactly one."""
        if not isinstance(state, Mapping) or set(state) != {"size", "nodes"}:
            found = sorted(map(str, state)) if isinstance(state, Mapping) else _describe(state)
            raise IntegrityError(
                "the stored compact range is malformed",
                subject=_STATE_SUBJECT,
                expected="an object with exactly the keys 'size' and 'nodes'",
                found=str(found),
            )
        raw_nodes = state["nodes"]
        if not isinstance(raw_nodes, list | tuple):
            raise IntegrityError(
                "the stored compact range nodes are not a list",
                subject=_STATE_SUBJECT,
                found=_describe(raw_nodes),
            )
        if len(raw_nodes) > _MAX_TREE_HEIGHT:
            raise IntegrityError(
                "the stored compact range has too many nodes",
                subject=_STATE_SUBJECT,
                expected=f"at most {_MAX_TREE_HEIGHT}",
                found=str(len(raw_nodes)),
            )
        nodes = [_hash_from_hex(position, text) for position, text in enumerate(raw_nodes)]
        size = state["size"]
        if not _is_count(size):
            raise IntegrityError(
                "the stored compact range size is not a tree size",
                subject=_STATE_SUBJECT,
                expected="a non-negative integer",
                found=repr(size),
            )
        return cls(size, nodes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self.size == other.size and self.nodes == other.nodes

    __hash__ = None  # type: ignore[assignment]  # mutable: equal ranges must not share a hash

    def __repr__(self) -> str:
        return f"CompactRange(size={self.size}, root={self.root().hex()})"


def _hash_from_hex(position: int, text: object) -> bytes:
    """Decode one stored node, accepting only the canonical form ``to_state`` writes."""
    if isinstance(text, str) and len(text) == 2 * HASH_SIZE:
        try:
            value = bytes.fromhex(text)
        except ValueError:
            value = b""
        if len(value) == HASH_SIZE and value.hex() == text:
            return value
    raise IntegrityError(
        f"stored compact range node {position} is not a hash",
        subject=_STATE_SUBJECT,
        expected=f"{2 * HASH_SIZE} lowercase hex digits",
        found=_describe(text),
    )


def inclusion_proof(
    leaf_hashes: Sequence[bytes], index: int, size: int | None = None
) -> list[bytes]:
    """PATH(index, D[size]) (RFC 6962 section 2.1.1): sibling roots from the leaf upwards.

    The siblings cover disjoint ranges, so the whole proof costs under ``size`` hashes.
    """
    tree_size = len(leaf_hashes) if size is None else size
    if not _is_count(tree_size) or tree_size > len(leaf_hashes):
        raise UsageError(
            "an inclusion proof was asked for an impossible tree size",
            expected=f"0 to {len(leaf_hashes)} (the leaves given)",
            found=repr(tree_size),
        )
    if not _is_count(index) or index >= tree_size:
        raise UsageError(
            "an inclusion proof was asked for a leaf outside the tree",
            expected=f"an index below the tree size {tree_size}",
            found=repr(index),
        )
    _check_leaf_hashes(leaf_hashes, tree_size)
    # Walk down from the root, remembering the sibling range at each split.
    siblings: list[tuple[int, int]] = []
    low, high = 0, tree_size
    while high - low > 1:
        middle = low + _split(high - low)
        if index < middle:
            siblings.append((middle, high))
            high = middle
        else:
            siblings.append((low, middle))
            low = middle
    return [_mth(leaf_hashes[start:stop]) for start, stop in reversed(siblings)]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) (RFC 6962 section 2.1.2); empty when there is nothing to prove.

    Trivial cases (``old_size`` 0 or equal to ``new_size``) give an empty proof, which
    ``verify_consistency`` accepts only together with the matching roots.
    """
    if not _is_count(new_size) or new_size > len(leaf_hashes):
        raise UsageError(
            "a consistency proof was asked for an impossible tree size",
            expected=f"0 to {len(leaf_hashes)} (the leaves given)",
            found=repr(new_size),
        )
    if not _is_count(old_size) or old_size > new_size:
        raise UsageError(
            "a consistency proof was asked for a tree larger than the new one",
            expected=f"an old size from 0 to {new_size}",
            found=repr(old_size),
        )
    _check_leaf_hashes(leaf_hashes, new_size)
    if old_size in (0, new_size):
        return []
    # SUBPROOF(m, D[low:high], complete), unrolled: each step appends one sibling root after
    # the recursive part, so the siblings are collected top-down and emitted reversed.
    siblings: list[tuple[int, int]] = []
    low, high, old_end = 0, new_size, old_size
    complete = True  # the old tree is still a whole subtree we are inside of
    while old_end != high:
        middle = low + _split(high - low)
        if old_end <= middle:
            siblings.append((middle, high))
            high = middle
        else:
            siblings.append((low, middle))
            low = middle
            complete = False
    ranges = list(reversed(siblings))
    if not complete:
        # The verifier knows the old root already only when the old tree is this subtree.
        ranges.insert(0, (low, high))
    return [_mth(leaf_hashes[start:stop]) for start, stop in ranges]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` puts leaf hash ``leaf`` at ``index`` in the tree (``size``, ``root``).

    RFC 9162 section 2.1.3.2. Returns False, never raises, for any malformed input.
    """
    if not (_is_hash(leaf) and _is_hash(root) and _is_count(index) and _is_count(size)):
        return False
    if index >= size or not _is_proof(proof) or len(proof) > _MAX_TREE_HEIGHT:
        return False
    node_index, last_index = index, size - 1
    computed = bytes(leaf)
    for sibling in proof:
        if last_index == 0 or not _is_hash(sibling):
            return False
        if node_index & 1 or node_index == last_index:
            computed = node_hash(sibling, computed)
            # A right edge node is promoted unchanged through the levels where it has no sibling.
            while not node_index & 1 and node_index != 0:
                node_index >>= 1
                last_index >>= 1
        else:
            computed = node_hash(computed, sibling)
        node_index >>= 1
        last_index >>= 1
    return last_index == 0 and computed == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree (new_size, new_root) extends (old_size, old_root).

    RFC 9162 section 2.1.4.2 for 0 < old_size < new_size. The trivial cases need an empty
    proof: old_size 0 holds when ``old_root`` is ``EMPTY_ROOT`` (every tree extends the empty
    one); equal sizes hold when the roots are equal. Never raises.
    """
    if not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if not (_is_count(old_size) and _is_count(new_size)) or old_size > new_size:
        return False
    if not _is_proof(proof):
        return False
    if old_size == 0:
        return len(proof) == 0 and old_root == EMPTY_ROOT
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    # A real proof has at most two nodes per level; refusing longer ones bounds the work.
    if not 0 < len(proof) <= 2 * _MAX_TREE_HEIGHT:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete left subtree; its root is the proof's implicit first node.
        path.insert(0, old_root)
    old_index, last_index = old_size - 1, new_size - 1
    while old_index & 1:
        old_index >>= 1
        last_index >>= 1
    if not _is_hash(path[0]):
        return False
    old_computed = new_computed = bytes(path[0])
    for node in path[1:]:
        if last_index == 0 or not _is_hash(node):
            return False
        if old_index & 1 or old_index == last_index:
            old_computed = node_hash(node, old_computed)
            new_computed = node_hash(node, new_computed)
            while not old_index & 1 and old_index != 0:
                old_index >>= 1
                last_index >>= 1
        else:
            new_computed = node_hash(new_computed, node)
        old_index >>= 1
        last_index >>= 1
    return last_index == 0 and old_computed == old_root and new_computed == new_root


def _is_hash(value: object) -> TypeGuard[bytes | bytearray]:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _is_count(value: object) -> TypeGuard[int]:
    # bool is an int subclass; True as a tree size is a bug, not a 1.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_proof(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def _describe(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return f"{len(value)} bytes"
    return type(value).__name__
