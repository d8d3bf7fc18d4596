"""RFC 9162 Merkle primitives: reference vectors, exhaustive small trees, tampering."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.integrity.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

# The 8-leaf tree of Certificate Transparency's and transparency-dev/merkle's tests
# (proof/verify_test.go): leaf inputs, roots of the first 1..8 leaves, known proofs.
VECTOR_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H96 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H5F = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H6B = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
HBC = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
HCA = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H0E = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
HB0 = "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"
# (zero-based leaf index, tree size, proof)
VECTOR_INCLUSION = [
    (0, 1, []),
    (0, 8, [H96, H5F, H6B]),
    (5, 8, [HBC, HCA, VECTOR_ROOTS[3]]),
    (2, 3, [VECTOR_ROOTS[1]]),
    (1, 5, [VECTOR_ROOTS[0], H5F, HBC]),
]
# (old size, new size, proof)
VECTOR_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [H96, H5F, H6B]),
    (6, 8, [H0E, HCA, VECTOR_ROOTS[3]]),
    (2, 5, [H5F, HBC]),
    (6, 7, [H0E, HB0, VECTOR_ROOTS[3]]),
]
VECTOR_HASHES = [leaf_hash(d) for d in VECTOR_LEAVES]

MAX_LEAVES = 40
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(2 * MAX_LEAVES + 2)]
ROOTS = [root_from_leaves(LEAVES[:n]) for n in range(len(LEAVES) + 1)]
LEAVES_131 = [leaf_hash(b"leaf %d" % i) for i in range(131)]


def test_hash_definitions() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert root_from_leaves([]) == EMPTY_ROOT


@pytest.mark.parametrize("n", range(1, 9))
def test_known_roots(n: int) -> None:
    assert root_from_leaves(VECTOR_HASHES[:n]).hex() == VECTOR_ROOTS[n - 1]
    assert CompactRange.from_leaves(VECTOR_HASHES[:n]).root().hex() == VECTOR_ROOTS[n - 1]


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION)
def test_known_inclusion_proofs(index: int, size: int, proof: list[str]) -> None:
    got = inclusion_proof(index, size, VECTOR_HASHES.__getitem__)
    assert [h.hex() for h in got] == proof
    root = bytes.fromhex(VECTOR_ROOTS[size - 1])
    assert verify_inclusion(VECTOR_HASHES[index], index, size, got, root)


@pytest.mark.parametrize(("old", "new", "proof"), VECTOR_CONSISTENCY)
def test_known_consistency_proofs(old: int, new: int, proof: list[str]) -> None:
    got = consistency_proof(old, new, VECTOR_HASHES.__getitem__)
    assert [h.hex() for h in got] == proof
    roots = [bytes.fromhex(r) for r in VECTOR_ROOTS]
    assert verify_consistency(old, new, roots[old - 1], roots[new - 1], got)


def test_compact_range_matches_reference_for_every_size() -> None:
    compact = CompactRange()
    assert compact.root() == EMPTY_ROOT
    for n in range(131):
        assert compact.size == n
        assert len(compact.hashes) == bin(n).count("1")
        assert compact.root() == root_from_leaves(LEAVES_131[:n]), n
        assert CompactRange.from_bytes(compact.to_bytes()) == compact
        if n < 130:
            compact.append(LEAVES_131[n])


@given(st.lists(st.binary(max_size=40), max_size=300))
def test_compact_range_property(data: list[bytes]) -> None:
    hashes = [leaf_hash(d) for d in data]
    compact = CompactRange.from_leaves(hashes)
    assert compact.root() == root_from_leaves(hashes)
    encoded = compact.to_bytes()
    assert len(encoded) == 8 + 32 * bin(len(hashes)).count("1")
    restored = CompactRange.from_bytes(encoded)
    assert restored == compact and restored.root() == compact.root()


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=200), st.data())
def test_random_proofs_verify(data: list[bytes], draw: st.DataObject) -> None:
    hashes = [leaf_hash(d) for d in data]
    size = len(hashes)
    index = draw.draw(st.integers(0, size - 1))
    old = draw.draw(st.integers(0, size))
    root = CompactRange.from_leaves(hashes).root()
    assert verify_inclusion(hashes[index], index, size, inclusion_proof(index, size, hashes.__getitem__), root)
    proof = consistency_proof(old, size, hashes.__getitem__)
    assert verify_consistency(old, size, root_from_leaves(hashes[:old]), root, proof)


def test_compact_range_rejects_bad_state() -> None:
    with pytest.raises(ValueError, match="needs 2 subtree roots"):
        CompactRange(3, [EMPTY_ROOT])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange(1, [b"short"])
    with pytest.raises(ValueError, match="bad length"):
        CompactRange.from_bytes(b"\x00" * 7)
    with pytest.raises(ValueError, match="bad length"):
        CompactRange.from_bytes(b"\x00" * 8 + b"\x01" * 31)
    with pytest.raises(ValueError, match="needs 1 subtree roots"):
        CompactRange.from_bytes((1).to_bytes(8, "big"))
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange().append(b"not a hash")


def _range_hash(start: int, end: int) -> bytes:
    return root_from_leaves(LEAVES[start:end])


def test_every_inclusion_proof_verifies() -> None:
    for size in range(1, MAX_LEAVES + 1):
        for index in range(size):
            proof = inclusion_proof(index, size, LEAVES.__getitem__)
            assert proof == inclusion_proof(index, size, LEAVES.__getitem__, _range_hash)
            assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size]), (index, size)


def test_every_consistency_proof_verifies() -> None:
    for new in range(0, MAX_LEAVES + 1):
        for old in range(0, new + 1):
            proof = consistency_proof(old, new, LEAVES.__getitem__)
            assert proof == consistency_proof(old, new, LEAVES.__getitem__, _range_hash)
            assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof), (old, new)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (-1, 3), (5, 5)])
def test_inclusion_proof_rejects_bad_index(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="not inside a tree"):
        inclusion_proof(index, size, LEAVES.__getitem__)


@pytest.mark.parametrize(("old", "new"), [(2, 1), (-1, 3), (0, -1)])
def test_consistency_proof_rejects_bad_sizes(old: int, new: int) -> None:
    with pytest.raises(ValueError, match="old_size <= new_size"):
        consistency_proof(old, new, LEAVES.__getitem__)


def test_bad_leaf_hash_from_callable_is_refused() -> None:
    with pytest.raises(ValueError, match="leaf hash 1"):
        inclusion_proof(0, 2, lambda i: b"short")


# --- tampering: each mutation, applied to every proof up to MAX_LEAVES, must fail ---


@dataclass(frozen=True)
class Inclusion:
    leaf: bytes
    index: int
    size: int
    proof: tuple[bytes, ...]
    root: bytes


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 0x10]) + h[1:]


def _each_sibling_changed(proof: tuple[bytes, ...]) -> list[tuple[bytes, ...]]:
    return [proof[:i] + (_flip(proof[i]),) + proof[i + 1 :] for i in range(len(proof))]


def _other_leaf_proof(c: Inclusion) -> list[Inclusion]:
    if c.size < 2:
        return []
    other = (c.index + 1) % c.size
    return [replace(c, proof=tuple(inclusion_proof(other, c.size, LEAVES.__getitem__)))]


# Each mutation maps a valid case to the tampered cases it yields (none if it does not apply).
INCLUSION_TAMPERS: dict[str, Callable[[Inclusion], list[Inclusion]]] = {
    "sibling_changed": lambda c: [replace(c, proof=p) for p in _each_sibling_changed(c.proof)],
    "proof_for_different_leaf": _other_leaf_proof,
    "truncated_proof": lambda c: [replace(c, proof=c.proof[:-1])] if c.proof else [],
    "extra_hash_appended": lambda c: [replace(c, proof=c.proof + (c.root,))],
    "wrong_size": lambda c: [replace(c, size=c.size * 2)],  # +-1 may keep the path shape: see below
    "wrong_root": lambda c: [replace(c, root=_flip(c.root))],
    "wrong_leaf": lambda c: [replace(c, leaf=_flip(c.leaf))],
}


@pytest.mark.parametrize("mutation", INCLUSION_TAMPERS)
def test_tampered_inclusion_fails(mutation: str) -> None:
    applied = 0
    for size in range(1, MAX_LEAVES + 1):
        for index in range(size):
            proof = tuple(inclusion_proof(index, size, LEAVES.__getitem__))
            for bad in INCLUSION_TAMPERS[mutation](Inclusion(LEAVES[index], index, size, proof, ROOTS[size])):
                applied += 1
                assert not verify_inclusion(bad.leaf, bad.index, bad.size, list(bad.proof), bad.root), (index, size)
    assert applied > 500


def test_size_is_authenticated_by_the_signed_root_not_by_the_path() -> None:
    """An audit path does not always bind the size on its own: (index 0, size 3)'s
    path also checks out as size 4 against the *size-3 root*, because both trees give
    leaf 0 the same path shape. That is why the wrong_size mutations above double the
    size (always a different shape) rather than add one. Callers must take (size,
    root) together from a verified checkpoint."""
    proof = inclusion_proof(0, 3, LEAVES.__getitem__)
    assert verify_inclusion(LEAVES[0], 0, 4, proof, ROOTS[3])
    assert not verify_inclusion(LEAVES[0], 0, 4, proof, ROOTS[4])


@dataclass(frozen=True)
class Consistency:
    old: int
    new: int
    old_root: bytes
    new_root: bytes
    proof: tuple[bytes, ...]


def _other_size_proof(c: Consistency) -> list[Consistency]:
    others = [m for m in (c.old - 1, c.old + 1) if 0 < m < c.new]
    return [replace(c, proof=tuple(consistency_proof(m, c.new, LEAVES.__getitem__))) for m in others]


CONSISTENCY_TAMPERS: dict[str, Callable[[Consistency], list[Consistency]]] = {
    "sibling_changed": lambda c: [replace(c, proof=p) for p in _each_sibling_changed(c.proof)],
    "proof_for_different_size": _other_size_proof,
    "truncated_proof": lambda c: [replace(c, proof=c.proof[:-1])],
    "extra_hash_appended": lambda c: [replace(c, proof=c.proof + (c.new_root,))],
    "old_root_prepended": lambda c: [replace(c, proof=(c.old_root,) + c.proof)],
    # new +-1 may keep the path shape, as for inclusion; old +-1 never does.
    "wrong_size": lambda c: [replace(c, old=c.old + 1), replace(c, old=c.old - 1), replace(c, new=c.new * 2)],
    "wrong_root": lambda c: [replace(c, old_root=_flip(c.old_root)), replace(c, new_root=_flip(c.new_root))],
    "roots_swapped": lambda c: [replace(c, old_root=c.new_root, new_root=c.old_root)],
}


@pytest.mark.parametrize("mutation", CONSISTENCY_TAMPERS)
def test_tampered_consistency_fails(mutation: str) -> None:
    applied = 0
    for new in range(2, MAX_LEAVES + 1):
        for old in range(1, new):
            proof = tuple(consistency_proof(old, new, LEAVES.__getitem__))
            for bad in CONSISTENCY_TAMPERS[mutation](Consistency(old, new, ROOTS[old], ROOTS[new], proof)):
                applied += 1
                assert not verify_consistency(bad.old, bad.new, bad.old_root, bad.new_root, list(bad.proof)), (
                    old,
                    new,
                    bad,
                )
    assert applied > 500


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        pytest.param(0, 0, EMPTY_ROOT, EMPTY_ROOT, [], id="both_empty"),
        pytest.param(0, 5, EMPTY_ROOT, ROOTS[5], [], id="from_empty"),
        pytest.param(3, 3, ROOTS[3], ROOTS[3], [], id="same_size"),
    ],
)
def test_trivial_consistency_holds(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> None:
    assert verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        pytest.param(0, 5, ROOTS[1], ROOTS[5], [], id="nonempty_root_for_size_0"),
        pytest.param(0, 5, EMPTY_ROOT, ROOTS[5], [EMPTY_ROOT], id="proof_from_empty"),
        pytest.param(3, 3, ROOTS[3], ROOTS[4], [], id="same_size_different_root"),
        pytest.param(3, 3, ROOTS[3], ROOTS[3], [ROOTS[3]], id="same_size_with_proof"),
        pytest.param(4, 3, ROOTS[4], ROOTS[3], [], id="shrinking"),
        pytest.param(3, 5, ROOTS[3], ROOTS[5], [], id="empty_proof"),
        pytest.param(3, 5, ROOTS[3], b"short", [], id="malformed_root"),
        pytest.param(3, 5, ROOTS[3], ROOTS[5], [b"short"], id="malformed_proof_hash"),
    ],
)
def test_degenerate_consistency_fails(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    assert not verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(
    ("leaf", "index", "size", "proof", "root"),
    [
        pytest.param(LEAVES[0], 0, 0, [], EMPTY_ROOT, id="empty_tree"),
        pytest.param(LEAVES[0], 1, 1, [], LEAVES[0], id="index_equals_size"),
        pytest.param(LEAVES[0], -1, 1, [], LEAVES[0], id="negative_index"),
        pytest.param(b"", 0, 1, [], b"", id="empty_hashes"),
        pytest.param(LEAVES[0], 0, 1, [], LEAVES[1], id="single_leaf_wrong_root"),
    ],
)
def test_degenerate_inclusion_fails(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    assert not verify_inclusion(leaf, index, size, proof, root)
