"""``ledger verify --against FILE…`` and ``--require-witness NAME``: checks that catch an
operator who holds the signing key and re-signs a rewritten log.

* against: each checkpoint as published (a signed note, opened with the trusted keys) must
  still be in the log — the root of the leaves recomputed from the stored events at that
  size equals the published root;
* require-witness: from the checkpoint enrolling witness NAME (``ledger witness enroll``: a
  ledger-signed checkpoint with the line ``witness <verifier key>``) on, every checkpoint
  carries a cosignature by that witness's key.

Problems are ``adapters.integrity.verify.Problem`` rows, added to its report.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from adapters.integrity.verify import PROBLEM_NAMES, Problem
from adapters.store.logreader import uuid_of
from domain.integrity.log import leaf_bytes
from domain.integrity.merkle import CompactRange, leaf_hash
from domain.integrity.note import NoteError, open_note, parse_checkpoint, parse_verifier_key

PROBLEM_NAMES.update({
    "published_checkpoint_missing": "已公布的检查点不在日志中（日志被截断）",
    "published_checkpoint_mismatch": "已公布的检查点与日志重算不符（历史被改写）",
    "published_checkpoint_unreadable": "已公布的检查点无法核验",
    "witness_not_enrolled": "见证方未登记",
    "witness_missing": "检查点缺少见证方会签",
})
ENROLL_PREFIX = "witness "


def _recomputed_roots(engine: Engine, sizes: set[int]) -> tuple[dict[int, bytes], int]:
    """Roots at the given sizes of the tree of leaves recomputed from the stored events (an
    event that is missing ends the recomputation: no root beyond it); and the leaves counted."""
    sql = ("SELECT p.position, p.recorded_at_us, e.originator_id, e.originator_version, e.topic, e.state "
           "FROM ledger_positions p LEFT JOIN ledger_events e ON e.id = p.position ORDER BY p.seq")
    tree, roots = CompactRange(), {}
    if 0 in sizes:
        roots[0] = tree.root()
    biggest = max(sizes, default=0)
    with engine.connect() as conn:
        for position, at, agg, version, topic, state in conn.execute(text(sql)):
            if tree.size >= biggest or state is None:
                break
            tree.append(leaf_hash(leaf_bytes(position, at, uuid_of(agg), version, topic, bytes(state))))
            if tree.size in sizes:
                roots[tree.size] = tree.root()
    return roots, tree.size


def check_against(engine: Engine, published: list[tuple[str, str]], keys: list[str]) -> list[Problem]:
    """``published``: (file name, signed note) pairs. Precondition: ``keys`` are the log's
    trusted verifier keys."""
    problems: list[Problem] = []
    opened: list[tuple[str, Any]] = []
    for name, note in published:
        try:
            body, _ = open_note(note, keys)
            opened.append((name, parse_checkpoint(body)))
        except NoteError as e:
            problems.append(Problem("published_checkpoint_unreadable", None, f"{name}：{e}"))
    roots, counted = _recomputed_roots(engine, {cp.size for _, cp in opened})
    for name, cp in opened:
        if cp.size not in roots:
            problems.append(Problem("published_checkpoint_missing", None,
                                    f"{name}：公布时覆盖 {cp.size} 个事件，日志现在只能重算出 {counted} 个"))
        elif roots[cp.size] != cp.root:
            problems.append(Problem("published_checkpoint_mismatch", None,
                                    f"{name}：日志前 {cp.size} 个事件重算的根与公布的根不同"))
    return problems


def check_witness(engine: Engine, name: str, witness_keys: list[str], keys: list[str]) -> list[Problem]:
    """Every checkpoint from witness ``name``'s enrolment on carries its cosignature.
    ``witness_keys``: keys given by the caller (those named ``name`` are used; without one,
    the key in the enrolling checkpoint)."""
    given = [k for k in witness_keys if _key_name(k) == name]
    with engine.connect() as conn:
        checkpoints = list(conn.execute(text("SELECT number, size, note FROM ledger_checkpoints ORDER BY number")))
        cosigned = list(conn.execute(text("SELECT checkpoint, note FROM ledger_cosignatures ORDER BY id")))
    trusted, enrolled, problems = list(keys), None, []
    for number, size, note in checkpoints:
        try:
            body, _ = open_note(note, trusted)
            cp = parse_checkpoint(body)
        except NoteError:
            continue  # reported by verify itself (signature_bad)
        for line in cp.extensions:
            if line.startswith("new-key "):
                trusted.append(line.removeprefix("new-key "))
            if enrolled is None and line.startswith(ENROLL_PREFIX) and _key_name(line[len(ENROLL_PREFIX):]) == name:
                enrolled = (number, given or [line[len(ENROLL_PREFIX):]])
        if enrolled is None:
            continue
        if not any(n == number and _signed_by(c, body, enrolled[1], name) for n, c in cosigned):
            problems.append(Problem("witness_missing", None,
                                    f"第 {number} 个检查点（大小 {size}）没有见证方 {name} 的有效会签"))
    if enrolled is None:
        problems.append(Problem("witness_not_enrolled", None,
                                f"日志中没有登记见证方 {name} 的检查点（ledger witness enroll）"))
    return problems


def _key_name(vkey: str) -> str | None:
    try:
        return parse_verifier_key(vkey.strip()).name
    except NoteError:
        return None


def _signed_by(note: str, body: str, keys: list[str], name: str) -> bool:
    try:
        opened, signers = open_note(note, keys)
    except NoteError:
        return False
    return opened == body and name in signers


def consistency_from_published(reader: Any, old_note: str, new: int | None) -> dict[str, Any]:
    """A consistency bundle from a published checkpoint (signed note text, as the auditor
    holds it) to checkpoint ``new`` (latest if None). Raises ``ProofError`` when the log no
    longer holds that tree: fewer leaves, or another root at that size."""
    from adapters.store.proofs import ProofError
    from domain.integrity.merkle import consistency_proof, root_from_leaves
    try:
        old = parse_checkpoint(old_note.split("\n\n")[0] + "\n")
    except NoteError as e:
        raise ProofError(f"OLD 不是签名检查点：{e}") from None
    b = reader.checkpoint(new)
    if old.size > b.size:
        raise ProofError(f"已公布的检查点覆盖 {old.size} 个事件，账本的检查点只覆盖 {b.size} 个：日志被截断")
    leaves = reader.leaf_hashes(b.size)
    if root_from_leaves(leaves[: old.size]) != old.root:
        raise ProofError(f"账本前 {old.size} 个叶子的根与已公布的检查点不同：历史被改写")
    proof = consistency_proof(old.size, b.size, leaves.__getitem__) if old.size else []
    return {"format": "dangjian-ledger-proof/1", "kind": "consistency", "old": old_note, "new": b.note,
            "proof": [h.hex() for h in proof]}
