"""Fixtures: one contract suite run per backend (SQLite file, real PostgreSQL).

PostgreSQL: ``LEDGER_TEST_PG_URL`` (default the local server, user postgres, database
test). Each test gets its own schema through ``search_path``. Without a server the
PostgreSQL cases skip with a reason; ``LEDGER_REQUIRE_PG=1`` (set by ``.ci/run``) turns
that skip into a failure.
"""
from __future__ import annotations

import os
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import settings

from adapters.bootstrap import close, make_ledger  # noqa: E402
from domain.service.application import Ledger  # noqa: E402
from tests.helpers import MIGRATION, with_users  # noqa: E402

# No per-example time limit for property tests: speed is the benchmarks' business, and a loaded
# machine made the Merkle property test fail on its 200 ms deadline (a flaky failure, not a defect).
settings.register_profile("ledger", deadline=None)
settings.load_profile("ledger")

PG_URL = os.environ.get("LEDGER_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
_pg_checked: list[str | None] = []


def _pg_problem() -> str | None:
    if not _pg_checked:
        try:
            engine = sqlalchemy.create_engine(PG_URL)
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT 1"))
            engine.dispose()
            _pg_checked.append(None)
        except Exception as e:  # noqa: BLE001 - any failure means "no server"
            _pg_checked.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")
    return _pg_checked[0]


def isolated_env(directory: Path) -> dict[str, str]:
    """The environment that keeps a test's keys and stores in ``directory``: the signing key,
    the CLI's acting user, the talk/visit key store, the witness and the group ledger."""
    return {"LEDGER_SIGNING_KEY": str(directory / "signing.key"), "LEDGER_USER": "migration",
            "LEDGER_KEYSTORE": str(directory / "ledger-keys.sqlite3"),
            "LEDGER_MONITOR_STORE": str(directory / "monitor.sqlite3"),
            "LEDGER_GROUP_DATABASE_URL": f"sqlite:///{directory / 'group.sqlite3'}",
            "LEDGER_GROUP_KEY": str(directory / "group.key"),
            "LEDGER_ATTACHMENTS": str(directory / "attachments")}


@pytest.fixture(autouse=True)
def signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test signs with its own key, never one in the working directory."""
    env = isolated_env(tmp_path)
    monkeypatch.setenv("LEDGER_SIGNING_KEY", env["LEDGER_SIGNING_KEY"])
    monkeypatch.setenv("LEDGER_USER", env["LEDGER_USER"])  # the CLI acts as the fixtures' migration user
    return Path(env["LEDGER_SIGNING_KEY"])


@pytest.fixture(autouse=True)
def keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps talk/visit summary keys in its own key store (adapters/store/keystore.py)."""
    path = isolated_env(tmp_path)["LEDGER_KEYSTORE"]
    monkeypatch.setenv("LEDGER_KEYSTORE", path)
    return Path(path)


@pytest.fixture(autouse=True)
def attachment_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps appeals' attached files in its own folder (adapters/store/attachments.py)."""
    path = isolated_env(tmp_path)["LEDGER_ATTACHMENTS"]
    monkeypatch.setenv("LEDGER_ATTACHMENTS", path)
    return Path(path)


@pytest.fixture(autouse=True)
def witness_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's witness (ledger monitor, checkpoint cosign) and group ledger keep their own
    stores and keys (adapters/integrity/monitor.py, adapters/integrity/group.py), never files in the working directory."""
    env = isolated_env(tmp_path)
    for name in ("LEDGER_MONITOR_STORE", "LEDGER_GROUP_DATABASE_URL", "LEDGER_GROUP_KEY"):
        monkeypatch.setenv(name, env[name])
    return Path(env["LEDGER_MONITOR_STORE"])


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """A fresh, empty database URL on ``backend`` ("sqlite": a file in ``directory``;
    "postgresql": a schema of its own on the test server, dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'ledger.sqlite3'}"
        return
    problem = _pg_problem()
    if problem is not None:
        message = (f"PostgreSQL 不可用（{problem}）。启动本机 PostgreSQL，或设置 LEDGER_TEST_PG_URL 指向一个服务器，"
                   "即可运行这些用例")
        if os.environ.get("LEDGER_REQUIRE_PG") == "1":
            pytest.fail("LEDGER_REQUIRE_PG=1 but " + message)
        pytest.skip(message)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL for one test, on each backend."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def make_app(db_url: str) -> Iterator[Callable[[], Ledger]]:
    """Factory of application instances over the test's database (engines disposed after)."""
    apps: list[Ledger] = []

    def make() -> Ledger:
        app = make_ledger(db_url, user=MIGRATION)  # history-style fixtures: see ``app``
        apps.append(app)
        return app

    yield make
    for app in apps:
        close(app)


@pytest.fixture
def app(make_app: Callable[[], Ledger]) -> Ledger:
    """An initialized ledger (rulebook v1 adopted), acting as the ``migration`` user."""
    return with_users(make_app())


@pytest.fixture
def site(app: Ledger, db_url: str) -> Iterator[Any]:
    """The web pages over a small demo-like ledger (``tests/web_fixture.py``: one user per
    role, 2019Q2 and Q3 ranked), on each backend: a :class:`tests.web_fixture.Site`."""
    from tests.web_fixture import open_site, prepare
    with open_site(app, db_url, prepare(app)) as opened:
        yield opened
