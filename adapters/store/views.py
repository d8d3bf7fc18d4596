"""The maintained read model: the fold's sections stored as rows with the position reached.

A read checks the view's position against the log's last position. Up to date, it loads
only the sections it needs (the organization, three months and a quarter for a quarter
ranking). Behind, it loads every section, applies the events after its position in
order (never skipping one), and stores the changed sections with the new position in
one transaction; the position only moves forward (``WHERE position < :new``), so a slow
reader cannot overwrite a newer save.
"""
from __future__ import annotations

from typing import Any, Iterable

import orjson
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from adapters.store.columns import BIGINT
from adapters.store.fastview import SECTIONS_TABLE, TRACKING_TABLE, VIEW
from adapters.store.gcpause import gc_paused
from adapters.store.logreader import DECODE, LogReader
from projections.model import ORG, AssessmentModel
from projections.views import SHOWN, shown_names, stored_sections

METADATA = MetaData()
SECTIONS = Table(
    SECTIONS_TABLE, METADATA,
    Column("view", String(64), primary_key=True),
    Column("section", String(64), primary_key=True),
    Column("body", LargeBinary, nullable=False),
)
TRACKING = Table(
    TRACKING_TABLE, METADATA,
    Column("view", String(64), primary_key=True),
    Column("position", BIGINT, nullable=False),
)


class MaintainedView:
    """The assessment fold kept in the database, caught up on demand by polling the log."""

    def __init__(self, engine: Engine, create: bool = False) -> None:
        """Precondition: ``engine`` is a ledger's database. The view's tables are created only
        with ``create`` (``ledger init``, ``ledger restore``: adapters/bootstrap.py
        ``create_tables``); on a ledger that lacks them (one initialized before they existed)
        reads fold the log in memory and store nothing, so that no read creates a table."""
        self.engine = engine
        self.reader = LogReader(engine)
        if create:
            METADATA.create_all(engine, checkfirst=True)
        self.stored = create or self._tables_present()
        if not self.stored:
            return
        try:
            with engine.begin() as conn:
                if conn.execute(select(TRACKING.c.view).where(TRACKING.c.view == VIEW)).first() is None:
                    conn.execute(insert(TRACKING), {"view": VIEW, "position": 0})
        except IntegrityError:
            pass  # another process created the row first

    def _tables_present(self) -> bool:
        from sqlalchemy import inspect
        present = set(inspect(self.engine).get_table_names())
        return SECTIONS.name in present and TRACKING.name in present

    def position(self) -> int:
        """The log position the stored view has reached (0: none stored)."""
        if not self.stored:
            return 0
        with self.engine.connect() as conn:
            value = conn.execute(select(TRACKING.c.position).where(TRACKING.c.view == VIEW)).scalar()
        return int(value or 0)

    def model(self, sections: Iterable[str] | None = None) -> AssessmentModel:
        """The model caught up to the log's end. With ``sections``, and when the view is
        already current, only those sections (and the organization) are loaded. Without the
        view's tables, the whole log folded, nothing stored."""
        if not self.stored:
            with gc_paused():
                return AssessmentModel().apply_rows(self.reader.rows(), DECODE)
        stored = self.position()
        last = self.reader.last_position()
        if sections is not None and stored == last:
            return self._load(stored, [ORG, *sections])
        model = self._load(stored, None)
        with gc_paused():
            model.apply_rows(self.reader.rows(after=stored), DECODE)
        if model.position > stored:
            self.save(model, stored)
        return model

    def shown_quarter(self, period: str) -> tuple[dict[str, Any], int] | None:
        """``quarter_json`` of ``period`` as the view stores it, and the view's position, if
        the view is current and holds that ranking; None otherwise (the caller computes it
        from :meth:`model`, which catches the view up)."""
        if not self.stored:
            return None
        stored = self.position()
        if stored != self.reader.last_position():
            return None
        body = (func.convert_from(SECTIONS.c.body, "UTF8") if self.engine.dialect.name == "postgresql"
                else SECTIONS.c.body)
        with self.engine.connect() as conn:
            found = conn.execute(select(body).where(SECTIONS.c.view == VIEW)
                                 .where(SECTIONS.c.section == SHOWN + period)).scalar()
        return None if found is None else (orjson.loads(found), stored)

    def _load(self, position: int, sections: list[str] | None) -> AssessmentModel:
        model = AssessmentModel()
        # PostgreSQL: the body decoded to text by the server (convert_from) reaches the client
        # about twice as fast as bytea, whose hex form psycopg2 must unescape (issue 18).
        body = (func.convert_from(SECTIONS.c.body, "UTF8") if self.engine.dialect.name == "postgresql"
                else SECTIONS.c.body)
        q = select(SECTIONS.c.section, body).where(SECTIONS.c.view == VIEW)
        if sections is not None:
            q = q.where(SECTIONS.c.section.in_(sections))
        with self.engine.connect() as conn, gc_paused():  # ~10^5 containers decoded: no collections meanwhile
            for name, body in conn.execute(q):
                model.load_section(name, orjson.loads(body))
        model.position = position
        model.dirty = set()
        return model

    def save(self, model: AssessmentModel, expected: int) -> bool:
        """Store the dirty sections and the position, if no one moved it past ``expected``."""
        with self.engine.begin() as conn:
            moved = conn.execute(update(TRACKING).where(TRACKING.c.view == VIEW)
                                 .where(TRACKING.c.position == expected)
                                 .values(position=model.position)).rowcount
            if moved != 1:
                return False  # someone else saved meanwhile; their rows are as good
            names = sorted(model.dirty | shown_names(model, model.dirty))  # and the rankings they feed
            for start in range(0, len(names), 200):
                chunk = names[start:start + 200]
                bodies = stored_sections(model, chunk)  # a ranking that cannot be computed: deleted, not stored
                conn.execute(delete(SECTIONS).where(SECTIONS.c.view == VIEW).where(SECTIONS.c.section.in_(chunk)))
                if bodies:
                    conn.execute(insert(SECTIONS), [
                        {"view": VIEW, "section": n, "body": orjson.dumps(b)} for n, b in bodies.items()])
        model.dirty = set()
        return True

    def rebuild(self) -> AssessmentModel:
        """Fold the whole log from position 0 and replace the stored sections (creating the
        view's tables if absent: a rebuild is an operator's write)."""
        if not self.stored:
            METADATA.create_all(self.engine, checkfirst=True)
            self.stored = True
        with gc_paused():
            model = AssessmentModel().apply_rows(self.reader.rows(), DECODE)
        with self.engine.begin() as conn:
            conn.execute(delete(SECTIONS).where(SECTIONS.c.view == VIEW))
            conn.execute(delete(TRACKING).where(TRACKING.c.view == VIEW))
            conn.execute(insert(TRACKING), {"view": VIEW, "position": model.position})
            bodies = stored_sections(model, sorted(model.dirty | shown_names(model)))
            if bodies:
                conn.execute(insert(SECTIONS), [
                    {"view": VIEW, "section": n, "body": orjson.dumps(b)} for n, b in bodies.items()])
        model.dirty = set()
        return model
