"""RFC 9162 (Certificate Transparency v2) Merkle tree primitives over SHA-256.

Pure functions and one small value class; no I/O, standard library only. Every hash
is 32 ``bytes``. Leaves are addressed by zero-based index; ``D[start:end]`` below is
the half-open range of leaf hashes, ``MTH`` the Merkle Tree Hash of RFC 9162 §2.1.1.

Proof *generation* raises ``ValueError`` for impossible indices or sizes (a caller
bug). Proof *verification* never raises for bad proof data: it returns ``False``.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Sequence, TypeGuard

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
_MAX_SIZE = 2**64 - 1  # tree sizes are uint64 on the wire

LeafHashGetter = Callable[[int], bytes]
RangeHashGetter = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """Hash of a leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + bytes(left) + bytes(right)).digest()


def _is_hash(value: object) -> TypeGuard[bytes | bytearray]:
    return isinstance(value, (bytes, bytearray)) and len(value) == HASH_SIZE


def _require_hash(value: object, what: str) -> bytes:
    if not _is_hash(value):
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {value!r:.80}")
    return bytes(value)


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n``. Precondition: ``n >= 2``."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(get_leaf_hash: LeafHashGetter, start: int, end: int) -> bytes:
    """MTH(D[start:end]) computed from leaf hashes. Precondition: ``0 <= start <= end``."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return _require_hash(get_leaf_hash(start), f"leaf hash {start}")
    k = _split(n)
    return node_hash(_mth(get_leaf_hash, start, start + k), _mth(get_leaf_hash, start + k, end))


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Reference MTH (RFC 9162 §2.1.1) of a list of leaf hashes; ``EMPTY_ROOT`` if empty.

    Precondition: every element is a 32-byte leaf hash (``ValueError`` otherwise).
    O(n) time, O(log n) recursion depth.
    """
    return _mth(leaf_hashes.__getitem__, 0, len(leaf_hashes))


class CompactRange:
    """The right-border subtree roots of a tree of ``size`` leaves, ``[0, size)``.

    ``hashes`` holds one root per set bit of ``size``, biggest (leftmost) subtree
    first, so ``len(hashes) == size.bit_count()``. Enough to append leaves and compute
    the root in O(log n) space, as transparency-dev/merkle's ``compact.Range`` does.
    """

    __slots__ = ("_size", "_hashes")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        """Preconditions: ``0 <= size < 2**64``; one 32-byte hash per set bit of size."""
        roots = [_require_hash(h, "subtree root") for h in hashes]
        if not 0 <= size <= _MAX_SIZE:
            raise ValueError(f"tree size {size} is outside 0..2**64-1")
        if len(roots) != size.bit_count():
            raise ValueError(f"a tree of size {size} needs {size.bit_count()} subtree roots, got {len(roots)}")
        self._size = size
        self._hashes = roots

    @classmethod
    def from_leaves(cls, leaf_hashes: Iterable[bytes]) -> CompactRange:
        """A range holding the given 32-byte leaf hashes, in order."""
        compact = cls()
        compact.extend(leaf_hashes)
        return compact

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the subtree roots, leftmost (biggest) first."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one 32-byte leaf hash at index ``size``; amortised O(1) hashing."""
        if self._size == _MAX_SIZE:
            raise ValueError("tree size would exceed 2**64-1")
        if type(leaf_hash) is not bytes or len(leaf_hash) != HASH_SIZE:
            leaf_hash = _require_hash(leaf_hash, "leaf hash")
        hashes = self._hashes
        hashes.append(leaf_hash)
        self._size = n = self._size + 1
        sha256 = hashlib.sha256
        while not n & 1:  # each trailing zero of the new size merges two equal subtrees
            right = hashes.pop()
            hashes[-1] = sha256(b"\x01" + hashes[-1] + right).digest()  # node_hash(left, right)
            n >>= 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append each leaf hash in order."""
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """MTH of the covered leaves: fold the subtree roots from the right."""
        if not self._hashes:
            return EMPTY_ROOT
        root = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            root = node_hash(h, root)
        return root

    def to_bytes(self) -> bytes:
        """8-byte big-endian size, then the 32-byte subtree roots, leftmost first."""
        return self._size.to_bytes(8, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompactRange:
        """Inverse of ``to_bytes``; ``ValueError`` if the length does not fit the size."""
        if len(data) < 8 or (len(data) - 8) % HASH_SIZE:
            raise ValueError(f"compact range encoding has bad length {len(data)}")
        size = int.from_bytes(data[:8], "big")
        body = data[8:]
        return cls(size, [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


def _subtree_hasher(get_leaf_hash: LeafHashGetter, get_range_hash: RangeHashGetter | None) -> RangeHashGetter:
    """MTH(D[start:end]): single leaves from ``get_leaf_hash``, wider ranges from
    ``get_range_hash`` when given, else recomputed from leaf hashes."""

    def subtree(start: int, end: int) -> bytes:
        if end - start == 1:
            return _require_hash(get_leaf_hash(start), f"leaf hash {start}")
        if get_range_hash is not None:
            return _require_hash(get_range_hash(start, end), f"range hash [{start},{end})")
        return _mth(get_leaf_hash, start, end)

    return subtree


def inclusion_proof(
    index: int,
    size: int,
    get_leaf_hash: LeafHashGetter,
    get_range_hash: RangeHashGetter | None = None,
) -> list[bytes]:
    """Audit path PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, deepest sibling first.

    Preconditions: ``0 <= index < size``. ``get_leaf_hash(i)`` returns the 32-byte leaf
    hash of leaf ``i``; the optional ``get_range_hash(start, end)`` returns
    MTH(D[start:end]) for ``end - start >= 2`` (e.g. from memoised subtree roots).
    Without it every leaf but ``index`` is read once: O(size) work.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not inside a tree of size {size}")
    subtree = _subtree_hasher(get_leaf_hash, get_range_hash)
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # walk down from the root, collecting the sibling subtrees
        k = _split(end - start)
        if index < start + k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
    proof.reverse()
    return proof


def consistency_proof(
    old_size: int,
    new_size: int,
    get_leaf_hash: LeafHashGetter,
    get_range_hash: RangeHashGetter | None = None,
) -> list[bytes]:
    """Consistency proof PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1.

    Preconditions: ``0 <= old_size <= new_size``. Empty when ``old_size`` is 0 or equals
    ``new_size``. Callables as for ``inclusion_proof``.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"need 0 <= old_size <= new_size, got {old_size} and {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    subtree = _subtree_hasher(get_leaf_hash, get_range_hash)
    proof: list[bytes] = []
    m, start, end = old_size, 0, new_size
    whole_old_tree = True  # the flag b of SUBPROOF
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start, m, whole_old_tree = start + k, m - k, False
    if not whole_old_tree:
        proof.append(subtree(start, end))
    proof.reverse()
    return proof


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until LSB(fn) is set or fn is 0."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True iff ``proof`` shows leaf ``index`` with ``leaf_hash`` is in the tree
    (``size``, ``root``), per RFC 9162 §2.1.3.2. Never raises on bad proof data."""
    if not (_is_hash(leaf_hash) and _is_hash(root) and all(_is_hash(p) for p in proof)):
        return False
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True iff ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of
    (``new_size``, ``new_root``), per RFC 9162 §2.1.4.2. Size 0 requires
    ``EMPTY_ROOT``; equal sizes require equal roots; both require an empty proof."""
    if not (_is_hash(old_root) and _is_hash(new_root) and all(_is_hash(p) for p in proof)):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a complete subtree: its root is implied
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
