"""The one place that picks the adapters: which database, which recorder.

``LEDGER_DATABASE_URL`` is a SQLAlchemy URL; unset, a SQLite file ``ledger.sqlite3`` in
the working directory. ``postgresql+psycopg2://…`` selects PostgreSQL.

Only :func:`initialize` (``ledger init``) creates a database file, a table or the signing
key; :func:`open_ledger` (every other command, the server) opens an existing ledger or
says clearly what is missing (docs/tamper-evidence.md).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: ``ledger --help`` loads neither SQLAlchemy nor the application
    from sqlalchemy.engine import Engine

    from domain.service.application import Ledger

DEFAULT_URL = "sqlite:///ledger.sqlite3"


def database_url() -> str:
    return os.environ.get("LEDGER_DATABASE_URL") or DEFAULT_URL


def make_ledger(url: str | None = None, user: str | None = None, env_user: bool = True) -> Ledger:
    """The application over the chosen store (no table created: :func:`initialize` does
    that), with its dependencies: the security log (``adapters/security.py``), the key
    vault of talk and visit summaries (``LEDGER_KEYSTORE``, ``adapters/store/keystore.py``),
    the folder of appeals' attached files (``LEDGER_ATTACHMENTS``, beside a SQLite database
    by default: ``adapters/store/attachments.py``) and the acting user when a call names
    none: ``user``, else ``LEDGER_USER`` if set and
    ``env_user`` (the HTTP server passes False: every request names its user). Connecting to
    a SQLite path that does not exist creates the file: callers that must not create use
    :func:`open_ledger`."""
    from adapters.security import SqlSecurityLog
    from adapters.store.attachments import AttachmentStore, attachments_path
    from adapters.store.keystore import KeyStore, keystore_path
    from domain.service.application import Ledger
    url = url or database_url()
    return Ledger(env={
        "PERSISTENCE_MODULE": "adapters.store.recorder:Factory",
        "TRANSCODER_TOPIC": "adapters.store.transcoder:FastJSONTranscoder",
        "SQLALCHEMY_URL": url,
        "CREATE_TABLE": "n",
    }, vault=KeyStore(keystore_path()), security_log=lambda ledger: SqlSecurityLog(engine_of(ledger)),
        attachments=AttachmentStore(attachments_path(url)),
        default_user=user or (os.environ.get("LEDGER_USER") if env_user else None) or None)


LEDGER_TABLES = ("ledger_events", "ledger_positions", "ledger_tree", "ledger_checkpoints")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url
    path = sqlite_path(url)
    shown = str(path.resolve()) if path is not None else make_url(url).render_as_string(hide_password=True)
    default = "（未设置 LEDGER_DATABASE_URL，默认当前目录的 ledger.sqlite3）" if not os.environ.get("LEDGER_DATABASE_URL") else ""
    return shown + default


def open_ledger(url: str | None = None, user: str | None = None, env_user: bool = True) -> Ledger:
    """An existing, initialised ledger (``user``, ``env_user``: as :func:`make_ledger`); creates
    nothing. Raises :class:`NotInitialized`
    (field ``LEDGER_DATABASE_URL``) if the SQLite file is missing, or the database has no
    ledger tables or no events yet: the message names the database and how to point at
    another (``LEDGER_DATABASE_URL``) or to create one (``ledger init``)."""
    url = url or database_url()
    _require_file(url)
    ledger = make_ledger(url, user, env_user)
    try:
        _require_tables(engine_of(ledger), url)
    except Exception:
        close(ledger)
        raise
    return ledger


def open_engine(url: str | None = None) -> Engine:
    """The database of an existing, initialised ledger, for reads, without building the
    application (no command, handler or permission code is imported): what a read command
    needs, in a fraction of the start-up. Same checks and errors as :func:`open_ledger`, same
    connection settings as the recorder's (SQLite: 60 s busy timeout). The caller disposes it.
    Precondition: not an in-memory SQLite URL (that would be another, empty database)."""
    from sqlalchemy import create_engine
    url = url or database_url()
    _require_file(url)
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, **({"connect_args": {"timeout": 60, "check_same_thread": False}} if sqlite else {}))
    try:
        _require_tables(engine, url)
    except Exception:
        engine.dispose()
        raise
    return engine


def _require_file(url: str) -> None:
    from domain.errors import NotInitialized
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise NotInitialized(f"找不到账本数据库 {_where(url)}：请设置 LEDGER_DATABASE_URL 指向已有账本，"
                             "或在此处运行 ledger init 新建", "LEDGER_DATABASE_URL")


def _require_tables(engine: Engine, url: str) -> None:
    from sqlalchemy import inspect

    from domain.errors import NotInitialized
    missing = [t for t in LEDGER_TABLES if not inspect(engine).has_table(t)]
    if missing:
        raise NotInitialized(f"数据库 {_where(url)} 中没有账本表（缺 {', '.join(missing)}）：请设置 LEDGER_DATABASE_URL "
                             "指向已有账本，或运行 ledger init 初始化", "LEDGER_DATABASE_URL")


def initialize(ledger: Ledger, actor: str = "system", admin: str | None = None,
               admin_name: str | None = None, documented_at: str | None = None) -> int:
    """``ledger init``: the tables, the append-only triggers, the signing key (created if
    absent and the log declares none) declared in the log, rulebook v1 (an event), and the
    first admin user if ``admin`` is given and there are no users yet.

    Returns the latest rulebook version. Idempotent. Refuses (:class:`NotInitialized`) a
    key file that is not the key the log declares, and creating a key for a ledger that
    already has checkpoints but declares none (the key that signed them would be lost).
    """
    from sqlalchemy import text

    from adapters.store.tree import key_path, load_existing_signer, load_or_create_signer
    from domain.errors import NotInitialized
    recorder = ledger.recorder
    create_tables(ledger)
    if recorder.declared_keys() or key_path().exists():  # type: ignore[attr-defined]
        signer = load_existing_signer()
    else:
        with engine_of(ledger).connect() as conn:
            signed = conn.execute(text("SELECT COUNT(*) FROM ledger_checkpoints")).scalar()
        if signed:
            raise NotInitialized(f"账本已有 {signed} 个检查点但日志未登记签名公钥，且找不到私钥 {key_path().resolve()}："
                                 "请设置 LEDGER_SIGNING_KEY 指向签署它们的私钥", "LEDGER_SIGNING_KEY")
        signer = load_or_create_signer()
    version = ledger.init(actor, admin, admin_name, verifier_key=signer.verifier_key, documented_at=documented_at)
    recorder._signer = signer  # type: ignore[attr-defined]  # checked against the log by init
    return version


def create_tables(ledger: Ledger) -> None:
    """The ledger's tables, indexes and append-only triggers, and the read-model tables (no
    event written). Idempotent. Called by :func:`initialize` and by ``ledger restore``."""
    from adapters.store.tree import install_append_function, install_append_only_triggers
    from adapters.store.views import MaintainedView
    ledger.recorder.create_table()  # type: ignore[attr-defined]
    install_append_only_triggers(engine_of(ledger))
    install_append_function(engine_of(ledger))
    MaintainedView(engine_of(ledger), create=True)  # the read-model tables, so a writer role can be granted them


def close(ledger: Ledger) -> None:
    """Release the ledger's database connections."""
    ledger.recorder.dispose()  # type: ignore[attr-defined]


def engine_of(ledger: Ledger) -> Engine:
    from sqlalchemy.engine import Engine
    engine = ledger.recorder.datastore.engine  # type: ignore[attr-defined]
    assert isinstance(engine, Engine)
    return engine


def migration_user(ledger: Ledger, admin: str = "admin", user: str = "migration",
                   documented_at: str | None = None) -> str:
    """Initialize with ``admin`` as the first admin (if there are no users), and have the
    admin create ``user`` with the ``migrator`` role if absent; returns ``user``. A new
    ledger's setting up is dated ``documented_at`` (``Ledger.init``). For the
    demo, benchmarks and fixtures, which load history as a migration (README: roles)."""
    from domain.ids import access_id
    initialize(ledger, admin=admin, admin_name="系统管理员", documented_at=documented_at)
    if user not in ledger.repository.get(access_id()).users:
        ledger.command("create_user", as_user=admin, user=user, name="历史数据迁移", actor=admin)
        ledger.command("grant_role", as_user=admin, user=user, role="migrator", actor=admin)
    return user
