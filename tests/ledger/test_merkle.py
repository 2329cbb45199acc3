"""Tests for the RFC 6962 Merkle tree: published vectors, a reference model, and properties.

The vectors below are the ones used by Google's Certificate Transparency and Trillian code,
as kept today in github.com/transparency-dev/merkle:
  - testonly/constants.go: LeafInputs, NodeHashes, RootHashes, CompactTrees;
  - proof/verify_test.go: inclusionProofs, consistencyProofs (there ``leaf`` is 1-based; it
    is converted to a 0-based index here) and the corruptions applied to each of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutela.errors import IntegrityError, UsageError
from tutela.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAF_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]

# NodeHashes(): [level][index] for every perfect subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

# RootHashes(): the root of the first n leaves, n = 0..8.
ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

_N = NODE_HASHES
# CompactTrees(): the compact range after n leaves, n = 0..8.
COMPACT = [
    [],
    [_N[0][0]],
    [_N[1][0]],
    [_N[1][0], _N[0][2]],
    [_N[2][0]],
    [_N[2][0], _N[0][4]],
    [_N[2][0], _N[1][2]],
    [_N[2][0], _N[1][2], _N[0][6]],
    [_N[3][0]],
]

# (index, size, proof); inclusionProofs in verify_test.go with leaf converted to 0-based.
INCLUSION = [
    (0, 1, []),
    (0, 8, [_N[0][1], _N[1][1], _N[2][1]]),
    (5, 8, [_N[0][4], _N[1][3], _N[2][0]]),
    (2, 3, [_N[1][0]]),
    (1, 5, [_N[0][0], _N[1][1], _N[0][4]]),
]

# (old_size, new_size, proof); consistencyProofs in verify_test.go.
CONSISTENCY = [
    (1, 1, []),
    (1, 8, [_N[0][1], _N[1][1], _N[2][1]]),
    (6, 8, [_N[1][2], _N[1][3], _N[2][0]]),
    (2, 5, [_N[1][1], _N[0][4]]),
    (6, 7, [_N[1][2], _N[0][6], _N[2][0]]),
]

SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]


def leaves_for(n: int) -> list[bytes]:
    """Distinct leaf hashes for a tree of n entries."""
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def reference_mth(entries: Sequence[bytes]) -> bytes:
    """MTH straight from RFC 6962 section 2.1, over raw entries."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(
        b"\x01" + reference_mth(entries[:k]) + reference_mth(entries[k:])
    ).digest()


def reference_path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) straight from RFC 6962 section 2.1.1."""
    n = len(entries)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*reference_path(m, entries[:k]), reference_mth(entries[k:])]
    return [*reference_path(m - k, entries[k:]), reference_mth(entries[:k])]


def reference_subproof(m: int, entries: Sequence[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) straight from RFC 6962 section 2.1.2."""
    n = len(entries)
    if m == n:
        return [] if whole else [reference_mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*reference_subproof(m, entries[:k], whole), reference_mth(entries[k:])]
    return [*reference_subproof(m - k, entries[k:], False), reference_mth(entries[:k])]


def path_shape(m: int, n: int) -> tuple[str, ...]:
    """The sides PATH(m, D[n]) takes from the leaf up: all a verifier learns of the tree."""
    if n == 1:
        return ()
    k = 1
    while k * 2 < n:
        k *= 2
    return (*path_shape(m, k), "left") if m < k else (*path_shape(m - k, n - k), "right")


def subproof_shape(m: int, n: int, whole: bool) -> tuple[str, ...]:
    """The steps SUBPROOF(m, D[n], b) takes: all a verifier learns of the two trees."""
    if m == n:
        return ("old root known",) if whole else ("old root sent",)
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return (*subproof_shape(m, k, whole), "left")
    return (*subproof_shape(m - k, n - k, False), "right")


def flip(proof: Sequence[bytes], position: int) -> list[bytes]:
    """A copy of the proof with one bit of one node changed."""
    changed = list(proof)
    changed[position] = bytes([changed[position][0] ^ 8]) + changed[position][1:]
    return changed


# --- published vectors ---------------------------------------------------------------


def test_empty_root_and_hash_size() -> None:
    """The empty tree's root is SHA-256 of nothing, and hashes are 32 bytes."""
    assert EMPTY_ROOT == ROOTS[0] == hashlib.sha256(b"").digest()
    assert HASH_SIZE == 32


def test_leaf_and_node_hashes_match_vectors() -> None:
    """leaf_hash and node_hash reproduce every published node of the 8-leaf tree."""
    assert NODE_HASHES[0] == LEAVES
    for level in range(1, 4):
        below = NODE_HASHES[level - 1]
        expected = [node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)]
        assert expected == NODE_HASHES[level]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_vectors(size: int) -> None:
    """root_from_leaf_hashes gives the published root for sizes 0..8."""
    assert root_from_leaf_hashes(LEAVES[:size]) == ROOTS[size]


def test_compact_range_matches_vectors() -> None:
    """Appending the vector leaves gives the published compact ranges and roots."""
    compact = CompactRange()
    assert compact.nodes == COMPACT[0] and compact.root() == ROOTS[0]
    for size in range(1, 9):
        compact.append(LEAVES[size - 1])
        assert compact.size == size
        assert compact.nodes == COMPACT[size]
        assert compact.root() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_vectors(index: int, size: int, proof: list[bytes]) -> None:
    """inclusion_proof gives the published path, and it verifies."""
    assert inclusion_proof(LEAVES, index, size) == proof
    assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_vector_corruptions_fail(index: int, size: int, proof: list[bytes]) -> None:
    """Every corruption Trillian applies to a published inclusion proof is refused."""
    root, leaf = ROOTS[size], LEAVES[index]
    probes: list[tuple[object, int, int, object, object]] = [
        (leaf, index - 1, size, proof, root),
        (leaf, index + 1, size, proof, root),
        (leaf, index ^ 2, size, proof, root),
        (leaf, index, size * 2, proof, root),
        (leaf, index, size // 2, proof, root),
        (b"WrongLeaf", index, size, proof, root),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, proof, SOME_HASH),
        (leaf, index, size, [*proof, b""], root),
        (leaf, index, size, [*proof, root], root),
        (leaf, index, size, [b"", *proof], root),
        (leaf, index, size, [root, *proof], root),
    ]
    probes += [(leaf, index, size, flip(proof, i), root) for i in range(len(proof))]
    if proof:
        probes.append((leaf, index, size, proof[:-1], root))
    if len(proof) > 1:
        probes.append((leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root))
    for probe_leaf, probe_index, probe_size, probe_proof, probe_root in probes:
        assert not verify_inclusion(
            probe_leaf,  # type: ignore[arg-type]
            probe_index,
            probe_size,
            probe_proof,  # type: ignore[arg-type]
            probe_root,  # type: ignore[arg-type]
        ), (probe_index, probe_size)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_vectors(old: int, new: int, proof: list[bytes]) -> None:
    """consistency_proof gives the published proof, and it verifies."""
    assert consistency_proof(LEAVES, old, new) == proof
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("old", "new", "proof"), [c for c in CONSISTENCY if c[2]])
def test_consistency_vector_corruptions_fail(old: int, new: int, proof: list[bytes]) -> None:
    """Every corruption Trillian applies to a published consistency proof is refused."""
    root1, root2 = ROOTS[old], ROOTS[new]
    probes: list[tuple[int, int, object, object, object]] = [
        (old - 1, new, root1, root2, proof),
        (old + 1, new, root1, root2, proof),
        (old ^ 2, new, root1, root2, proof),
        (old, new * 2, root1, root2, proof),
        (old, new // 2, root1, root2, proof),
        (old, new, b"WrongRoot", root2, proof),
        (old, new, root1, b"WrongRoot", proof),
        (old, new, root2, root1, proof),
        (old, new, root1, root2, []),
        (old, new, root1, root2, [*proof, b""]),
        (old, new, root1, root2, [*proof, root1]),
        (old, new, root1, root2, [*proof, root2]),
        (old, new, root1, root2, [b"", *proof]),
        (old, new, root1, root2, [root1, *proof]),
        (old, new, root1, root2, [root2, *proof]),
        (old, new, root1, root2, [proof[0], *proof]),
        (old, new, root1, root2, proof[:-1]),
    ]
    probes += [(old, new, root1, root2, flip(proof, i)) for i in range(len(proof))]
    for size1, size2, probe_root1, probe_root2, probe_proof in probes:
        assert not verify_consistency(
            size1,
            size2,
            probe_root1,  # type: ignore[arg-type]
            probe_root2,  # type: ignore[arg-type]
            probe_proof,  # type: ignore[arg-type]
        ), (size1, size2)


def test_trivial_consistency_cases() -> None:
    """Empty proofs hold only for an empty old tree with the empty root, or for equal trees."""
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS[5], [])
    assert verify_consistency(3, 3, ROOTS[3], ROOTS[3], [])
    assert not verify_consistency(0, 5, ROOTS[1], ROOTS[5], [])  # not the empty tree's root
    assert not verify_consistency(3, 3, ROOTS[3], ROOTS[4], [])  # same size, different roots
    assert not verify_consistency(3, 3, ROOTS[3], ROOTS[3], [EMPTY_ROOT])  # extra node
    assert not verify_consistency(0, 1, EMPTY_ROOT, ROOTS[1], [EMPTY_ROOT])
    assert not verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])  # real proof missing
    assert not verify_consistency(2, 1, ROOTS[2], ROOTS[1], [])  # the past is not a future
    assert consistency_proof(LEAVES, 0, 8) == []
    assert consistency_proof(LEAVES, 8, 8) == []


# --- reference model -------------------------------------------------------------------


def test_root_matches_rfc_definition_up_to_70() -> None:
    """The level-by-level root equals the recursive RFC MTH for every n from 0 to 70."""
    entries = [i.to_bytes(2, "big") * (i % 5) for i in range(70)]
    hashes = [leaf_hash(entry) for entry in entries]
    for n in range(71):
        assert root_from_leaf_hashes(hashes[:n]) == reference_mth(entries[:n]), n


def test_proofs_match_rfc_definition_exhaustively() -> None:
    """Every inclusion and consistency proof of trees up to 33 leaves equals the RFC's."""
    entries = [i.to_bytes(2, "big") for i in range(33)]
    hashes = [leaf_hash(entry) for entry in entries]
    roots = [reference_mth(entries[:n]) for n in range(34)]
    for size in range(1, 34):
        for index in range(size):
            proof = inclusion_proof(hashes, index, size)
            assert proof == reference_path(index, entries[:size]), (index, size)
            assert verify_inclusion(hashes[index], index, size, proof, roots[size])
        for old in range(1, size):
            proof = consistency_proof(hashes, old, size)
            assert proof == reference_subproof(old, entries[:size], True), (old, size)
            assert verify_consistency(old, size, roots[old], roots[size], proof)


def test_proofs_over_a_deep_tree() -> None:
    """Proofs over 2**17 + 3 leaves have the expected length and verify (no recursion)."""
    hashes = leaves_for(2**17 + 3)
    root = root_from_leaf_hashes(hashes)
    for index in (0, 2**16 + 7, 2**17, len(hashes) - 1):
        proof = inclusion_proof(hashes, index)
        assert verify_inclusion(hashes[index], index, len(hashes), proof, root)
    assert len(inclusion_proof(hashes, 0)) == 18
    old = 2**16 + 1
    proof = consistency_proof(hashes, old, len(hashes))
    old_root = root_from_leaf_hashes(hashes[:old])
    assert verify_consistency(old, len(hashes), old_root, root, proof)


# --- properties ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=150))
def test_compact_range_root_equals_full_root_for_every_prefix(n: int) -> None:
    """After each append the compact range's root is the root of that prefix."""
    hashes = leaves_for(n)
    compact = CompactRange()
    for size in range(1, n + 1):
        compact.append(hashes[size - 1])
        assert compact.root() == root_from_leaf_hashes(hashes[:size])
        assert len(compact.nodes) == size.bit_count()


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=40))
def test_compact_range_state_round_trip(n: int, more: int) -> None:
    """to_state/from_state restores a range that keeps growing to the same roots."""
    hashes = leaves_for(n + more)
    compact = CompactRange()
    for leaf in hashes[:n]:
        compact.append(leaf)
    state = compact.to_state()
    restored = CompactRange.from_state(state)
    assert restored == compact and restored.to_state() == state
    direct = CompactRange(compact.size, compact.nodes)
    assert direct == compact
    for leaf in hashes[n:]:
        restored.append(leaf)
    assert restored.root() == root_from_leaf_hashes(hashes)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """A tree of 1..130 leaves, a size within it, and an index below that size."""
    leaves = leaves_for(draw(st.integers(min_value=1, max_value=130)))
    size = draw(st.integers(min_value=1, max_value=len(leaves)))
    return leaves, size, draw(st.integers(min_value=0, max_value=size - 1))


@settings(max_examples=150, deadline=None)
@given(tree_and_index(), st.data())
def test_inclusion_proof_verifies_and_alterations_fail(
    case: tuple[list[bytes], int, int], data: st.DataObject
) -> None:
    """An inclusion proof verifies, and fails for another leaf, index, size, root or length."""
    leaves, size, index = case
    root = root_from_leaf_hashes(leaves[:size])
    proof = inclusion_proof(leaves, index, size)
    assert verify_inclusion(leaves[index], index, size, proof, root)

    other = data.draw(st.integers(min_value=0, max_value=size + 5).filter(lambda i: i != index))
    assert not verify_inclusion(leaves[index], other, size, proof, root)
    if other < size:
        assert not verify_inclusion(leaves[other], index, size, proof, root)
    assert not verify_inclusion(leaf_hash(b"not in the log"), index, size, proof, root)
    other_size = data.draw(
        st.integers(min_value=0, max_value=2 * size + 4).filter(lambda s: s != size)
    )
    # Another size verifies exactly when its path has the same shape: the claim is then vacuous,
    # since no tree of that size has this root without a SHA-256 collision.
    same_shape = index < other_size and path_shape(index, other_size) == path_shape(index, size)
    assert verify_inclusion(leaves[index], index, other_size, proof, root) is same_shape
    other_root = data.draw(st.binary(min_size=32, max_size=32).filter(lambda r: r != root))
    assert not verify_inclusion(leaves[index], index, size, proof, other_root)
    if proof:
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
        position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        assert not verify_inclusion(leaves[index], index, size, flip(proof, position), root)
    extra = data.draw(st.sampled_from([root, leaves[index], EMPTY_ROOT, SOME_HASH]))
    assert not verify_inclusion(leaves[index], index, size, [*proof, extra], root)
    assert not verify_inclusion(leaves[index], index, size, [extra, *proof], root)


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """A tree of 2..130 leaves and sizes 0 < old < new within it."""
    leaves = leaves_for(draw(st.integers(min_value=2, max_value=130)))
    new = draw(st.integers(min_value=2, max_value=len(leaves)))
    return leaves, draw(st.integers(min_value=1, max_value=new - 1)), new


@settings(max_examples=150, deadline=None)
@given(tree_and_sizes(), st.data())
def test_consistency_proof_verifies_and_alterations_fail(
    case: tuple[list[bytes], int, int], data: st.DataObject
) -> None:
    """A consistency proof verifies, and fails when a size, a root or the proof changes."""
    leaves, old, new = case
    old_root = root_from_leaf_hashes(leaves[:old])
    new_root = root_from_leaf_hashes(leaves[:new])
    proof = consistency_proof(leaves, old, new)
    assert verify_consistency(old, new, old_root, new_root, proof)

    # Other sizes verify exactly when the proof has the same shape (a vacuous claim: no tree
    # of those sizes has these roots without a SHA-256 collision).
    shape = subproof_shape(old, new, True)
    other_old = data.draw(st.integers(min_value=0, max_value=new + 3).filter(lambda s: s != old))
    same_shape = 0 < other_old < new and subproof_shape(other_old, new, True) == shape
    assert verify_consistency(other_old, new, old_root, new_root, proof) is same_shape
    other_new = data.draw(
        st.integers(min_value=0, max_value=2 * new + 3).filter(lambda s: s != new)
    )
    same_shape = old < other_new and subproof_shape(old, other_new, True) == shape
    assert verify_consistency(old, other_new, old_root, new_root, proof) is same_shape
    forged = data.draw(st.binary(min_size=32, max_size=32))
    if forged != old_root:
        assert not verify_consistency(old, new, forged, new_root, proof)
    if forged != new_root:
        assert not verify_consistency(old, new, old_root, forged, proof)
    assert not verify_consistency(old, new, new_root, old_root, proof)
    assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    assert not verify_consistency(old, new, old_root, new_root, flip(proof, position))
    extra = data.draw(st.sampled_from([old_root, new_root, proof[0], EMPTY_ROOT]))
    assert not verify_consistency(old, new, old_root, new_root, [*proof, extra])
    assert not verify_consistency(old, new, old_root, new_root, [extra, *proof])


GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.binary(max_size=40),
    st.text(max_size=40),
    st.lists(st.one_of(st.binary(max_size=40), st.none(), st.integers()), max_size=70),
)


@settings(max_examples=300, deadline=None)
@given(GARBAGE, GARBAGE, GARBAGE, GARBAGE, GARBAGE)
def test_verifiers_never_raise(a: object, b: object, c: object, d: object, e: object) -> None:
    """Both verifiers answer False, not an exception, to arbitrary malformed input."""
    assert verify_inclusion(a, b, c, d, e) is False  # type: ignore[arg-type]
    assert verify_consistency(a, b, c, d, e) is False  # type: ignore[arg-type]


def test_verifiers_refuse_bad_shapes_of_a_valid_proof() -> None:
    """A valid proof fails when passed as bytes, with bool sizes, or past the size limits."""
    proof = inclusion_proof(LEAVES, 0, 8)
    assert not verify_inclusion(LEAVES[0], 0, 8, b"".join(proof), ROOTS[8])  # type: ignore[arg-type]
    assert not verify_inclusion(LEAVES[0], False, 8, proof, ROOTS[8])
    assert not verify_inclusion(LEAVES[0], 0, 8, proof * 30, ROOTS[8])
    assert not verify_inclusion(LEAVES[0], 8, 8, proof, ROOTS[8])
    assert not verify_inclusion(LEAVES[0], -1, 8, proof, ROOTS[8])
    assert not verify_consistency(True, 8, ROOTS[1], ROOTS[8], proof)
    assert not verify_consistency(1, 8, ROOTS[1], ROOTS[8], proof * 50)
    assert not verify_consistency(-1, 8, ROOTS[1], ROOTS[8], proof)


# --- errors ----------------------------------------------------------------------------


def test_producers_refuse_impossible_arguments() -> None:
    """Out-of-range indexes and sizes, and leaf hashes of the wrong length, are UsageErrors."""
    bad_calls: list[Callable[[], object]] = [
        lambda: inclusion_proof(LEAVES, 8),
        lambda: inclusion_proof(LEAVES, 3, 3),
        lambda: inclusion_proof(LEAVES, 0, 9),
        lambda: inclusion_proof(LEAVES, -1),
        lambda: inclusion_proof([], 0),
        lambda: consistency_proof(LEAVES, 5, 4),
        lambda: consistency_proof(LEAVES, 1, 9),
        lambda: consistency_proof(LEAVES, -1, 4),
        lambda: root_from_leaf_hashes([LEAVES[0], b"short"]),
        lambda: root_from_leaf_hashes([LEAF_INPUTS[7]]),
        lambda: inclusion_proof([*LEAVES[:3], b"x"], 0, 4),
        lambda: CompactRange().append(b"x" * 31),
        lambda: CompactRange().append("a" * 32),  # type: ignore[arg-type]
    ]
    for call in bad_calls:
        with pytest.raises(UsageError) as caught:
            call()
        assert "\n" not in caught.value.diagnostics()


def test_prefix_proofs_ignore_later_leaves() -> None:
    """A proof for a prefix ignores leaves past it, even malformed ones."""
    padded = [*LEAVES[:5], b"not a hash"]
    assert inclusion_proof(padded, 1, 5) == INCLUSION[4][2]
    assert consistency_proof(padded, 2, 5) == CONSISTENCY[3][2]


GOOD_STATE = CompactRange(7, COMPACT[7]).to_state()


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"size": 7},
        {"nodes": GOOD_STATE["nodes"]},
        {**GOOD_STATE, "extra": 1},
        {"size": 6, "nodes": GOOD_STATE["nodes"]},
        {"size": 8, "nodes": GOOD_STATE["nodes"]},
        {"size": -1, "nodes": []},
        {"size": True, "nodes": [COMPACT[1][0].hex()]},
        {"size": 7.0, "nodes": GOOD_STATE["nodes"]},
        {"size": "7", "nodes": GOOD_STATE["nodes"]},
        {"size": 2**64, "nodes": [COMPACT[1][0].hex()]},
        {"size": 7, "nodes": "".join(GOOD_STATE["nodes"])},  # type: ignore[arg-type]
        {"size": 7, "nodes": [n.upper() for n in GOOD_STATE["nodes"]]},  # type: ignore[attr-defined]
        {"size": 1, "nodes": [COMPACT[1][0].hex()[:-2]]},
        {"size": 1, "nodes": [COMPACT[1][0].hex() + "00"]},
        {"size": 1, "nodes": [" " + COMPACT[1][0].hex()[1:]]},
        {"size": 1, "nodes": ["zz" + COMPACT[1][0].hex()[2:]]},
        {"size": 1, "nodes": [list(COMPACT[1][0])]},
        {"size": 1, "nodes": [COMPACT[1][0]]},
        {"size": 2**64 - 1, "nodes": [SOME_HASH.hex()] * 65},
        ["size", "nodes"],
        None,
    ],
)
def test_from_state_refuses_bad_state(state: object) -> None:
    """Malformed or inconsistent stored state is an IntegrityError with a one-line message."""
    with pytest.raises(IntegrityError) as caught:
        CompactRange.from_state(state)  # type: ignore[arg-type]
    assert "\n" not in caught.value.diagnostics()


def test_constructor_validates_state() -> None:
    """CompactRange(size, nodes) refuses a node count or node that does not fit the size."""
    assert CompactRange(7, COMPACT[7]).root() == ROOTS[7]
    assert CompactRange(2**64 - 1, [SOME_HASH] * 64).size == 2**64 - 1
    bad: list[tuple[int, object]] = [
        (7, COMPACT[6]),
        (4, COMPACT[7]),
        (1, [b"short"]),
        (-3, []),
        (0, b""),
    ]
    for size, nodes in bad:
        with pytest.raises(IntegrityError):
            CompactRange(size, nodes)  # type: ignore[arg-type]
