"""Reads of a current maintained view over the bare database driver (issue 18: CLI start-up).

``ledger month show`` needs three queries: the view's position, the log's last position and
the sections of one month. Through SQLAlchemy that costs its import (~0.3 s of CPU on the
2-core test machine, most of such a command); through ``sqlite3`` or ``psycopg2`` directly it
costs a connection. :func:`current_model` answers only when the view is already current (its
position is the log's last), reading the three in one read-only transaction, so one snapshot;
in every other case (behind, never built, no ledger tables, a missing SQLite file, a URL it does
not parse as SQLAlchemy would) it returns None and the caller takes the full path
(:class:`adapters.store.views.MaintainedView`), which catches the view up or names the error.
Writes never come here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from adapters.store.gcpause import gc_paused
from projections.model import ORG, AssessmentModel
from projections.views import SHOWN

VIEW = "assessment-v3"  # bump when the fold (or quarter_json, whose rankings it stores) changes what it
# keeps: a new name is rebuilt from position 0 (v3: the quarter rankings, projections/views.py SHOWN)
SECTIONS_TABLE, TRACKING_TABLE = "ledger_view_sections", "ledger_view_tracking"
T = TypeVar("T")
POSTGRESQL_SCHEMES = ("postgresql", "postgresql+psycopg2")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL (relative to the working directory, as
    SQLAlchemy reads it); None for anything else (memory, query options, other schemes)."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = url[len("sqlite:///"):]
    return None if path in ("", ":memory:") else Path(path)


def postgresql_arguments(url: str) -> dict[str, Any] | None:
    """``psycopg2.connect`` keywords of a ``postgresql[+psycopg2]://`` URL as SQLAlchemy's
    psycopg2 dialect passes them (query options as keywords); None if not such a URL or an
    option is given twice."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRESQL_SCHEMES:
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    if len({k for k, _ in query}) != len(query):
        return None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    host, port = hostport, None
    if hostport.rsplit(":", 1)[-1].isdigit() and not hostport.endswith("]"):
        host, _, digits = hostport.rpartition(":")
        port = int(digits)
    arguments: dict[str, Any] = {"dbname": parts.path[1:] or None, "user": unquote(user) or None,
                                 "password": unquote(password) or None, "host": host.strip("[]") or None,
                                 "port": port}
    arguments.update(query)
    return {k: v for k, v in arguments.items() if v is not None}


def current_model(url: str, sections: Iterable[str] | None) -> AssessmentModel | None:
    """The model of the stored sections (``sections`` and the organization; None: all), if
    the view is current; None whenever the full path must answer (see the module's note)."""
    wanted = None if sections is None else [ORG, *sections]
    return _current(url, lambda cursor, ph: _read(cursor, ph, wanted))


def current_shown(url: str, period: str) -> tuple[dict[str, Any], int] | None:
    """The quarter's ranking as the view stores it (``quarter_json``, projections/views.py
    ``SHOWN``) and the view's position, if the view is current and holds it; None whenever
    the full path must answer."""
    def shown(cursor: Any, ph: str) -> tuple[dict[str, Any], int] | None:
        stored = _position_if_current(cursor, ph)
        if stored is None:
            return None
        cursor.execute(f"SELECT body FROM {SECTIONS_TABLE} WHERE view = {ph} AND section = {ph}",
                       (VIEW, SHOWN + period))
        row = cursor.fetchone()
        if row is None:
            return None
        with gc_paused():
            return orjson.loads(row[0]), stored
    return _current(url, shown)


def _current(url: str, read: Callable[[Any, str], T | None]) -> T | None:
    """``read(cursor, placeholder)`` in one read-only snapshot over the bare driver; None if
    the URL is not one it opens or the driver refuses (the full path then answers)."""
    path = sqlite_file(url)
    if path is not None:
        import sqlite3
        if not path.is_file():
            return None  # the full path names the missing file (and creates nothing)
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        except sqlite3.Error:
            return None
        try:
            conn.execute("BEGIN")  # one snapshot for the three reads
            return read(conn.cursor(), "?")
        except sqlite3.Error:
            return None
        finally:
            conn.close()
    arguments = postgresql_arguments(url)
    if arguments is None:
        return None
    import psycopg2
    try:
        pg = psycopg2.connect(**arguments)
    except psycopg2.Error:
        return None
    try:
        pg.set_session(isolation_level="REPEATABLE READ", readonly=True)  # one snapshot
        with pg.cursor() as cursor:
            return read(cursor, "%s")
    except psycopg2.Error:
        return None
    finally:
        pg.close()


def _position_if_current(cursor: Any, ph: str) -> int | None:
    """The view's position if it is the log's last; None if behind or never stored."""
    cursor.execute(f"SELECT position FROM {TRACKING_TABLE} WHERE view = {ph}", (VIEW,))
    row = cursor.fetchone()
    if row is None:
        return None
    stored = int(row[0] or 0)
    cursor.execute("SELECT COALESCE(MAX(position), 0) FROM ledger_positions")
    if int(cursor.fetchone()[0]) != stored:
        return None  # behind: the full path catches up and saves
    return stored


def _read(cursor: Any, ph: str, wanted: list[str] | None) -> AssessmentModel | None:
    stored = _position_if_current(cursor, ph)
    if stored is None:
        return None
    query = f"SELECT section, body FROM {SECTIONS_TABLE} WHERE view = {ph}"
    params: list[Any] = [VIEW]
    if wanted is not None:
        query += f" AND section IN ({', '.join([ph] * len(wanted))})"
        params += wanted
    cursor.execute(query, params)
    model = AssessmentModel()
    with gc_paused():  # a quarter's sections are ~10^5 containers: no collections while decoding
        for name, body in cursor.fetchall():
            model.load_section(name, orjson.loads(body))
    model.position = stored
    model.dirty = set()
    return model
