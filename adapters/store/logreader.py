"""Reading the log fast: raw rows in position order, payloads decoded with orjson.

This bypasses the library's per-event mapper on purpose (it is several times slower);
payloads stay as orjson decodes them (typed values tagged as the library's transcoder
writes them, ``{"_type_": "decimal_str", "_data_": "-2.50"}``) until a fold asks.
"""
from __future__ import annotations

from typing import Any, Iterator
from uuid import UUID

import orjson
from sqlalchemy.engine import Engine

from domain.errors import CorruptLog
from domain.integrity.log import LoggedEvent

DECODE = orjson.loads  # a payload as :meth:`LogReader.rows` gives it → its JSON value


def decoded(position: int, state: Any) -> Any:
    """:data:`DECODE` of the payload of the event at ``position``; :class:`CorruptLog` naming
    the position if it is not JSON (a damaged or altered log: reads stop there)."""
    try:
        return DECODE(state)
    except ValueError:
        raise CorruptLog(position, "事件内容不是有效的 JSON") from None


class LogReader:
    """Reads ``ledger_events`` joined to ``ledger_positions``, in position order."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name


    def _param_uuid(self, value: UUID) -> Any:
        return value.bytes if self.dialect == "sqlite" else str(value)

    def read(self, after: int = 0, upto: int | None = None, *,
             aggregate_id: UUID | None = None, recorded_upto_us: int | None = None,
             topic_suffixes: tuple[str, ...] = (), batch: int = 20000,
             containing: bytes | None = None) -> Iterator[LoggedEvent]:
        """Events with ``after < position <= upto`` (and recorded-at ≤ the bound), in order;
        with ``containing``, only those whose stored payload holds those bytes (a prefilter
        in the database: the caller checks the decoded fields)."""
        ph = "?" if self.dialect == "sqlite" else "%s"
        where, params = [f"e.id > {ph}"], [after]
        if upto is not None:
            where.append(f"e.id <= {ph}")
            params.append(upto)
        if recorded_upto_us is not None:
            where.append(f"p.recorded_at_us <= {ph}")
            params.append(recorded_upto_us)
        if aggregate_id is not None:
            where.append(f"e.originator_id = {ph}")
            params.append(self._param_uuid(aggregate_id))
        for_topics = [f"e.topic LIKE {ph}" for _ in topic_suffixes]
        if for_topics:
            where.append("(" + " OR ".join(for_topics) + ")")
            params.extend("%:" + s for s in topic_suffixes)
        if containing is not None:
            where.append(f"position({ph} in e.state) > 0" if self.dialect == "postgresql" else f"instr(e.state, {ph}) > 0")
            params.append(containing)
        agg_column = "CAST(e.originator_id AS TEXT)" if self.dialect == "postgresql" else "e.originator_id"
        sql = (f"SELECT e.id, p.recorded_at_us, {agg_column}, e.originator_version, e.topic, e.state "
               "FROM ledger_events e JOIN ledger_positions p ON p.position = e.id "
               f"WHERE {' AND '.join(where)} ORDER BY e.id")
        raw = self.engine.raw_connection()
        try:
            if self.dialect == "postgresql":
                cursor = raw.cursor(name="ledger_log_reader")  # server-side cursor
                cursor.itersize = batch
            else:
                cursor = raw.cursor()
            cursor.execute(sql, params)
            loads = orjson.loads
            ids: dict[Any, UUID] = {}  # few aggregates, many events
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    break
                for pos, at, agg, ver, topic, state in rows:
                    agg_id = ids.get(agg)
                    if agg_id is None:
                        agg_id = ids[agg] = uuid_of(agg)
                    try:
                        payload = loads(state)
                    except ValueError:
                        raise CorruptLog(pos, "事件内容不是有效的 JSON") from None
                    yield LoggedEvent(pos, at, agg_id, ver, topic, payload)
            cursor.close()
            raw.commit()
        finally:
            raw.close()

    def rows(self, after: int = 0, upto: int | None = None, *, aggregate_ids: list[UUID] | None = None,
             batch: int = 20000) -> Iterator[tuple[list[tuple[int, int, Any, int, str, Any]], dict[Any, UUID]]]:
        """The same events as :meth:`read` (``after < position <= upto``, of ``aggregate_ids``
        if given), in order, a page at a time: the driver's rows ``(position, recorded_at_us,
        aggregate id as stored, version, topic, payload as JSON text)`` and a map from the
        stored aggregate ids to UUIDs. The bulk path of folds
        (:meth:`projections.model.AssessmentModel.apply_rows`), without one object per event;
        decode payloads with :data:`DECODE`.

        The payload is read as text on PostgreSQL (the driver decodes ``bytea`` several times
        slower than text); ``aggregate_ids`` are looked up in the events' aggregate index, so
        a fold of a few aggregates reads only their events.
        """
        ph = "?" if self.dialect == "sqlite" else "%s"
        # Of some aggregates, the aggregate index is the one to use: ``+ 0`` keeps a planner
        # (with stale statistics) from also scanning the id index over the whole range.
        id_column = "e.id" if aggregate_ids is None else "(e.id + 0)"
        params: list[Any] = []
        if aggregate_ids is not None and not aggregate_ids:
            return
        where = [f"{id_column} > {ph}"]
        params.append(after)
        if upto is not None:
            where.append(f"{id_column} <= {ph}")
            params.append(upto)
        if aggregate_ids is not None:
            if self.dialect == "postgresql":
                where.append("e.originator_id = ANY(%s::uuid[])")
                params.append([str(a) for a in aggregate_ids])
            else:
                where.append(f"e.originator_id IN ({', '.join('?' * len(aggregate_ids))})")
                params.extend(a.bytes for a in aggregate_ids)
        if self.dialect == "postgresql":
            columns = "e.id, p.recorded_at_us, CAST(e.originator_id AS TEXT), e.originator_version, e.topic, " \
                      "convert_from(e.state, 'UTF8')"
        else:
            columns = "e.id, p.recorded_at_us, e.originator_id, e.originator_version, e.topic, e.state"
        sql = (f"SELECT {columns} FROM ledger_events e JOIN ledger_positions p ON p.position = e.id "
               f"WHERE {' AND '.join(where)} ORDER BY e.id")
        raw = self.engine.raw_connection()
        try:
            if self.dialect == "postgresql":
                # A cursor's plan is made for its first rows by default (an index scan in id
                # order filtered by aggregate: the whole log); plan for all of them.
                setting = raw.cursor()
                setting.execute("SET LOCAL cursor_tuple_fraction = 1.0")
                setting.close()
                cursor = raw.cursor(name="ledger_log_rows")  # server-side cursor
                cursor.itersize = batch
            else:
                cursor = raw.cursor()
            ids: dict[Any, UUID] = {}
            reached = after
            try:
                cursor.execute(sql, params)
                while True:
                    page = cursor.fetchmany(batch)
                    if not page:
                        break
                    for agg in {row[2] for row in page}.difference(ids):
                        ids[agg] = uuid_of(agg)
                    reached = page[-1][0]
                    yield page, ids
            except self.engine.dialect.dbapi.DataError:  # PostgreSQL: a payload that is not UTF-8 text
                raise self.unreadable_after(reached) from None
            cursor.close()
            raw.commit()
        finally:
            raw.close()

    def unreadable_after(self, after: int) -> CorruptLog | Exception:
        """The :class:`CorruptLog` of the first event after ``after`` whose payload is not
        UTF-8 JSON text (PostgreSQL refuses to convert it in a query, naming no row: this
        finds it, reading the stored bytes). Only for that error path: a scan of the log."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT id, state FROM ledger_events WHERE id > %s ORDER BY id", (after,))
            for position, state in cursor:
                try:
                    orjson.loads(bytes(state))
                except ValueError:
                    return CorruptLog(position, "事件内容不是有效的 JSON（不是 UTF-8 文本）")
            return CorruptLog(None, "事件内容不是 UTF-8 文本")
        finally:
            raw.close()

    def events(self, after: int = 0, upto: int | None = None, *, aggregate_ids: list[UUID] | None = None
               ) -> Iterator[LoggedEvent]:
        """:meth:`rows` as :class:`LoggedEvent` objects (for the few events of some aggregates)."""
        for page, ids in self.rows(after, upto, aggregate_ids=aggregate_ids):
            for pos, at, agg, ver, topic, state in page:
                yield LoggedEvent(pos, at, ids[agg], ver, topic, decoded(pos, state))

    def containing(self, needles: list[str], aggregate_ids: list[UUID], positions: list[int]) -> list[LoggedEvent]:
        """Events of ``aggregate_ids`` whose stored payload contains one of ``needles`` (ASCII
        text, as the transcoder writes it: a UUID as its 32 hex digits), and the events at
        ``positions`` (of any aggregate), in log order: a superset, for a caller that filters
        exactly. The search runs in the database (no payload is decoded for it)."""
        pg = self.dialect == "postgresql"
        ph = "%s" if pg else "?"
        queries: list[tuple[str, list[Any]]] = []
        if needles and aggregate_ids:
            if pg:
                where = ("e.originator_id = ANY(%s::uuid[]) AND ("
                         + " OR ".join("position(convert_to(%s, 'UTF8') in e.state) > 0" for _ in needles) + ")")
                queries.append((where, [[str(a) for a in aggregate_ids], *needles]))
            else:
                where = (f"e.originator_id IN ({', '.join('?' * len(aggregate_ids))}) AND ("
                         + " OR ".join("instr(e.state, ?) > 0" for _ in needles) + ")")
                queries.append((where, [*(a.bytes for a in aggregate_ids), *(n.encode() for n in needles)]))
        if positions:
            queries.append((f"e.id IN ({', '.join([ph] * len(positions))})", list(positions)))
        agg_column = "CAST(e.originator_id AS TEXT)" if pg else "e.originator_id"
        state = "convert_from(e.state, 'UTF8')" if pg else "e.state"
        rows: dict[int, Any] = {}
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for where, params in queries:
                try:
                    cursor.execute(f"SELECT e.id, p.recorded_at_us, {agg_column}, e.originator_version, e.topic, "
                                   f"{state} FROM ledger_events e JOIN ledger_positions p ON p.position = e.id "
                                   f"WHERE {where}", params)
                    rows.update((row[0], row) for row in cursor.fetchall())
                except self.engine.dialect.dbapi.DataError:  # PostgreSQL: a payload that is not UTF-8 text
                    raise self.unreadable_after(0) from None
            cursor.close()
            raw.commit()
        finally:
            raw.close()
        return [LoggedEvent(pos, at, uuid_of(agg), ver, topic, decoded(pos, state))
                for pos, at, agg, ver, topic, state in (rows[k] for k in sorted(rows))]

    def last_position(self) -> int:
        return int(first_row(self.engine, "SELECT COALESCE(MAX(position), 0) FROM ledger_positions")[0])

    def position_recorded_by(self, recorded_upto_us: int) -> int:
        """The last position recorded at or before the given time (0 if none)."""
        ph = "?" if self.dialect == "sqlite" else "%s"
        return int(first_row(self.engine, "SELECT COALESCE(MAX(position), 0) FROM ledger_positions "
                                          f"WHERE recorded_at_us <= {ph}", (recorded_upto_us,))[0])


def uuid_of(raw: Any) -> UUID:
    """A stored aggregate id as the driver returns it (16 bytes on SQLite, a UUID or its text
    on PostgreSQL) as a UUID."""
    if isinstance(raw, UUID):
        return raw
    if isinstance(raw, (bytes, memoryview)):
        return UUID(bytes=bytes(raw))
    return UUID(str(raw))


def find_in_payloads(engine: Engine, topic_suffix: str, value: UUID) -> tuple[int, UUID] | None:
    """(position, aggregate id) of the first event with that topic whose payload holds
    ``value`` as the transcoder writes a UUID (its hex). A scan of the log: for rare look-ups
    (appeals, corrections, proofs by entry id)."""
    if engine.dialect.name == "sqlite":
        ph, contains, needle = "?", "instr(state, ?) > 0", value.hex.encode()
    else:
        ph, contains, needle = "%s", "position(convert_to(%s, 'UTF8') in state) > 0", value.hex
    row = first_row(engine, f"SELECT id, originator_id FROM ledger_events WHERE topic LIKE {ph} AND {contains} "
                            "ORDER BY id LIMIT 1", ("%:" + topic_suffix, needle))
    return None if row is None else (int(row[0]), uuid_of(row[1]))


def first_row(engine: Engine, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first row of a query run on a pooled driver connection (no ORM), or None.

    Precondition: ``sql`` uses the driver's placeholders (``?`` SQLite, ``%s`` psycopg2).
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql, params)
        row = cursor.fetchone()
        cursor.close()
        return row
    finally:
        raw.close()
