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

from domain.integrity.log import LoggedEvent

class LogReader:
    """Reads ``ledger_events`` joined to ``ledger_positions``, in position order."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name


    def _param_uuid(self, value: UUID) -> Any:
        return value.bytes if self.dialect == "sqlite" else str(value)

    def read(self, after: int = 0, upto: int | None = None, *,
             aggregate_id: UUID | None = None, recorded_upto_us: int | None = None,
             topic_suffixes: tuple[str, ...] = (), batch: int = 20000) -> Iterator[LoggedEvent]:
        """Events with ``after < position <= upto`` (and recorded-at ≤ the bound), in order."""
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
                    yield LoggedEvent(pos, at, agg_id, ver, topic, loads(state))
            cursor.close()
            raw.commit()
        finally:
            raw.close()

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
