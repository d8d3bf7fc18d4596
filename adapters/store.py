"""Persistence: the ``eventsourcing`` library's SQLAlchemy recorder, extended.

``LedgerRecorder`` writes the library's stored events (its mapper and transcoder made
them) and, in the same transaction and under the same write lock:

* one row per event in ``ledger_positions``: ``position`` (the notification id), ``seq``
  (0-based, gap-free: PostgreSQL ids can skip after a rollback), and ``recorded_at_us``
  (UTC microseconds from the database clock read after the lock is taken, never earlier
  than the previous row's);
* the import keys of the command (``ledger_import_keys``; a duplicate is a primary-key
  violation, so two concurrent imports of the same line cannot both land).

Events are inserted through the driver a page at a time (psycopg2 ``execute_values`` with
RETURNING; SQLite ``executemany``) instead of one ORM object per event: the bulk path.
"""
from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session

try:  # psycopg2's page-at-a-time VALUES insert; only used on PostgreSQL
    from psycopg2.extras import execute_values
except ImportError:  # pragma: no cover - psycopg2-binary is a core dependency
    execute_values = None

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
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            ids = self._insert_rows(cursor, stored_events)
            # The write lock is held from here on (PostgreSQL: the table lock; SQLite: the
            # database write lock taken by the insert above), so reading the last position
            # row and the clock now is serialized with every other writer.
            cursor.execute("SELECT seq, recorded_at_us FROM ledger_positions ORDER BY seq DESC LIMIT 1")
            last = cursor.fetchone()
            cursor.execute(f"SELECT {_CLOCK[self.dialect]}")
            now = cursor.fetchone()[0]
            seq0 = -1 if last is None else last[0]
            at = now if last is None else max(now, last[1])
            positions = [(i, seq0 + 1 + n, at) for n, i in enumerate(ids)]
            keys = list(kwargs.get("import_keys") or [])
            if self.dialect == "postgresql":
                execute_values(cursor, "INSERT INTO ledger_positions (position, seq, recorded_at_us) VALUES %s",
                               positions, page_size=5000)
                if keys:
                    execute_values(cursor, "INSERT INTO ledger_import_keys (key, digest, op, ref) VALUES %s",
                                   keys, page_size=5000)
            else:
                cursor.executemany("INSERT INTO ledger_positions (position, seq, recorded_at_us) VALUES (?, ?, ?)",
                                   positions)
                if keys:
                    cursor.executemany("INSERT INTO ledger_import_keys (key, digest, op, ref) VALUES (?, ?, ?, ?)",
                                       keys)
        except self._driver_integrity_errors() as e:
            raise IntegrityError(e) from e
        finally:
            cursor.close()
        self._notify_channel(session)
        return ids

    def _insert_rows(self, cursor: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Insert the events with one statement per page (the bulk path); their ids in order."""
        sql = "INSERT INTO ledger_events (originator_id, originator_version, topic, state) VALUES "
        if self.dialect == "postgresql":
            rows = [(str(e.originator_id), e.originator_version, e.topic, e.state) for e in stored_events]
            returned = execute_values(cursor, sql + "%s RETURNING id, originator_id, originator_version",
                                      rows, page_size=5000, fetch=True)
            by_key = {(str(agg), ver): i for i, agg, ver in returned}
            return [by_key[(r[0], r[1])] for r in rows]
        rows = [(e.originator_id.bytes, e.originator_version, e.topic, e.state) for e in stored_events]  # type: ignore[union-attr]
        cursor.executemany(sql + "(?, ?, ?, ?)", rows)
        # SQLite: one writer at a time, and a rowid table without AUTOINCREMENT gives each
        # new row max(rowid) + 1, so the ids of one executemany are consecutive.
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
        return list(range(last - len(rows) + 1, last + 1))

    def _driver_integrity_errors(self) -> tuple[type[Exception], ...]:
        if self.dialect == "postgresql":
            import psycopg2
            return (psycopg2.IntegrityError,)
        import sqlite3
        return (sqlite3.IntegrityError,)

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
