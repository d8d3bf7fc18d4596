"""Backup and restore (issue 10, item 6).

PostgreSQL: ``pg_dump`` of the test's schema (custom format, the client binaries matching
the server's major version) → ``pg_restore`` into a new database → ``ledger verify`` holds
there, every checkpoint is restored as signed and its root is recomputed from the restored
leaves (``verify_ledger``'s ``checkpoint_root_altered``), the append-only triggers came
along, and the restored ledger takes a new write (its id sequence came along too) and still
verifies.

SQLite: copies taken with the SQLite backup API (``sqlite3.Connection.backup``) while a
writer thread keeps appending entries and approving months; every copy verifies, is a
prefix of the final ledger (same leaves, same checkpoints so far), and opens as a ledger
that takes a new write.

How it fails if the guarantee breaks: a dump without the positions, tree or checkpoint
tables (or a copy of the SQLite file taken with ``cp`` mid-transaction) fails
``verify_ledger`` (``leaf_missing``/``event_inserted``/``event_missing``); a restore without the
sequence makes the new write collide (``IntegrityError``). Shown in a scratch run dumping
with ``--exclude-table-data=<schema>.ledger_positions``: ``event_inserted`` from position 1
and every checkpoint ``event_missing``.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy
from click.testing import CliRunner
from sqlalchemy import text

from adapters.bootstrap import close, engine_of, make_ledger
from adapters.integrity.verify import verify_ledger
from domain.periods import month_range
from tests.helpers import approve, company, deduct
from tests.reliability.helpers import assert_verifies, bookkeeping

pytestmark = pytest.mark.reliability


def _history(app: Any) -> None:
    """A quarter with entries, approvals (four checkpoints), an upheld appeal (a fifth)."""
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", "full_time", None))
    first = None
    for m in ("2019-07", "2019-08", "2019-09"):
        for b, points in (("A", "-1"), ("B", "-2.5"), ("C", "-0.5")):
            entry = deduct(app, b, m, points)
            first = first or entry
    approve(app, "2019-07", "2019-08", "2019-09")
    app.approve_quarter(period="2019Q3", actor="审批")
    appeal = app.file_appeal(entry_id=str(first), branch="A", reason="已整改", actor="A书记")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="0", reason="依据不足", actor="党委")


def _client(name: str, server_major: int) -> str:
    """``pg_dump``/``pg_restore`` of the server's major version (PATH first, else the packaged ones)."""
    found = shutil.which(name)
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout
        version = re.search(r"\(PostgreSQL\) (\d+)", out)
        if version is not None and int(version.group(1)) == server_major:
            return found
    candidate = Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    if candidate.exists():
        return str(candidate)
    pytest.fail(f"no {name} for PostgreSQL {server_major} (PATH or /usr/lib/postgresql/*/bin)")


def _checkpoints(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in conn.execute(text(
            "SELECT number, size, root, recorded_at_us, reason, note FROM ledger_checkpoints ORDER BY number"))]


def _leaves(engine: Any) -> list[tuple[int, int, bytes]]:
    with engine.connect() as conn:
        return [(s, p, bytes(h)) for s, p, h in conn.execute(text(
            "SELECT seq, position, leaf_hash FROM ledger_positions ORDER BY seq"))]


def test_a_backup_restores_to_a_ledger_that_verifies(app, make_app, db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("postgresql"):
        _pg_dump_and_restore(app, db_url, tmp_path)
    else:
        _sqlite_backup_while_writing(app, make_app, db_url, tmp_path)


def _pg_dump_and_restore(app: Any, db_url: str, tmp_path: Path) -> None:
    _history(app)
    engine = engine_of(app)
    keys = [app.recorder.signer().verifier_key]
    original = verify_ledger(engine, keys)
    assert original.ok and original.checkpoints >= 5
    schema = re.search(r"search_path%3D(\w+)", db_url).group(1)
    url = sqlalchemy.engine.make_url(db_url.split("?")[0])
    with engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    conn_args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {**os.environ, **({"PGPASSWORD": unquote(url.password)} if url.password else {})}
    dump = tmp_path / "ledger.dump"
    subprocess.run([_client("pg_dump", major), *conn_args, "-d", url.database, "-n", schema, "-Fc", "--no-owner",
                    "-f", str(dump)], check=True, env=env, capture_output=True)
    target = f"restore_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(url.set(database=url.database), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {target}"))
    restored_url = f"{url.set(database=target).render_as_string(hide_password=False)}?options=-csearch_path%3D{schema}"
    restored_engine = None
    restored = None
    try:
        subprocess.run([_client("pg_restore", major), *conn_args, "-d", target, "--no-owner", "--exit-on-error",
                        str(dump)], check=True, env=env, capture_output=True)
        restored_engine = sqlalchemy.create_engine(restored_url)
        report = verify_ledger(restored_engine, keys)
        assert report.ok, [p.__dict__ for p in report.problems[:5]]
        assert (report.events, report.checkpoints, report.approvals) == \
            (original.events, original.checkpoints, original.approvals)
        assert _checkpoints(restored_engine) == _checkpoints(engine)  # every checkpoint as signed
        assert _leaves(restored_engine) == _leaves(engine)
        with restored_engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            conn.execute(text("UPDATE ledger_events SET topic = topic"))
        from adapters.cli.main import main
        cli = CliRunner().invoke(main, ["verify", "--json"], env={"LEDGER_DATABASE_URL": restored_url})
        assert cli.exit_code == 0 and '"ok": true' in cli.output, cli.output
        restored = make_ledger(restored_url, user=app.default_user)
        deduct(restored, "A", "2019-10", "-1")  # the id sequence was restored: no collision
        assert_verifies(restored)
        bookkeeping(engine_of(restored))
    finally:
        if restored is not None:
            close(restored)
        if restored_engine is not None:
            restored_engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {target} WITH (FORCE)"))
        admin.dispose()


def _sqlite_backup_while_writing(app: Any, make_app: Any, db_url: str, tmp_path: Path) -> None:
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    source = db_url.removeprefix("sqlite:///")
    writer_app = make_app()
    writer_app.default_user = app.default_user
    stop, errors, written = threading.Event(), [], [0]

    def writer() -> None:
        try:
            for month in month_range("2019-01", 120):  # until stopped
                for i in range(10):
                    if stop.is_set():
                        return
                    deduct(writer_app, "AB"[i % 2], month, "-0.5")
                    written[0] += 1
                approve(writer_app, month)  # a checkpoint each month
        except BaseException as e:  # noqa: BLE001 - asserted below
            errors.append(e)

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    try:
        for n in range(6):
            time.sleep(0.05)
            assert thread.is_alive(), "the writer stopped before the copies were taken"
            copy = tmp_path / f"copy{n}.sqlite3"
            src, dst = sqlite3.connect(source, timeout=60), sqlite3.connect(copy)
            with dst:
                src.backup(dst, pages=16)  # in steps; SQLite restarts a step the writer invalidated
            src.close()
            dst.close()
            copies.append((copy, written[0]))
    finally:
        stop.set()
        thread.join(60)
    assert not errors, errors
    keys = [app.recorder.signer().verifier_key]
    final_leaves, final_checkpoints = _leaves(engine_of(app)), _checkpoints(engine_of(app))
    sizes = []
    for copy, _ in copies:
        engine = sqlalchemy.create_engine(f"sqlite:///{copy}")
        report = verify_ledger(engine, keys)
        assert report.ok, (copy.name, [p.__dict__ for p in report.problems[:5]])
        leaves, checkpoints = _leaves(engine), _checkpoints(engine)
        assert leaves == final_leaves[:len(leaves)], f"{copy.name} is not a prefix of the ledger"
        assert checkpoints == final_checkpoints[:len(checkpoints)]
        sizes.append((len(leaves), len(checkpoints)))
        engine.dispose()
    assert len({s for s, _ in sizes}) == len(sizes), f"the writer did not run between copies: {sizes}"
    assert any(c for _, c in sizes), "no copy holds a checkpoint"
    last = make_ledger(f"sqlite:///{copies[-1][0]}", user=app.default_user)
    try:
        from datetime import date

        from domain import commands
        today, commands.TODAY = commands.TODAY, lambda: date(2030, 1, 1)  # 2030-01 is not in the future
        try:
            deduct(last, "A", "2030-01", "-1")  # beyond what the writer reached
        finally:
            commands.TODAY = today
        assert_verifies(last)
    finally:
        close(last)
