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
    """The application over the chosen store (tables created if absent)."""
    return Ledger(env={
        "PERSISTENCE_MODULE": "adapters.store:Factory",
        "TRANSCODER_TOPIC": "adapters.transcoder:FastJSONTranscoder",
        "SQLALCHEMY_URL": url or database_url(),
        "CREATE_TABLE": "y",
    })


def initialize(ledger: Ledger, actor: str = "system") -> int:
    """``ledger init``: the append-only triggers, the signing key, rulebook v1 (an event).

    Returns the latest rulebook version. Idempotent.
    """
    from adapters.tree import install_append_only_triggers
    from adapters.views import MaintainedView
    install_append_only_triggers(engine_of(ledger))
    MaintainedView(engine_of(ledger))  # the read-model tables, so a writer role can be granted them
    ledger.recorder.signer()  # type: ignore[attr-defined]
    return ledger.init(actor)


def close(ledger: Ledger) -> None:
    """Release the ledger's database connections."""
    ledger.recorder.dispose()  # type: ignore[attr-defined]


def engine_of(ledger: Ledger) -> Engine:
    engine = ledger.recorder.datastore.engine  # type: ignore[attr-defined]
    assert isinstance(engine, Engine)
    return engine
