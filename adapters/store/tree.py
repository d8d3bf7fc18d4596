"""The Merkle tree beside the log, maintained in the write transaction.

Tables (append-only; on PostgreSQL and SQLite triggers refuse UPDATE and DELETE):

* ``ledger_positions``: one row per event — ``seq`` (the 0-based, gap-free leaf index),
  ``position`` (the event's notification id), ``recorded_at_us`` and ``leaf_hash``;
* ``ledger_tree``: after every write transaction, the tree size and its compact range
  (the O(log n) right-border subtree roots), from which the root follows;
* ``ledger_checkpoints``: signed checkpoints (C2SP tlog-checkpoint in a signed note);
* ``ledger_cosignatures``: a checkpoint's note with a witness's signature added.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Column, Index, LargeBinary, MetaData, String, Table, Text

from adapters.store.columns import BIGINT
from domain.integrity.log import leaf_bytes
from domain.integrity.merkle import CompactRange, leaf_hash
from domain.integrity.note import Signer, format_checkpoint, generate_key, load_signer, sign_note

METADATA = MetaData()

POSITIONS = Table(
    "ledger_positions", METADATA,
    Column("position", BIGINT, primary_key=True, autoincrement=False),
    Column("seq", BIGINT, nullable=False, unique=True),
    Column("recorded_at_us", BIGINT, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Index("ledger_positions_recorded_at", "recorded_at_us"),
)
TREE = Table(
    "ledger_tree", METADATA,
    Column("size", BIGINT, primary_key=True, autoincrement=False),
    Column("compact", LargeBinary, nullable=False),
)
CHECKPOINTS = Table(
    "ledger_checkpoints", METADATA,
    Column("number", BIGINT, primary_key=True, autoincrement=False),
    Column("size", BIGINT, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("recorded_at_us", BIGINT, nullable=False),
    Column("reason", Text, nullable=False),
    Column("note", Text, nullable=False),
)
COSIGNATURES = Table(
    "ledger_cosignatures", METADATA,
    Column("id", BIGINT, primary_key=True, autoincrement=True),
    Column("checkpoint", BIGINT, nullable=False),
    Column("signer", String(200), nullable=False),
    Column("note", Text, nullable=False),
)
SECURITY_LOG = Table(  # refusals (adapters/security.py): not part of the ledger's log or tree
    "ledger_security_log", METADATA,
    Column("id", BIGINT, primary_key=True, autoincrement=True),
    Column("at_us", BIGINT, nullable=False),
    Column("user_id", String(200), nullable=True),
    Column("op", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ledger_security_log_user_at", "user_id", "at_us"),
)
APPEND_ONLY = ("ledger_events", "ledger_positions", "ledger_tree", "ledger_checkpoints",
               "ledger_cosignatures", "ledger_import_keys", "ledger_security_log")

DEFAULT_ORIGIN = "dangjian-ledger"
DEFAULT_KEY_FILE = "ledger-signing.key"


def origin() -> str:
    """The log's name on its checkpoints (``LEDGER_ORIGIN``), also its key's name."""
    return os.environ.get("LEDGER_ORIGIN") or DEFAULT_ORIGIN


def key_path() -> Path:
    return Path(os.environ.get("LEDGER_SIGNING_KEY") or DEFAULT_KEY_FILE)


def load_or_create_signer(path: Path | None = None, name: str | None = None) -> Signer:
    """An Ed25519 key (PEM, PKCS#8), generated if absent with mode 0600. Only ``ledger init``
    (the ledger's key), ``ledger key generate`` and ``ledger key rotate`` (a new key file)
    create keys; everything else uses :func:`load_existing_signer`."""
    path = path or key_path()
    name = name or origin()
    if not path.exists():
        pem, _ = generate_key(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    return load_signer(path.read_bytes(), name)


def load_existing_signer(path: Path | None = None, name: str | None = None) -> Signer:
    """The ledger's signing key from ``LEDGER_SIGNING_KEY`` (default ``ledger-signing.key``
    in the working directory); never creates one. Raises :class:`NotInitialized` (field
    ``LEDGER_SIGNING_KEY``) naming the file when it is missing or unreadable."""
    from domain.errors import NotInitialized
    from domain.integrity.note import NoteError
    path = path or key_path()
    if not path.is_file():
        raise NotInitialized(f"找不到账本签名私钥 {path.resolve()}：请设置 LEDGER_SIGNING_KEY 指向账本的私钥文件"
                             "（由 ledger init 生成）", "LEDGER_SIGNING_KEY")
    try:
        return load_signer(path.read_bytes(), name or origin())
    except (OSError, ValueError, NoteError) as e:
        raise NotInitialized(f"无法读取签名私钥 {path}：{e}", "LEDGER_SIGNING_KEY") from None


@dataclass
class Head:
    """The log's end as read under the write lock."""

    seq: int  # last leaf index (-1: empty)
    recorded_at_us: int  # last recorded-at, or the clock when empty
    compact: CompactRange
    checkpoints: int  # number of checkpoints so far


def next_recorded_at(head: Head, now_us: int) -> int:
    """The recorded-at of the transaction appending after ``head``: the clock, but at least
    1 µs after the previous transaction's (a clock that stands still or steps back cannot
    give two transactions one time, so "as of" a transaction's time is never ambiguous).
    Precondition: called under the write lock."""
    return now_us if head.seq < 0 else max(now_us, head.recorded_at_us + 1)


def grow(head: Head, ids: Sequence[int], now_us: int,
         events: Sequence[StoredEvent]) -> tuple[list[tuple[int, int, int, bytes]], int]:
    """Position rows ``(position, seq, recorded_at_us, leaf_hash)`` for new events, extending
    ``head.compact``; returns them and the recorded-at they share (strictly after the head's,
    see :func:`next_recorded_at`)."""
    at = next_recorded_at(head, now_us)
    rows = []
    for n, (position, e) in enumerate(zip(ids, events)):
        agg = e.originator_id if isinstance(e.originator_id, UUID) else UUID(str(e.originator_id))
        h = leaf_hash(leaf_bytes(position, at, agg, e.originator_version, e.topic, e.state))
        rows.append((position, head.seq + 1 + n, at, h))
    head.compact.extend(r[3] for r in rows)
    return rows, at


def checkpoint_row(head: Head, at: int, reason: str, signer: Signer,
                   extensions: Sequence[str] = ()) -> dict[str, Any]:
    """The next checkpoint over ``head.compact`` (already grown), signed. ``extensions``:
    extra body lines (a key rotation names the new key there)."""
    size, root = head.compact.size, head.compact.root()
    note = sign_note(format_checkpoint(signer.name, size, root, extensions), signer)
    return {"number": head.checkpoints + 1, "size": size, "root": root, "recorded_at_us": at,
            "reason": reason, "note": note}


_PG_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$
"""


# One append in one statement (PostgreSQL): what ``LedgerRecorder._append_postgresql`` does
# for a command's few events, in the server — the write lock, the head, the recorded-at
# (``next_recorded_at``), each event with its position row and leaf hash (``leaf_bytes``,
# ``leaf_hash``), the compact range grown (``CompactRange.append``), the tree row and the
# import keys — so a command costs one round trip. ``p_now``: the clock to use (tests), NULL
# for the database clock. Returns the new positions. ``tests/contract/test_score_batch.py``
# compares its rows with the Python path's; ``ledger verify`` recomputes every leaf.
APPEND_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_append(p_aggs uuid[], p_versions bigint[], p_topics text[], p_states bytea[],
                                         p_keys text[], p_digests text[], p_ops text[], p_refs text[],
                                         p_now bigint) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint; last_at bigint; now_us bigint; at bigint; compact bytea; size bigint; hashes bytea;
    ids bigint[]; pos bigint; leaf bytea; topic bytea; n bigint; len int; i int;
BEGIN
    LOCK TABLE ledger_events IN EXCLUSIVE MODE;
    SELECT p.seq, p.recorded_at_us INTO last_seq, last_at FROM ledger_positions p ORDER BY p.seq DESC LIMIT 1;
    now_us := COALESCE(p_now, CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT));
    at := CASE WHEN last_seq IS NULL THEN now_us ELSE GREATEST(now_us, last_at + 1) END;
    SELECT t.compact INTO compact FROM ledger_tree t ORDER BY t.size DESC LIMIT 1;
    IF compact IS NULL THEN
        size := 0; hashes := '\x'::bytea;
    ELSE
        size := ('x' || encode(substring(compact FROM 1 FOR 8), 'hex'))::bit(64)::bigint;
        hashes := substring(compact FROM 9);
    END IF;
    ids := ARRAY(SELECT nextval(pg_get_serial_sequence('ledger_events', 'id'))
                 FROM generate_series(1, cardinality(p_aggs)));
    FOR i IN 1 .. cardinality(p_aggs) LOOP
        pos := ids[i];
        INSERT INTO ledger_events (id, originator_id, originator_version, topic, state)
            VALUES (pos, p_aggs[i], p_versions[i], p_topics[i], p_states[i]);
        topic := convert_to(p_topics[i], 'UTF8');
        leaf := sha256('\x00'::bytea || '\x01'::bytea || int8send(pos) || int8send(at) || uuid_send(p_aggs[i])
                       || int8send(p_versions[i]) || int4send(octet_length(topic)) || topic
                       || int4send(octet_length(p_states[i])) || p_states[i]);
        INSERT INTO ledger_positions (position, seq, recorded_at_us, leaf_hash)
            VALUES (pos, COALESCE(last_seq, -1) + i, at, leaf);
        hashes := hashes || leaf;
        size := size + 1;
        n := size;
        WHILE n % 2 = 0 LOOP
            len := octet_length(hashes);
            hashes := substring(hashes FROM 1 FOR len - 64)
                      || sha256('\x01'::bytea || substring(hashes FROM len - 63 FOR 64));
            n := n / 2;
        END LOOP;
    END LOOP;
    INSERT INTO ledger_tree (size, compact) VALUES (size, int8send(size) || hashes);
    IF cardinality(p_keys) > 0 THEN
        INSERT INTO ledger_import_keys (key, digest, op, ref)
            SELECT * FROM unnest(p_keys, p_digests, p_ops, p_refs);
    END IF;
    RETURN ids;
END $$
"""


def install_append_function(engine: Any) -> None:
    """Create (or replace) :data:`APPEND_FUNCTION` on PostgreSQL; nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT pg_advisory_xact_lock(7294001)")  # one installer at a time
        cursor.execute(APPEND_FUNCTION)  # no parameters: the body's % stays as written
        cursor.close()
        raw.commit()
    finally:
        raw.close()


def install_append_only_triggers(engine: Any) -> None:
    """Triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the log's tables.

    PostgreSQL ≥ 14 (``CREATE OR REPLACE TRIGGER``). An administrator can still drop them;
    ``ledger verify`` is what catches a change made then.
    """
    from sqlalchemy import text
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7294001)"))  # one installer at a time
            conn.execute(text(_PG_TRIGGER_FUNCTION))
            for table in APPEND_ONLY:
                conn.execute(text(f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                                  f"ON {table} FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"))
                conn.execute(text(f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE "
                                  f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"))
        else:
            for table in APPEND_ONLY:
                for op in ("UPDATE", "DELETE"):
                    conn.execute(text(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"))


def writer_role_sql(role: str) -> list[str]:
    """PostgreSQL statements for a least-privilege writer role.

    The log's tables: SELECT and INSERT only, plus UPDATE on ``ledger_events`` because
    ``LOCK TABLE … IN EXCLUSIVE MODE`` (the library's write lock) requires it — the
    trigger refuses any UPDATE actually attempted. The projection tables are read models:
    full rights. The role cannot drop triggers (it owns no table).
    """
    if not role.replace("_", "").isalnum():
        raise ValueError(f"role name {role!r}: letters, digits and _ only")
    log = ", ".join(APPEND_ONLY)
    return [
        f"CREATE ROLE {role} LOGIN",
        f"GRANT SELECT, INSERT ON {log} TO {role}",
        f"GRANT UPDATE ON ledger_events TO {role}",
        f"GRANT USAGE ON SEQUENCE ledger_events_id_seq, ledger_cosignatures_id_seq, "
        f"ledger_security_log_id_seq TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ledger_view_sections, ledger_view_tracking TO {role}",
    ]
