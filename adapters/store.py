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
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, create_engine, select
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


_PG_APPEND = """
LOCK TABLE ledger_events IN EXCLUSIVE MODE;
WITH ins AS (
    INSERT INTO ledger_events (originator_id, originator_version, topic, state) VALUES %s
    RETURNING id, originator_id, originator_version),
last AS (SELECT seq, recorded_at_us FROM ledger_positions ORDER BY seq DESC LIMIT 1),
base AS (SELECT COALESCE((SELECT seq FROM last), -1) AS seq0,
                GREATEST({clock}, COALESCE((SELECT recorded_at_us FROM last), 0)) AS at),
pos AS (INSERT INTO ledger_positions (position, seq, recorded_at_us)
        SELECT ins.id, base.seq0 + row_number() OVER (ORDER BY ins.id), base.at FROM ins, base)
SELECT ins.id, ins.originator_id, ins.originator_version, base.at FROM ins, base
"""


class LedgerRecorder(SQLAlchemyApplicationRecorder):
    """Application recorder that also keeps positions, recorded-at times and keys."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tables.extend([POSITIONS, IMPORT_KEYS])
        assert self.datastore.engine is not None
        self.dialect = self.datastore.engine.dialect.name
        self.events_table = self.events_record_cls.__table__
        # Reads of one aggregate's events (the cache fast-forward of every command) need no
        # transaction: an autocommit connection saves the BEGIN and ROLLBACK round trips.
        self._reader = create_engine(self.datastore.engine.url, isolation_level="AUTOCOMMIT",
                                     pool_size=2, max_overflow=8,
                                     **({"connect_args": {"timeout": 60}} if self.dialect == "sqlite" else {}))

    def dispose(self) -> None:
        """Close the connection pools (the library's and the reader's)."""
        self._reader.dispose()
        if self.datastore.engine is not None:
            self.datastore.engine.dispose()  # type: ignore[union-attr]

    def create_table(self) -> None:
        super().create_table()
        assert self.datastore.engine is not None
        METADATA.create_all(self.datastore.engine, checkfirst=True)

    def _insert_stored_events(self, session: Session, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> Sequence[int]:
        """Precondition: called inside the write transaction (the library's).

        Every event of one transaction gets the same recorded-at, so an as-of view never
        shows part of a transaction.
        """
        if not stored_events:
            return []
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.dialect == "postgresql":
                ids = self._append_postgresql(cursor, stored_events)
            else:
                ids = self._append_sqlite(cursor, stored_events)
            keys = list(kwargs.get("import_keys") or [])
            if keys and self.dialect == "postgresql":
                execute_values(cursor, "INSERT INTO ledger_import_keys (key, digest, op, ref) VALUES %s",
                               keys, page_size=5000)
            elif keys:
                cursor.executemany("INSERT INTO ledger_import_keys (key, digest, op, ref) VALUES (?, ?, ?, ?)",
                                   keys)
        except self._driver_integrity_errors() as e:
            raise IntegrityError(e) from e
        finally:
            cursor.close()
        return ids

    def _append_postgresql(self, cursor: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Lock, insert events and their position rows: one round trip per page of 5,000.

        The table lock (the library's write lock) comes first, so sequence values, position
        rows and the clock reading are in commit order; the clock is read once, by the
        first page, and reused by the others.
        """
        rows = [(str(e.originator_id), e.originator_version, e.topic, e.state) for e in stored_events]
        by_key: dict[tuple[str, int], int] = {}
        at: int | None = None
        for start in range(0, len(rows), 5000):
            page = rows[start:start + 5000]
            clock = _CLOCK["postgresql"] if at is None else str(int(at))
            sql = _PG_APPEND.replace("{clock}", clock)
            for i, agg, ver, recorded in execute_values(cursor, sql, page, page_size=len(page), fetch=True):
                by_key[(str(agg), ver)] = i
                at = recorded
        return [by_key[(r[0], r[1])] for r in rows]

    def _append_sqlite(self, cursor: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        rows = [(e.originator_id.bytes, e.originator_version, e.topic, e.state) for e in stored_events]  # type: ignore[union-attr]
        cursor.executemany("INSERT INTO ledger_events (originator_id, originator_version, topic, state) "
                           "VALUES (?, ?, ?, ?)", rows)
        # The insert took SQLite's database write lock: one writer at a time from here on,
        # and a rowid table without AUTOINCREMENT gives each new row max(rowid) + 1, so
        # the ids of one executemany are consecutive.
        cursor.execute("SELECT last_insert_rowid(), "
                       "(SELECT seq FROM ledger_positions ORDER BY seq DESC LIMIT 1), "
                       "(SELECT recorded_at_us FROM ledger_positions ORDER BY seq DESC LIMIT 1), "
                       f"{_CLOCK['sqlite']}")
        last, seq, previous, now = cursor.fetchone()
        ids = list(range(last - len(rows) + 1, last + 1))
        at = now if previous is None else max(now, previous)
        seq0 = -1 if seq is None else seq
        cursor.executemany("INSERT INTO ledger_positions (position, seq, recorded_at_us) VALUES (?, ?, ?)",
                           [(i, seq0 + 1 + n, at) for n, i in enumerate(ids)])
        return ids

    def select_events(self, originator_id: UUID | str, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> list[StoredEvent]:
        """The library's query, through the driver: the ORM query path costs more than the
        database does for the cache fast-forward every command makes.

        Precondition: not called inside a write transaction (it reads committed events on
        its own connection); the library calls it from ``repository.get`` only.
        """
        ph = "?" if self.dialect == "sqlite" else "%s"
        agg = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
        where, params = [f"originator_id = {ph}"], [agg.bytes if self.dialect == "sqlite" else str(agg)]
        if gt is not None:
            where.append(f"originator_version > {ph}")
            params.append(gt)
        if lte is not None:
            where.append(f"originator_version <= {ph}")
            params.append(lte)
        sql = (f"SELECT originator_version, topic, state FROM ledger_events WHERE {' AND '.join(where)} "
               f"ORDER BY originator_version {'DESC' if desc else 'ASC'}")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        raw = self._reader.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
        return [StoredEvent(originator_id=agg, originator_version=v, topic=t, state=bytes(s))
                for v, t, s in rows]

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
