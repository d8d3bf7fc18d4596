"""Persistence: the ``eventsourcing`` library's SQLAlchemy recorder, extended.

``LedgerRecorder`` writes the library's stored events (its mapper and transcoder made
them) and, in the same transaction and under the same write lock:

* one row per event in ``ledger_positions``: ``position`` (the notification id), ``seq``
  (0-based, gap-free: PostgreSQL ids can skip after a rollback), and ``recorded_at_us``
  (UTC microseconds from the database clock read after the lock is taken, and at least
  1 µs after the previous transaction's: strictly increasing from one transaction to the
  next, shared by the events of one; on SQLite the clock is the process's, in µs);
* the import keys of the command (``ledger_import_keys``; a duplicate is a primary-key
  violation, so two concurrent imports of the same line cannot both land).

Events are inserted through the driver a page at a time (one multi-row statement per
5,000 events on PostgreSQL, ``executemany`` on SQLite) instead of one ORM object per
event: the bulk path. The Merkle tree grows in the same transaction (``adapters/store/tree.py``).
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Sequence
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Column, MetaData, String, Table, create_engine, event, select
from sqlalchemy.orm import Session

from adapters.store.logreader import find_in_payloads, first_row
from adapters.store.tree import CHECKPOINTS, COSIGNATURES, Head, checkpoint_row, grow, load_existing_signer
from adapters.store.tree import METADATA as TREE_METADATA
from domain.integrity.merkle import CompactRange
from domain.integrity.note import Signer, add_signature

METADATA = MetaData()

IMPORT_KEYS = Table(
    "ledger_import_keys", METADATA,
    Column("key", String(2000), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("op", String(64), nullable=False),
    Column("ref", String(64), nullable=False),
)

_CLOCK = {  # the database clock in UTC µs; SQLite's own ('now') has milliseconds only
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
    "sqlite": "ledger_clock_us()",
}


def _wall_clock_us() -> int:
    """UTC µs from the system clock: SQLite runs in this process, so this is its clock."""
    return time.time_ns() // 1000


def _add_sqlite_clock(dbapi_connection: Any, _record: Any = None) -> None:
    """Give a SQLite connection ``ledger_clock_us()`` (µs; SQLite's ``julianday('now')`` is ms)."""
    dbapi_connection.create_function("ledger_clock_us", 0, _wall_clock_us)


def sqlite_clock_on(engine: Any) -> None:
    """Register :func:`_add_sqlite_clock` on every new connection of a SQLite ``engine``."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _add_sqlite_clock):
        event.listen(engine, "connect", _add_sqlite_clock)


def _head_columns(dialect: str) -> str:
    """The log's end, read under the write lock: last leaf index, last recorded-at, the
    database clock, the latest compact range, the number of checkpoints."""
    return ("(SELECT seq FROM ledger_positions ORDER BY seq DESC LIMIT 1), "
            "(SELECT recorded_at_us FROM ledger_positions ORDER BY seq DESC LIMIT 1), "
            f"{_CLOCK[dialect]}, "
            "(SELECT compact FROM ledger_tree ORDER BY size DESC LIMIT 1), "
            "(SELECT COALESCE(MAX(number), 0) FROM ledger_checkpoints)")


_PG_HEAD = ("LOCK TABLE ledger_events IN EXCLUSIVE MODE; SELECT " + _head_columns("postgresql")
            + ", ARRAY(SELECT nextval(pg_get_serial_sequence('ledger_events', 'id')) FROM generate_series(1, %s))")
_SQLITE_HEAD = "SELECT last_insert_rowid(), " + _head_columns("sqlite")
PAGE = 5000
ON_DEMAND = "on-demand"  # the reason prefix of checkpoints asked for by people (adapters/store/checkpoints.py)


def _hook_from_env() -> Callable[[str], None] | None:
    """Test hook (tests/reliability/test_reliability_*.py), off unless ``LEDGER_TEST_PAUSE`` is set.

    A write passes named points: ``begin`` (its transaction open, the write lock not yet
    taken), ``locked`` (lock held, the log's head read), ``written`` (every row inserted, not
    committed), ``committed``. ``LEDGER_TEST_PAUSE=locked`` announces ``ledger-hook locked
    <time>`` on stderr at that point and sleeps there (for a test to kill the process);
    ``LEDGER_TEST_PAUSE=trace`` announces every point and goes on.
    """
    spec = os.environ.get("LEDGER_TEST_PAUSE")
    if not spec:
        return None

    def hook(point: str) -> None:
        if spec in ("trace", point):
            sys.stderr.write(f"ledger-hook {point} {time.monotonic():.6f}\n")
            sys.stderr.flush()
        if spec == point:
            time.sleep(600)
    return hook


HOOK: Callable[[str], None] | None = _hook_from_env()  # None in production: each point costs one "is None"
# Tests only (tests/contract/test_score_batch.py): the database clock an append reads, replaced by
# this value (UTC µs), so that two ledgers given the same input store the same recorded-at
# times. None in production.
FIXED_CLOCK_US: int | None = None


class LedgerRecorder(SQLAlchemyApplicationRecorder):
    """Application recorder that also keeps positions, recorded-at times and keys."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tables.extend([IMPORT_KEYS])
        self._signer: Signer | None = None
        self._append_function = True  # PostgreSQL: ledger_append is installed (until a call finds it is not)
        assert self.datastore.engine is not None
        self.dialect = self.datastore.engine.dialect.name
        self.events_table = self.events_record_cls.__table__
        # Reads of one aggregate's events (the cache fast-forward of every command) need no
        # transaction: an autocommit connection saves the BEGIN and ROLLBACK round trips.
        if self.datastore.is_sqlite_in_memory_db:  # one connection holds the database: reads share it
            self._reader = self.datastore.engine
        else:
            self._reader = create_engine(self.datastore.engine.url, isolation_level="AUTOCOMMIT",
                                         pool_size=2, max_overflow=8,
                                         **({"connect_args": {"timeout": 60}} if self.dialect == "sqlite" else {}))
            sqlite_clock_on(self._reader)
        sqlite_clock_on(self.datastore.engine)

    def dispose(self) -> None:
        """Close the connection pools (the library's and the reader's)."""
        if self._reader is not self.datastore.engine:
            self._reader.dispose()
        if self.datastore.engine is not None:
            self.datastore.engine.dispose()  # type: ignore[union-attr]

    def create_table(self) -> None:
        super().create_table()
        assert self.datastore.engine is not None
        METADATA.create_all(self.datastore.engine, checkfirst=True)
        TREE_METADATA.create_all(self.datastore.engine, checkfirst=True)

    def _insert_stored_events(self, session: Session, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> Sequence[int]:
        """Append events, their position rows (leaf hashes), the tree's new compact range,
        the import keys and, when ``checkpoint`` names a reason, a signed checkpoint — all
        in the caller's transaction (the library's), under the write lock.

        Every event of one transaction gets the same recorded-at, so an as-of view never
        shows part of a transaction.
        """
        if not stored_events:
            return []
        if HOOK is not None:
            HOOK("begin")
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.dialect == "postgresql":
                return self._append_postgresql(cursor, stored_events, kwargs)
            return self._append_sqlite(cursor, stored_events, kwargs)
        except self._driver_integrity_errors() as e:
            raise IntegrityError(e) from e
        finally:
            cursor.close()

    def _check_guards(self, cursor: Any, guards: dict[UUID, int] | None) -> None:
        """Under the write lock: every aggregate the command read and depends on
        (``UnitOfWork.depend_on``) is still at the version it was read at; otherwise raise
        :class:`IntegrityError` (rolled back; the application retries with fresh loads)."""
        if not guards:
            return
        ids = list(guards)
        if self.dialect == "postgresql":
            cursor.execute("SELECT originator_id, MAX(originator_version) FROM ledger_events "
                           "WHERE originator_id = ANY(%s::uuid[]) GROUP BY originator_id", ([str(i) for i in ids],))
        else:
            cursor.execute("SELECT originator_id, MAX(originator_version) FROM ledger_events "
                           f"WHERE originator_id IN ({', '.join('?' * len(ids))}) GROUP BY originator_id",
                           [i.bytes for i in ids])
        now = {(i if isinstance(i, UUID) else UUID(bytes=i) if isinstance(i, bytes) else UUID(str(i))): v
               for i, v in cursor.fetchall()}
        moved = [i for i, v in guards.items() if now.get(i, 0) != v]
        if moved:
            raise IntegrityError(f"aggregates read by this command changed before it was saved: {moved}")

    def _extras(self, head: Head, at: int, kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any] | None]:
        """Import-key rows and the checkpoint row (if asked for) of one append."""
        keys = list(kwargs.get("import_keys") or [])
        reason = kwargs.get("checkpoint")
        checkpoint = checkpoint_row(head, at, reason, self.signer()) if reason else None
        return keys, checkpoint

    def _append_postgresql(self, cursor: Any, events: Sequence[StoredEvent], kwargs: dict[str, Any],
                           direct: bool = False) -> list[int]:
        """Two round trips: lock and read the head (with the new ids), then one statement
        per page of 5,000 inserting events with their position rows, the last page also
        the tree row, keys and checkpoint. ``direct`` (:meth:`_insert_direct`): the first
        also opens the transaction and the last also commits it."""
        cursor.execute(("BEGIN; " if direct else "") + _PG_HEAD, (len(events),))
        seq, last_at, now, compact, checkpoints, ids = cursor.fetchone()
        if FIXED_CLOCK_US is not None:
            now = FIXED_CLOCK_US
        self._check_guards(cursor, kwargs.get("guards"))
        head = Head(-1 if seq is None else seq, last_at or now,
                    CompactRange.from_bytes(bytes(compact)) if compact else CompactRange(), checkpoints)
        rows, at = grow(head, ids, now, events)
        keys, checkpoint = self._extras(head, at, kwargs)
        if HOOK is not None:
            HOOK("locked")
        if len(events) >= COPY_FROM:
            self._copy_postgresql(cursor, events, ids, rows, head, keys, checkpoint)
            if HOOK is not None:
                HOOK("written")
            return list(ids)
        m = cursor.mogrify
        for start in range(0, len(events), PAGE):
            page = range(start, min(start + PAGE, len(events)))
            sql = [b"INSERT INTO ledger_events (id, originator_id, originator_version, topic, state) VALUES ",
                   b",".join(m("(%s,%s,%s,%s,%s)", (ids[i], str(events[i].originator_id), events[i].originator_version,
                                                   events[i].topic, events[i].state)) for i in page),
                   b"; INSERT INTO ledger_positions (position, seq, recorded_at_us, leaf_hash) VALUES ",
                   b",".join(m("(%s,%s,%s,%s)", rows[i]) for i in page)]
            if page.stop == len(events):
                sql.append(m("; INSERT INTO ledger_tree (size, compact) VALUES (%s, %s)",
                             (head.compact.size, head.compact.to_bytes())))
                if keys:
                    sql += [b"; INSERT INTO ledger_import_keys (key, digest, op, ref) VALUES ",
                            b",".join(m("(%s,%s,%s,%s)", k) for k in keys)]
                if checkpoint:
                    sql.append(m("; INSERT INTO ledger_checkpoints (number, size, root, recorded_at_us, reason, note) "
                                 "VALUES (%(number)s, %(size)s, %(root)s, %(recorded_at_us)s, %(reason)s, %(note)s)",
                                 checkpoint))
            if direct and page.stop == len(events):
                sql.append(b"; COMMIT")
            cursor.execute(b"".join(sql))
        if HOOK is not None:
            HOOK("written")
        return list(ids)

    @staticmethod
    def _copy_postgresql(cursor: Any, events: Sequence[StoredEvent], ids: Sequence[int],
                         rows: list[tuple[int, int, int, bytes]], head: Head, keys: list[Any],
                         checkpoint: dict[str, Any] | None) -> None:
        """A large append through ``COPY … FROM STDIN`` (text format; ~2–3× the multi-row
        insert's rate): the events, their position rows and the keys, then the tree row and
        the checkpoint as statements. The same rows as the statement path, in the same
        transaction."""
        topics: dict[str, str] = {}
        lines = []
        for position, e in zip(ids, events):
            topic = topics.get(e.topic)
            if topic is None:
                topic = topics[e.topic] = copy_text(e.topic)
            lines.append(f"{position}\t{e.originator_id}\t{e.originator_version}\t{topic}\t\\\\x{e.state.hex()}\n")
        _copy(cursor, "ledger_events (id, originator_id, originator_version, topic, state)", lines)
        _copy(cursor, "ledger_positions (position, seq, recorded_at_us, leaf_hash)",
              [f"{p}\t{q}\t{at}\t\\\\x{h.hex()}\n" for p, q, at, h in rows])
        if keys:
            _copy(cursor, "ledger_import_keys (key, digest, op, ref)",
                  ["\t".join(copy_text(v) for v in k) + "\n" for k in keys])
        cursor.execute("INSERT INTO ledger_tree (size, compact) VALUES (%s, %s)",
                       (head.compact.size, head.compact.to_bytes()))
        if checkpoint:
            cursor.execute("INSERT INTO ledger_checkpoints (number, size, root, recorded_at_us, reason, note) "
                           "VALUES (%(number)s, %(size)s, %(root)s, %(recorded_at_us)s, %(reason)s, %(note)s)",
                           checkpoint)

    def _append_sqlite(self, cursor: Any, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> list[int]:
        cursor.executemany("INSERT INTO ledger_events (originator_id, originator_version, topic, state) "
                           "VALUES (?, ?, ?, ?)",
                           [(e.originator_id.bytes, e.originator_version, e.topic, e.state) for e in events])  # type: ignore[union-attr]
        # The insert took SQLite's database write lock: one writer at a time from here on,
        # and a rowid table without AUTOINCREMENT gives each new row max(rowid) + 1, so
        # the ids of one executemany are consecutive.
        cursor.execute(_SQLITE_HEAD)
        last, seq, last_at, now, compact, checkpoints = cursor.fetchone()
        if FIXED_CLOCK_US is not None:
            now = FIXED_CLOCK_US
        self._check_guards(cursor, kwargs.get("guards"))  # the guarded aggregates got none of these events
        ids = list(range(last - len(events) + 1, last + 1))
        head = Head(-1 if seq is None else seq, last_at or now,
                    CompactRange.from_bytes(bytes(compact)) if compact else CompactRange(), checkpoints)
        rows, at = grow(head, ids, now, events)
        keys, checkpoint = self._extras(head, at, kwargs)
        if HOOK is not None:
            HOOK("locked")
        cursor.executemany("INSERT INTO ledger_positions (position, seq, recorded_at_us, leaf_hash) "
                           "VALUES (?, ?, ?, ?)", rows)
        cursor.execute("INSERT INTO ledger_tree (size, compact) VALUES (?, ?)",
                       (head.compact.size, head.compact.to_bytes()))
        if keys:
            cursor.executemany("INSERT INTO ledger_import_keys (key, digest, op, ref) VALUES (?, ?, ?, ?)", keys)
        if checkpoint:
            cursor.execute("INSERT INTO ledger_checkpoints (number, size, root, recorded_at_us, reason, note) "
                           "VALUES (:number, :size, :root, :recorded_at_us, :reason, :note)", checkpoint)
        if HOOK is not None:
            HOOK("written")
        return ids

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.dialect == "postgresql" and HOOK is None and 0 < len(stored_events) < COPY_FROM \
                and kwargs.get("session") is None:
            return self._insert_direct(stored_events, kwargs)
        ids = super().insert_events(stored_events, **kwargs)
        if HOOK is not None:
            HOOK("committed")
        return ids

    def _insert_direct(self, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> list[int]:
        """A PostgreSQL append in two round trips in all (the library's session takes four:
        BEGIN, the head, the inserts, COMMIT): on a driver connection in autocommit mode,
        ``BEGIN`` travels with the lock and the head, ``COMMIT`` with the inserts — the
        same statements and rows as :meth:`_append_postgresql` in the library's transaction.
        Not taken while a test hook is set (it needs the points between the statements).
        On any error the transaction is rolled back and the driver's error raised as the
        library's (an integrity error is a lost race: the application retries)."""
        import psycopg2
        from eventsourcing import persistence as p
        raw = self.datastore.engine.raw_connection()  # type: ignore[union-attr]
        conn = raw.driver_connection
        try:
            conn.autocommit = True  # type: ignore[union-attr]
            cursor = conn.cursor()  # type: ignore[union-attr]
            try:
                if self._append_function and not kwargs.get("checkpoint") and not kwargs.get("guards"):
                    return self._append_in_server(cursor, events, kwargs)
                return self._append_postgresql(cursor, events, kwargs, direct=True)
            except BaseException as e:
                try:
                    cursor.execute("ROLLBACK")
                except psycopg2.Error:
                    raw.invalidate()  # the connection is gone: the pool must not hand it out again
                for driver, library in ((psycopg2.IntegrityError, p.IntegrityError),
                                        (psycopg2.OperationalError, p.OperationalError),
                                        (psycopg2.InterfaceError, p.InterfaceError),
                                        (psycopg2.DataError, p.DataError),
                                        (psycopg2.ProgrammingError, p.ProgrammingError),
                                        (psycopg2.InternalError, p.InternalError)):
                    if isinstance(e, driver):
                        raise library(e) from e
                raise
            finally:
                cursor.close()
        finally:
            if raw.dbapi_connection is not None:
                conn.autocommit = False  # type: ignore[union-attr]
            raw.close()

    def _append_in_server(self, cursor: Any, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> list[int]:
        """One statement, one round trip: ``ledger_append`` (``adapters/store/tree.py``) on an
        autocommit connection is its own transaction. For appends without a checkpoint (its
        signature needs the root in Python) or guards. If the database has no such function
        (a ledger initialized before it existed), this and later appends take the two-trip
        path (``ledger init`` run again installs it)."""
        import psycopg2
        import psycopg2.errors
        keys = list(kwargs.get("import_keys") or [])
        try:
            cursor.execute("SELECT ledger_append(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], %s::text[], "
                           "%s::text[], %s::text[], %s::text[], %s)",
                           ([str(e.originator_id) for e in events], [e.originator_version for e in events],
                            [e.topic for e in events], [psycopg2.Binary(e.state) for e in events],
                            [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys],
                            FIXED_CLOCK_US))
        except psycopg2.errors.UndefinedFunction:
            cursor.execute("ROLLBACK")
            self._append_function = False
            return self._append_postgresql(cursor, events, kwargs, direct=True)
        return list(cursor.fetchone()[0])

    def make_checkpoint(self, reason: str, extensions: Sequence[str] = (), *, on_demand_interval_us: int | None = None,
                        signer: Signer | None = None) -> dict[str, Any]:
        """A signed checkpoint of the log as it stands (``ledger checkpoint``): taken under
        the write lock, so no append can slip between reading the tree and signing it.

        ``on_demand_interval_us`` (an on-demand checkpoint, adapters/store/checkpoints.py): if the
        latest checkpoint already covers the whole log, it is returned unsigned again
        (``made`` False); otherwise, if an on-demand checkpoint was made less than that many
        µs ago, :class:`CheckpointRefused`. ``signer``: sign with this key instead of the
        ledger's (a key rotation signs with the new key). The row has ``made`` True when new.
        """
        from domain.errors import CheckpointRefused
        raw = self.datastore.engine.raw_connection()  # type: ignore[union-attr]
        try:
            cursor = raw.cursor()
            if self.dialect == "postgresql":
                cursor.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")
            else:
                raw.driver_connection.isolation_level = None  # type: ignore[union-attr]
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("SELECT " + _head_columns(self.dialect))
            seq, last_at, now, compact, checkpoints = cursor.fetchone()
            head = Head(-1 if seq is None else seq, last_at or now,
                        CompactRange.from_bytes(bytes(compact)) if compact else CompactRange(), checkpoints)
            if on_demand_interval_us is not None:
                cursor.execute("SELECT number, size, root, recorded_at_us, reason, note FROM ledger_checkpoints "
                               "ORDER BY number DESC LIMIT 1")
                latest = cursor.fetchone()
                if latest is not None and latest[1] == head.compact.size:
                    raw.rollback()
                    return {"number": latest[0], "size": latest[1], "root": bytes(latest[2]),
                            "recorded_at_us": latest[3], "reason": latest[4], "note": latest[5], "made": False}
                cursor.execute(f"SELECT MAX(recorded_at_us) FROM ledger_checkpoints WHERE reason LIKE '{ON_DEMAND}%'")
                last_on_demand = cursor.fetchone()[0]
                if last_on_demand is not None and now - last_on_demand < on_demand_interval_us:
                    wait = (on_demand_interval_us - (now - last_on_demand) + 999_999) // 1_000_000
                    raise CheckpointRefused(f"按需检查点每 {on_demand_interval_us // 1_000_000} 秒至多生成一个："
                                            f"请 {wait} 秒后再试（审批时也会自动生成检查点）", None)
            row = checkpoint_row(head, max(now, last_at or now), reason, signer or self.signer(), extensions)
            ph = "%s" if self.dialect == "postgresql" else "?"
            cursor.execute("INSERT INTO ledger_checkpoints (number, size, root, recorded_at_us, reason, note) "
                           f"VALUES ({', '.join([ph] * 6)})",
                           (row["number"], row["size"], row["root"], row["recorded_at_us"], row["reason"], row["note"]))
            cursor.execute("COMMIT") if self.dialect == "sqlite" else raw.commit()
            return {**row, "made": True}
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def cosign(self, number: int, witness: Signer) -> str:
        """Append a witness's signature to checkpoint ``number`` (a new row; the original
        stays as signed)."""
        with self.datastore.engine.begin() as conn:  # type: ignore[union-attr]
            note = conn.execute(select(CHECKPOINTS.c.note).where(CHECKPOINTS.c.number == number)).scalar()
            if note is None:
                raise ValueError(f"没有第 {number} 个检查点")
            cosigned = add_signature(note, witness)
            conn.execute(COSIGNATURES.insert().values(checkpoint=number, signer=witness.name, note=cosigned))
        return cosigned

    def signer(self) -> Signer:
        """The ledger's signing key (``LEDGER_SIGNING_KEY``), never created here (only
        ``ledger init`` creates it). Raises :class:`NotInitialized` if the file is missing, or
        if the log declares a key in force (domain/integrity/signing.py) and this is not it — a
        checkpoint signed by it would not verify. A server holds the key it loaded: restart it
        after ``ledger key rotate``."""
        if self._signer is None:
            from domain.errors import NotInitialized
            signer = load_existing_signer()
            declared = self.declared_keys()
            if declared and declared[-1] != signer.verifier_key:
                raise NotInitialized(f"LEDGER_SIGNING_KEY 指向的私钥（公钥 {signer.verifier_key}）不是账本登记的当前"
                                     f"签名公钥 {declared[-1]}：请把 LEDGER_SIGNING_KEY 指向当前私钥",
                                     "LEDGER_SIGNING_KEY")
            self._signer = signer
        return self._signer

    def declared_keys(self) -> list[str]:
        """The verifier keys the log declares (``SigningKeys`` events), oldest first."""
        import orjson

        from domain.integrity.signing import signing_keys_id
        return [orjson.loads(e.state)["verifier_key"] for e in self.select_events(signing_keys_id())]

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
            try:
                cursor.execute(sql, params)
            except Exception as e:
                self._no_tables(e)
                raise
            rows = cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
        return [StoredEvent(originator_id=agg, originator_version=v, topic=t, state=bytes(s))
                for v, t, s in rows]

    def _no_tables(self, error: Exception) -> None:
        """Raise :class:`NotInitialized` if ``error`` says the log's table does not exist
        (a ledger opened without ``ledger init``: nothing is created on the way)."""
        from domain.errors import NotInitialized
        text = str(error)
        if "ledger_events" in text and ("no such table" in text or "does not exist" in text):
            raise NotInitialized("账本尚未初始化：数据库中没有账本表，请先运行 ledger init（或检查 LEDGER_DATABASE_URL）",
                                 "LEDGER_DATABASE_URL") from None

    def _driver_integrity_errors(self) -> tuple[type[Exception], ...]:
        if self.dialect == "postgresql":
            import psycopg2
            return (psycopg2.IntegrityError,)
        import sqlite3
        return (sqlite3.IntegrityError,)

    def find_event(self, topic_suffix: str, value: UUID) -> UUID | None:
        """The aggregate of the first event with that topic whose payload holds ``value``
        (as the transcoder writes a UUID: its hex). A scan: appeals and corrections are rare."""
        found = find_in_payloads(self._reader, topic_suffix, value)
        return None if found is None else found[1]

    def recorded_at(self, aggregate_id: UUID, version: int) -> int:
        ph = "?" if self.dialect == "sqlite" else "%s"
        agg = aggregate_id.bytes if self.dialect == "sqlite" else str(aggregate_id)
        return int(first_row(self._reader, "SELECT p.recorded_at_us FROM ledger_events e JOIN ledger_positions p "
                                           f"ON p.position = e.id WHERE e.originator_id = {ph} "
                                           f"AND e.originator_version = {ph}", (agg, version))[0])

    def clock(self) -> int:
        return int(first_row(self._reader, f"SELECT {_CLOCK[self.dialect]}")[0])

    def lookup_keys(self, keys: list[str]) -> dict[str, str]:
        """Digest of each given key already in the ledger (committed), read through the
        driver: on PostgreSQL one ``= ANY`` query per 50,000 keys, on SQLite one ``IN`` per
        900 (its default limit of bound parameters is 999)."""
        found: dict[str, str] = {}
        if not keys:
            return found
        raw = self._reader.raw_connection()
        try:
            cursor = raw.cursor()
            if self.dialect == "postgresql":
                for start in range(0, len(keys), 50000):
                    cursor.execute("SELECT key, digest FROM ledger_import_keys WHERE key = ANY(%s)",
                                   (keys[start:start + 50000],))
                    found.update(cursor.fetchall())
            else:
                for start in range(0, len(keys), 900):
                    chunk = keys[start:start + 900]
                    cursor.execute("SELECT key, digest FROM ledger_import_keys "
                                   f"WHERE key IN ({', '.join('?' * len(chunk))})", chunk)
                    found.update(cursor.fetchall())
            cursor.close()
        finally:
            raw.close()
        return found


COPY_FROM = 200  # appends of this many events or more go through COPY on PostgreSQL
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """``value`` as a field of PostgreSQL's COPY text format (backslash, tab, newline and
    carriage return escaped)."""
    return value.translate(_COPY_ESCAPES)


def _copy(cursor: Any, target: str, lines: list[str]) -> None:
    import io
    cursor.copy_expert(f"COPY {target} FROM STDIN", io.BytesIO("".join(lines).encode("utf-8")), size=1 << 20)


class Factory(SQLAlchemyFactory):
    """``PERSISTENCE_MODULE=adapters.store.recorder``: the library's SQLAlchemy factory with the
    ledger's recorder, and a SQLite busy timeout long enough for a batch import."""

    application_recorder_class = LedgerRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        engine = self.datastore.engine
        if engine is not None and engine.dialect.name == "sqlite":
            url = str(engine.url)
            self.datastore = self.datastore_class(
                url=url, connect_args={"timeout": 60, "check_same_thread": False})
            sqlite_clock_on(self.datastore.engine)
