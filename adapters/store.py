"""Persistence: the ``eventsourcing`` library's SQLAlchemy recorder, extended.

``LedgerRecorder`` writes the library's stored events (its mapper and transcoder made
them) and, in the same transaction and under the same write lock:

* one row per event in ``ledger_positions``: ``position`` (the notification id), ``seq``
  (0-based, gap-free: PostgreSQL ids can skip after a rollback), and ``recorded_at_us``
  (UTC microseconds from the database clock read after the lock is taken, never earlier
  than the previous row's);
* the import keys of the command (``ledger_import_keys``; a duplicate is a primary-key
  violation, so two concurrent imports of the same line cannot both land).

Events are inserted with one executemany (SQLAlchemy "insertmanyvalues" with RETURNING)
instead of one ORM object per event: that is the bulk path.
"""
from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from uuid import UUID

from sqlalchemy import (BigInteger, Column, Index, Integer, MetaData, String, Table, insert,
                        literal_column, select, text)
from sqlalchemy.orm import Session

METADATA = MetaData()
BIGINT = BigInteger().with_variant(Integer(), "sqlite")

POSITIONS = Table(
    "ledger_positions", METADATA,
    Column("position", BIGINT, primary_key=True, autoincrement=False),
    Column("seq", BIGINT, nullable=False, unique=True),
    Column("recorded_at_us", BIGINT, nullable=False),
    Index("ledger_positions_recorded_at", "recorded_at_us"),
)
IMPORT_KEYS = Table(
    "ledger_import_keys", METADATA,
    Column("key", String(2000), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("op", String(64), nullable=False),
    Column("ref", String(64), nullable=False),
)

_CLOCK = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
}


class LedgerRecorder(SQLAlchemyApplicationRecorder):
    """Application recorder that also keeps positions, recorded-at times and keys."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tables.extend([POSITIONS, IMPORT_KEYS])
        assert self.datastore.engine is not None
        self.dialect = self.datastore.engine.dialect.name
        self.events_table = self.events_record_cls.__table__

    def create_table(self) -> None:
        super().create_table()
        assert self.datastore.engine is not None
        METADATA.create_all(self.datastore.engine, checkfirst=True)

    def _insert_stored_events(self, session: Session, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> Sequence[int]:
        """Precondition: called inside the write transaction (the library's)."""
        if not stored_events:
            return []
        self._lock_table(session)
        table = self.events_table
        rows = [{"originator_id": e.originator_id, "originator_version": e.originator_version,
                 "topic": e.topic, "state": e.state} for e in stored_events]
        # RETURNING without sort_by_parameter_order keeps SQLAlchemy's batched
        # "insertmanyvalues" (with it, SQLite falls back to one statement per row), so
        # the ids are matched back to the events by (aggregate id, version).
        raw_id = literal_column("originator_id")  # unprocessed: bytes on SQLite, str on PostgreSQL
        result = session.execute(
            insert(table).returning(table.c.id, raw_id, table.c.originator_version), rows)
        by_key = {(_raw_uuid(agg), ver): i for i, agg, ver in result}
        ids = [by_key[(e.originator_id, e.originator_version)] for e in stored_events]
        # The write lock is held from here on (PostgreSQL: the table lock; SQLite: the
        # database write lock taken by the insert above), so reading the last position row
        # and the clock now is serialized with every other writer.
        last = session.execute(text(
            "SELECT seq, recorded_at_us FROM ledger_positions ORDER BY seq DESC LIMIT 1")).first()
        now = session.execute(text(f"SELECT {_CLOCK[self.dialect]}")).scalar_one()
        seq0 = -1 if last is None else last[0]
        at = now if last is None else max(now, last[1])
        session.execute(insert(POSITIONS), [
            {"position": i, "seq": seq0 + 1 + n, "recorded_at_us": at} for n, i in enumerate(ids)])
        keys = kwargs.get("import_keys") or []
        if keys:
            session.execute(insert(IMPORT_KEYS), [
                {"key": k, "digest": d, "op": op, "ref": ref} for k, d, op, ref in keys])
        self._notify_channel(session)
        return ids

    def lookup_keys(self, keys: list[str]) -> dict[str, str]:
        """Digest of each given key already in the ledger."""
        found: dict[str, str] = {}
        if not keys:
            return found
        with self.transaction(commit=False) as session:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                q = select(IMPORT_KEYS.c.key, IMPORT_KEYS.c.digest).where(IMPORT_KEYS.c.key.in_(chunk))
                found.update({k: d for k, d in session.execute(q)})
        return found


_uuids: dict[Any, UUID] = {}


def _raw_uuid(raw: Any) -> UUID:
    """A stored originator id as returned raw by the driver, as a UUID (memoized: few
    aggregates, many events)."""
    value = _uuids.get(raw)
    if value is None:
        if len(_uuids) > 100_000:
            _uuids.clear()
        value = _uuids[raw] = UUID(bytes=raw) if isinstance(raw, bytes) else UUID(str(raw))
    return value


class Factory(SQLAlchemyFactory):
    """``PERSISTENCE_MODULE=adapters.store``: the library's SQLAlchemy factory with the
    ledger's recorder, and a SQLite busy timeout long enough for a batch import."""

    application_recorder_class = LedgerRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        engine = self.datastore.engine
        if engine is not None and engine.dialect.name == "sqlite":
            url = str(engine.url)
            self.datastore = self.datastore_class(
                url=url, connect_args={"timeout": 60, "check_same_thread": False})
