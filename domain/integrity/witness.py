"""A witness's rule (见证规则): accept — and cosign — a log's new checkpoint only if it is
proven to extend the last one the witness holds; anything else is evidence.

Pure: checkpoints here are ``(size, root)`` already opened and checked against the log's
key by the caller (``adapters/integrity/monitor.py``); the proof is the RFC 9162 consistency proof
from the held size to the new one. Used by ``ledger monitor`` (纪检监察部), by
``ledger checkpoint cosign`` and by the group ledger (``ledger group``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from domain.integrity.merkle import verify_consistency

# Verdicts: what a new checkpoint is, compared with the one held.
FIRST = "first"  # nothing held yet: trusted on first sight (the witness pins it)
SAME = "same"  # the very checkpoint held (same size and root): nothing new
EXTENDS = "extends"  # proven: the held tree is a prefix of the new one
SPLIT_VIEW = "split_view"  # same size, another root; or the proof does not hold
ROLLBACK = "rollback"  # the new tree is smaller than the one held: history was cut
UNPROVEN = "unproven"  # bigger, but no proof was given: not accepted, not yet evidence

VERDICT_NAMES = {
    FIRST: "首次见到（记为起点）", SAME: "与已持有的检查点相同", EXTENDS: "一致：只追加，未改写",
    SPLIT_VIEW: "分叉（split view）：新检查点没有延续已持有的检查点",
    ROLLBACK: "回退：新检查点的树比已持有的小，历史被截断", UNPROVEN: "缺少一致性证明，未接受",
}
ACCEPTED = (FIRST, SAME, EXTENDS)
EVIDENCE = (SPLIT_VIEW, ROLLBACK)


@dataclass(frozen=True)
class Tree:
    """A checkpoint's tree: its size and 32-byte root."""

    size: int
    root: bytes


def judge(held: Tree | None, new: Tree, proof: Sequence[bytes] | None) -> str:
    """The verdict on ``new`` given the ``held`` checkpoint and a consistency proof from
    ``held.size`` to ``new.size`` (``None``: none was offered). Never raises on bad proofs."""
    if held is None:
        return FIRST
    if new.size < held.size:
        return ROLLBACK
    if new.size == held.size:
        return SAME if new.root == held.root else SPLIT_VIEW
    if proof is None:
        return UNPROVEN
    return EXTENDS if verify_consistency(held.size, new.size, held.root, new.root, proof) else SPLIT_VIEW


def may_cosign(verdict: str) -> bool:
    """A witness cosigns only what it has proven consistent with what it cosigned before."""
    return verdict in ACCEPTED
