"""Shared test helpers: a small company and reading the projections back."""
from __future__ import annotations

from typing import Any

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.service.application import Ledger
from projections.model import AssessmentModel
from projections.views import month_json, quarter_json

ADMIN, MIGRATION = "admin", "migration"


def with_users(ledger: Ledger) -> Ledger:
    """Initialize with an admin, who creates the ``migration`` user (role ``migrator``): the
    fixtures' default acting user, like a migration of history (issue: roles). Tests of
    roles act as other users explicitly."""
    from adapters.bootstrap import migration_user
    ledger.default_user = migration_user(ledger, ADMIN, MIGRATION)
    return ledger


def company(app: Ledger, *branches: tuple[str, str | None, str | None]) -> None:
    """Register branches ``(code, mode, from_month)``; mode None = no secretary."""
    for code, mode, from_month in branches:
        app.register_branch(code=code, name=f"{code}支部", members=20, from_month=from_month)
        if mode == "full_time":
            app.appoint_secretary(branch=code, name=f"{code}书记", mode=mode, from_month="2019-01", actor="r")
        elif mode == "part_time":
            app.appoint_secretary(branch=code, name=f"{code}书记", mode=mode, allowance="800",
                                  from_month="2019-01", actor="r")


def deduct(app: Ledger, branch: str, period: str, points: str, category: str = "political",
           department: str = "party_mass") -> Any:
    return app.record_score(branch=branch, period=period, category=category, points=points,
                            reason="测试扣分", department=department, actor="scorer")


def approve(app: Ledger, *periods: str) -> None:
    for p in periods:
        app.submit_month(period=p, actor="aggregator")
        app.approve_month(period=p, actor="approver")


def model_of(app: Ledger) -> AssessmentModel:
    return AssessmentModel().apply_all(LogReader(engine_of(app)).read())


def month(app: Ledger, period: str) -> dict[str, Any]:
    return {b["branch"]: b for b in month_json(model_of(app), period)["branches"]}


def quarter(app: Ledger, period: str) -> dict[str, Any]:
    return quarter_json(model_of(app), period)


def events(app: Ledger) -> list[Any]:
    return list(LogReader(engine_of(app)).read())


def cli_users(runner: Any, env: dict[str, str]) -> dict[str, str]:
    """``ledger init`` with an admin, who creates a ``migration`` user (role migrator); the
    returned env acts as that user (``LEDGER_USER``)."""
    from adapters.cli.main import main
    for args in (["init", "--admin", "admin"], ["--as", "admin", "user", "create", "migration", "--name", "迁移"],
                 ["--as", "admin", "user", "grant", "migration", "migrator"]):
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
    return {**env, "LEDGER_USER": "migration"}


def load_stored_rows(app: Ledger, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Insert stored rows, as dumped by ``tests/fixtures/write_*_fixture.py`` (bytes as hex,
    payloads as UTF-8 text, aggregate ids as UUID text), unchanged into ``app``'s empty tables
    (the tables only: the rows are the whole log, no ``init``)."""
    from sqlalchemy import text
    app.recorder.create_table()
    engine = engine_of(app)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        for table, rows in tables.items():
            if rows:
                names = ", ".join(rows[0])
                conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in rows[0])})"),
                             [_stored_values(row, pg) for row in rows])
        if pg:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('ledger_events', 'id'), "
                              "(SELECT MAX(id) FROM ledger_events))"))


def _stored_values(row: dict[str, Any], pg: bool) -> dict[str, Any]:
    from uuid import UUID
    values: dict[str, Any] = {}
    for name, value in row.items():
        if name == "originator_id":
            value = str(value) if pg else UUID(value).bytes
        elif name == "state":
            value = value.encode("utf-8")
        elif name in ("leaf_hash", "compact", "root"):
            value = bytes.fromhex(value)
        values[name] = value
    return values
