"""The one place that picks the adapters: which database, which recorder.

``LEDGER_DATABASE_URL`` is a SQLAlchemy URL; unset, a SQLite file ``ledger.sqlite3`` in
the working directory. ``postgresql+psycopg2://…`` selects PostgreSQL.
"""
from __future__ import annotations

import os

from sqlalchemy.engine import Engine

from domain.application import Ledger

DEFAULT_URL = "sqlite:///ledger.sqlite3"


def database_url() -> str:
    return os.environ.get("LEDGER_DATABASE_URL") or DEFAULT_URL


def make_ledger(url: str | None = None) -> Ledger:
    """The application over the chosen store (tables created if absent), with its
    security log; ``LEDGER_USER`` (if set) is the acting user when a call names none."""
    from adapters.security import SqlSecurityLog
    ledger = Ledger(env={
        "PERSISTENCE_MODULE": "adapters.store:Factory",
        "TRANSCODER_TOPIC": "adapters.transcoder:FastJSONTranscoder",
        "SQLALCHEMY_URL": url or database_url(),
        "CREATE_TABLE": "y",
    })
    ledger.security_log = SqlSecurityLog(engine_of(ledger))
    ledger.default_user = os.environ.get("LEDGER_USER") or None
    from adapters.keystore import KeyStore, keystore_path
    ledger.vault = KeyStore(keystore_path())  # type: ignore[attr-defined]  # talk/visit summaries (domain/care.py)
    return ledger


def initialize(ledger: Ledger, actor: str = "system", admin: str | None = None,
               admin_name: str | None = None) -> int:
    """``ledger init``: the append-only triggers, the signing key, rulebook v1 (an event),
    and the first admin user if ``admin`` is given and there are no users yet.

    Returns the latest rulebook version. Idempotent.
    """
    from adapters.tree import install_append_only_triggers
    from adapters.views import MaintainedView
    install_append_only_triggers(engine_of(ledger))
    MaintainedView(engine_of(ledger))  # the read-model tables, so a writer role can be granted them
    ledger.recorder.signer()  # type: ignore[attr-defined]
    return ledger.init(actor, admin, admin_name)


def close(ledger: Ledger) -> None:
    """Release the ledger's database connections."""
    ledger.recorder.dispose()  # type: ignore[attr-defined]


def engine_of(ledger: Ledger) -> Engine:
    engine = ledger.recorder.datastore.engine  # type: ignore[attr-defined]
    assert isinstance(engine, Engine)
    return engine


def migration_user(ledger: Ledger, admin: str = "admin", user: str = "migration") -> str:
    """Initialize with ``admin`` as the first admin (if there are no users), and have the
    admin create ``user`` with the ``migrator`` role if absent; returns ``user``. For the
    demo, benchmarks and fixtures, which load history as a migration (README: roles)."""
    from domain.ids import access_id
    initialize(ledger, admin=admin, admin_name="系统管理员")
    if user not in ledger.repository.get(access_id()).users:
        ledger.command("create_user", as_user=admin, user=user, name="历史数据迁移", actor=admin)
        ledger.command("grant_role", as_user=admin, user=user, role="migrator", actor=admin)
    return user
