"""Proofs against signed checkpoints, as self-contained JSON bundles checkable offline.

A bundle never carries the key that checks it: ``verify_bundle`` takes the verifier key
(as ``ledger key show`` prints it) separately. Bundle format ``dangjian-ledger-proof/1``:

* inclusion (``ledger prove``, ``ledger receipt``): ``event`` (the stored event's fields:
  position, recorded_at_us, aggregate_id, version, topic, payload in base64), ``leaf_index``,
  ``checkpoint`` (the signed note), ``proof`` (hex hashes);
* consistency (``ledger prove --consistency``): ``old`` and ``new`` checkpoints, ``proof``;
* audit (``ledger audit export``): ``checkpoint`` and ``events``, each event with its
  leaf index and inclusion proof.
"""
from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.engine import Engine

from adapters.store.logreader import find_in_payloads, uuid_of
from domain.integrity.log import leaf_bytes
from domain.integrity.merkle import consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion
from domain.integrity.note import NoteError, open_note, parse_checkpoint

FORMAT = "dangjian-ledger-proof/1"


class ProofError(ValueError):
    """A proof that cannot be made, or a bundle that does not verify (reason in Chinese)."""


class TreeReader:
    """Leaves, checkpoints and events as stored, for proofs and verification."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def leaf_hashes(self, size: int) -> list[bytes]:
        rows = self._rows("SELECT leaf_hash FROM ledger_positions WHERE seq < :n ORDER BY seq", n=size)
        if len(rows) != size:
            raise ProofError(f"账本只有 {len(rows)} 个叶子，不足 {size}")
        return [bytes(r[0]) for r in rows]

    def checkpoints(self) -> list[Any]:
        return self._rows("SELECT number, size, root, recorded_at_us, reason, note FROM ledger_checkpoints "
                          "ORDER BY number")

    def checkpoint(self, number: int | None = None) -> Any:
        """The N-th checkpoint (1-based), or the latest."""
        rows = self.checkpoints()
        if not rows:
            raise ProofError("账本还没有检查点：先运行 ledger checkpoint")
        if number is None:
            return rows[-1]
        if not 1 <= number <= len(rows):
            raise ProofError(f"没有第 {number} 个检查点（共 {len(rows)} 个）")
        return rows[number - 1]

    def event_at(self, position: int) -> dict[str, Any]:
        rows = self._rows("SELECT e.id, p.seq, p.recorded_at_us, e.originator_id, e.originator_version, e.topic, "
                          "e.state FROM ledger_events e JOIN ledger_positions p ON p.position = e.id "
                          "WHERE e.id = :p", p=position)
        if not rows:
            raise ProofError(f"日志中没有位置 {position}")
        pos, seq, at, agg, ver, topic, state = rows[0]
        return {"position": pos, "leaf_index": seq, "recorded_at_us": at, "aggregate_id": str(uuid_of(agg)),
                "version": ver, "topic": topic, "payload": base64.b64encode(bytes(state)).decode()}

    def opening_payload(self, aggregate_id: str) -> dict[str, Any] | None:
        """The decoded payload of an aggregate's first event (version 1), or None."""
        import orjson
        agg = UUID(aggregate_id)
        rows = self._rows("SELECT state FROM ledger_events WHERE originator_id = :a AND originator_version = 1",
                          a=agg.bytes if self.engine.dialect.name == "sqlite" else str(agg))
        if not rows:
            return None
        try:
            loaded = orjson.loads(bytes(rows[0][0]))
        except orjson.JSONDecodeError:
            return None
        return loaded if isinstance(loaded, dict) else None

    def positions_between(self, first: int, last: int) -> list[int]:
        return [int(r[0]) for r in self._rows(
            "SELECT position FROM ledger_positions WHERE position BETWEEN :a AND :b ORDER BY position", a=first, b=last)]

    def position_of_entry(self, entry_id: str) -> int:
        """The position of the ``ScoreRecorded`` event of an entry id."""
        found = find_in_payloads(self.engine, "AssessmentMonth.ScoreRecorded", UUID(entry_id))
        if found is None:
            raise ProofError(f"没有编号为 {entry_id} 的分值条目")
        return found[0]


def event_leaf(event: dict[str, Any]) -> bytes:
    """The leaf hash of an event as a bundle carries it."""
    return leaf_hash(leaf_bytes(int(event["position"]), int(event["recorded_at_us"]), UUID(event["aggregate_id"]),
                                int(event["version"]), event["topic"], base64.b64decode(event["payload"])))


def inclusion_bundle(reader: TreeReader, position: int, checkpoint: int | None = None) -> dict[str, Any]:
    cp = reader.checkpoint(checkpoint)
    event = reader.event_at(position)
    index = event.pop("leaf_index")
    if index >= cp.size:
        raise ProofError(f"位置 {position} 在第 {cp.number} 个检查点之后记录，尚未被任何检查点覆盖；"
                         "先运行 ledger checkpoint")
    leaves = reader.leaf_hashes(cp.size)
    proof = inclusion_proof(index, cp.size, leaves.__getitem__)
    return {"format": FORMAT, "kind": "inclusion", "event": event, "leaf_index": index,
            "checkpoint": cp.note, "proof": [h.hex() for h in proof]}


def attach_inclusion_proofs(engine: Engine, data: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Give each entry (a dict with ``position``) its leaf index and inclusion proof in the
    latest checkpoint, named once in ``data["checkpoint"]``. Raises :class:`ProofError` if an
    entry is not yet covered by a checkpoint."""
    reader = TreeReader(engine)
    for entry in entries:
        bundle = inclusion_bundle(reader, entry["position"])
        entry["proof"] = {"leaf_index": bundle["leaf_index"], "hashes": bundle["proof"]}
        data["checkpoint"] = bundle["checkpoint"]


def consistency_bundle(reader: TreeReader, old: int, new: int | None = None) -> dict[str, Any]:
    a, b = reader.checkpoint(old), reader.checkpoint(new)
    if a.size > b.size:
        raise ProofError("旧检查点的树比新检查点大")
    leaves = reader.leaf_hashes(b.size)
    proof = consistency_proof(a.size, b.size, leaves.__getitem__) if a.size else []
    return {"format": FORMAT, "kind": "consistency", "old": a.note, "new": b.note,
            "proof": [h.hex() for h in proof]}


def audit_bundle(reader: TreeReader, first: int, last: int, checkpoint: int | None = None) -> dict[str, Any]:
    """Every event with position in [first, last] covered by the checkpoint, each with its
    inclusion proof (``ledger audit export``)."""
    cp = reader.checkpoint(checkpoint)
    leaves = reader.leaf_hashes(cp.size)
    items = []
    for position in reader.positions_between(first, last):
        event = reader.event_at(position)
        index = event.pop("leaf_index")
        if index >= cp.size:
            break
        items.append({"event": event, "leaf_index": index, "leaf_hash": leaves[index].hex(),
                      "proof": [h.hex() for h in inclusion_proof(index, cp.size, leaves.__getitem__)]})
    return {"format": FORMAT, "kind": "audit", "from": first, "to": last, "checkpoint": cp.note, "events": items}


def _open_checkpoint(note: str, vkey: str) -> tuple[int, bytes, list[str]]:
    try:
        body, signers = open_note(note, [vkey])
        cp = parse_checkpoint(body)
    except NoteError as e:
        raise ProofError(f"检查点签名或格式无效：{e}") from None
    return cp.size, cp.root, signers


def verify_bundle(bundle: dict[str, Any], vkey: str) -> str:
    """Check a bundle with only the given verifier key; returns a sentence saying what holds,
    raises :class:`ProofError` saying what does not."""
    if bundle.get("format") != FORMAT:
        raise ProofError("不是本账本的证明文件")
    try:
        proof = [bytes.fromhex(h) for h in bundle.get("proof", [])]
        if bundle["kind"] == "inclusion":
            size, root, signers = _open_checkpoint(bundle["checkpoint"], vkey)
            leaf = event_leaf(bundle["event"])
            if not verify_inclusion(leaf, int(bundle["leaf_index"]), size, proof, root):
                raise ProofError(f"包含证明不成立：位置 {bundle['event']['position']} 的事件不在该检查点的树中")
            return (f"成立：位置 {bundle['event']['position']} 的事件（叶子 {bundle['leaf_index']}）包含在"
                    f"大小为 {size} 的树中，检查点由 {', '.join(signers)} 签名")
        if bundle["kind"] == "audit":
            size, root, signers = _open_checkpoint(bundle["checkpoint"], vkey)
            for item in bundle["events"]:
                leaf = event_leaf(item["event"])
                if not verify_inclusion(leaf, int(item["leaf_index"]), size,
                                        [bytes.fromhex(h) for h in item["proof"]], root):
                    raise ProofError(f"位置 {item['event']['position']} 的事件不在检查点的树中（或已被改动）")
            return (f"成立：{len(bundle['events'])} 个事件（位置 {bundle['from']}–{bundle['to']}）均包含在大小为 "
                    f"{size} 的树中，检查点由 {', '.join(signers)} 签名")
        if bundle["kind"] == "consistency":
            old_size, old_root, _ = _open_checkpoint(bundle["old"], vkey)
            new_size, new_root, signers = _open_checkpoint(bundle["new"], vkey)
            if not verify_consistency(old_size, new_size, old_root, new_root, proof):
                raise ProofError(f"一致性证明不成立：大小 {old_size} 的树不是大小 {new_size} 的树的前缀")
            return f"成立：大小 {old_size} 的树是大小 {new_size} 的树的前缀（只追加，未改写），签名：{', '.join(signers)}"
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, ProofError):
            raise
        raise ProofError(f"证明文件格式错误：{e}") from None
    raise ProofError(f"未知的证明类型 {bundle.get('kind')!r}")
