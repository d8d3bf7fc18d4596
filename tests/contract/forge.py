"""What a writer may append without rewriting anything (issue 19.1 and 19.3): an event of its
own making, with a correct leaf hash, position row and tree row — the INSERTs the
least-privilege writer role (``ledger writer-role``) is granted on ``ledger_events``,
``ledger_positions`` and ``ledger_tree``. No trigger is dropped: every statement is an INSERT.
Helpers for the tamper cases of tests/contract/test_tamper.py."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import text

from adapters.store.logreader import uuid_of
from domain.integrity.log import leaf_bytes
from domain.integrity.merkle import CompactRange, leaf_hash


def payload_of(conn: Any, position: int) -> dict[str, Any]:
    """The stored payload at ``position`` as JSON (typed values still tagged)."""
    state = conn.execute(text("SELECT state FROM ledger_events WHERE id = :p"), {"p": position}).scalar()
    loaded: dict[str, Any] = orjson.loads(bytes(state))
    return loaded


def aggregate_of(conn: Any, position: int) -> uuid.UUID:
    return uuid_of(conn.execute(text("SELECT originator_id FROM ledger_events WHERE id = :p"), {"p": position}).scalar())


def tagged_now() -> dict[str, str]:
    return {"_type_": "datetime_iso", "_data_": datetime.now(timezone.utc).isoformat()}


def tagged_us(at_us: int) -> dict[str, str]:
    """An event's ``timestamp`` as the transcoder stores it, at ``at_us`` (UTC µs)."""
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=at_us)
    return {"_type_": "datetime_iso", "_data_": moment.isoformat()}


def recorded_at(conn: Any, position: int) -> int:
    return int(conn.execute(text("SELECT recorded_at_us FROM ledger_positions WHERE position = :p"),
                            {"p": position}).scalar())


def append(conn: Any, aggregate_id: uuid.UUID, topic: str, state: bytes, version: int | None = None,
           recorded_at_us: int | None = None) -> int:
    """Append one event of ``aggregate_id`` (next version unless given) with ``state`` as its
    stored payload, its leaf and a tree row of the grown tree; returns its position. Its
    recorded-at is 1 µs after the last one's (as the recorder's), or ``recorded_at_us``."""
    dialect = conn.dialect.name
    if version is None:
        stored_id: Any = str(aggregate_id) if dialect == "postgresql" else aggregate_id.bytes
        version = int(conn.execute(text("SELECT COALESCE(MAX(originator_version), 0) FROM ledger_events "
                                        "WHERE originator_id = :a"), {"a": stored_id}).scalar()) + 1
    agg_param: Any = str(aggregate_id) if dialect == "postgresql" else aggregate_id.bytes
    position = int(conn.execute(text(
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state) VALUES (:a, :v, :t, :s) "
        "RETURNING id"), {"a": agg_param, "v": version, "t": topic, "s": state}).scalar())
    seq, at = conn.execute(text("SELECT seq, recorded_at_us FROM ledger_positions ORDER BY seq DESC LIMIT 1")).one()
    at = int(at) + 1 if recorded_at_us is None else recorded_at_us
    h = leaf_hash(leaf_bytes(position, at, aggregate_id, version, topic, state))
    conn.execute(text("INSERT INTO ledger_positions (position, seq, recorded_at_us, leaf_hash) VALUES (:p, :q, :r, :h)"),
                 {"p": position, "q": int(seq) + 1, "r": at, "h": h})
    size, compact = conn.execute(text("SELECT size, compact FROM ledger_tree ORDER BY size DESC LIMIT 1")).one()
    tree = CompactRange.from_bytes(bytes(compact))
    assert tree.size == int(seq) + 1 == size, "the forger extends the tree as the recorder does"
    tree.append(h)
    conn.execute(text("INSERT INTO ledger_tree (size, compact) VALUES (:n, :c)"), {"n": tree.size, "c": tree.to_bytes()})
    return position


def forge_like(conn: Any, model_position: int, **changes: Any) -> int:
    """Append an event like the one at ``model_position`` (same aggregate and topic, next
    version), its payload fields replaced by ``changes`` (``entry_id`` fresh unless given;
    ``recorded_at_us``: the position row's recorded-at instead of the recorder's)."""
    recorded_at_us = changes.pop("recorded_at_us", None)
    payload = payload_of(conn, model_position)
    topic = conn.execute(text("SELECT topic FROM ledger_events WHERE id = :p"), {"p": model_position}).scalar()
    payload["timestamp"] = tagged_now()
    if "entry_id" in payload:
        payload["entry_id"] = {"_type_": "uuid_hex", "_data_": uuid.uuid4().hex}
    payload.update(changes)
    aggregate = changes.pop("aggregate", None) or aggregate_of(conn, model_position)
    payload.pop("aggregate", None)
    return append(conn, aggregate, topic, orjson.dumps(payload), recorded_at_us=recorded_at_us)
