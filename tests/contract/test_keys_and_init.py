"""Issue 14 items 3–4: reads create nothing; the log declares its keys; checkpoints are a
role, rate-limited; receipts reuse checkpoints. Issue 19 item 6: backup and restore."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.cli.main import main
from adapters.integrity.verify import verify_ledger
from domain.errors import CheckpointRefused, PermissionDenied
from domain.service.application import Ledger
from tests.helpers import approve, company, deduct

READS = [  # every read or verify command, with arguments it would take on a real ledger
    ["verify"], ["verify", "--json"], ["month", "show", "2019-07"], ["month", "show", "2019-07", "--json"],
    ["quarter", "show", "2019Q3"], ["year", "show", "2019"],
    ["explain", "month", "2019-07", "--branch", "A"], ["explain", "quarter", "2019Q3", "--branch", "A"],
    ["entries", "--period", "2019-07"], ["history", "--branch", "A"], ["prove", "1"], ["receipt", "1"],
    ["export", "month", "2019-07", "--xlsx", "out.xlsx"], ["rulebook", "show"], ["key", "show"],
    ["checkpoint", "show"], ["audit", "export", "--from", "1", "--to", "2", "--out", "a.json"],
]


def _tables(url: str) -> list[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        return sqlalchemy.inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_a_read_in_an_empty_directory_creates_nothing_and_fails_clearly(args: list[str], tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    for name in ("LEDGER_DATABASE_URL", "LEDGER_SIGNING_KEY", "LEDGER_KEYSTORE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0, result.output
    assert "LEDGER_DATABASE_URL" in result.output and "ledger.sqlite3" in result.output, result.output
    assert "Traceback" not in result.output
    assert sorted(os.listdir(empty)) == [], "a read created files"


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_a_read_of_an_empty_database_creates_no_table_and_no_key(args: list[str], db_url: str, tmp_path: Path,
                                                                 signing_key: Path, keystore: Path) -> None:
    monkeydir = tmp_path / "cwd"
    monkeydir.mkdir()
    cwd = os.getcwd()
    os.chdir(monkeydir)
    try:
        result = CliRunner().invoke(main, args, env={"LEDGER_DATABASE_URL": db_url})
    finally:
        os.chdir(cwd)
    assert result.exit_code != 0, result.output
    assert "LEDGER_DATABASE_URL" in result.output and "ledger init" in result.output, result.output
    assert not signing_key.exists() and not keystore.exists() and os.listdir(monkeydir) == []
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
    else:
        assert _tables(db_url) == []


def test_a_ledger_initialized_before_the_view_tables_reads_without_creating_them(app: Ledger, db_url: str) -> None:
    """A ledger whose maintained-view tables do not exist (initialized before they did) is
    read from the log in memory; no read creates them; ``ledger init`` (idempotent) does."""
    company(app, ("A", "full_time", None))
    deduct(app, "A", "2019-07", "-2")
    with engine_of(app).begin() as conn:
        for table in ("ledger_view_sections", "ledger_view_tracking"):
            conn.execute(sqlalchemy.text(f"DROP TABLE {table}"))
    env = {"LEDGER_DATABASE_URL": db_url}
    for args in (["month", "show", "2019-07", "--json"], ["quarter", "show", "2019Q3"], ["verify"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, (args, result.output)
        assert "ledger_view_sections" not in _tables(db_url), f"{args} created the view's tables"
    shown = json.loads(CliRunner().invoke(main, ["month", "show", "2019-07", "--json"], env=env).output)
    assert {b["branch"]: b["score"] for b in shown["branches"]} == {"A": "98.00"}
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    assert {"ledger_view_sections", "ledger_view_tracking"} <= set(_tables(db_url))


def test_verifying_a_ledger_with_tables_but_no_events_is_an_error(db_url: str) -> None:
    from adapters.bootstrap import close, make_ledger
    empty = make_ledger(db_url)
    empty.recorder.create_table()  # the tables of a half-done init, no event
    close(empty)
    result = CliRunner().invoke(main, ["verify"], env={"LEDGER_DATABASE_URL": db_url})
    assert result.exit_code == 1 and "没有任何事件" in result.output and "全部相符" not in result.output


# -- keys declared in the log ---------------------------------------------------------------------------------------
def _events(app: Ledger, name: str) -> list[Any]:
    from tests.helpers import events
    return [e for e in events(app) if e.name == name]


def test_init_declares_the_key_in_the_log_and_verify_needs_no_private_key(app: Ledger, db_url: str, tmp_path: Path,
                                                                          signing_key: Path) -> None:
    declared = _events(app, "SigningKeys.Declared")
    assert [e.raw["verifier_key"] for e in declared] == [app.recorder.signer().verifier_key]
    approve(app, "2019-07")
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    missing_key = elsewhere / "ledger-signing.key"
    env = {"LEDGER_DATABASE_URL": db_url, "LEDGER_SIGNING_KEY": str(missing_key)}
    ok = CliRunner().invoke(main, ["verify", "--json"], env=env)  # an auditor's machine: no private key there
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] and not missing_key.exists()  # before: a new key, and signature_bad
    shown = CliRunner().invoke(main, ["key", "show"], env=env)
    assert shown.exit_code == 0 and shown.output.splitlines()[0] == app.recorder.signer().verifier_key
    assert not missing_key.exists()
    trusted = tmp_path / "trusted.pub"
    trusted.write_text(app.recorder.signer().verifier_key + "\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["verify", "--key", str(trusted)], env=env).exit_code == 0
    from domain.integrity.note import generate_key
    other = tmp_path / "other.pub"
    other.write_text(generate_key("dangjian-ledger")[1] + "\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["verify", "--key", str(other)], env=env)
    assert refused.exit_code == 1 and "key_untrusted" in refused.output


def test_a_checkpoint_by_a_key_the_log_does_not_declare_is_caught(app: Ledger) -> None:
    from domain.integrity.note import generate_key, load_signer
    approve(app, "2019-07")
    stranger = load_signer(generate_key("dangjian-ledger")[0], "dangjian-ledger")
    app.recorder.make_checkpoint("forged", signer=stranger)  # an operator with another key, same name
    report = verify_ledger(engine_of(app), [])
    assert [p.kind for p in report.problems] == ["signature_bad"]


def test_signing_without_the_key_is_a_clear_error_and_creates_none(app: Ledger, db_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ledger-signing.key"
    env = {"LEDGER_DATABASE_URL": db_url, "LEDGER_SIGNING_KEY": str(missing), "LEDGER_USER": "admin"}
    app.command("create_user", as_user="admin", user="jijian", name="纪检", actor="admin")
    app.command("grant_role", as_user="admin", user="jijian", role="auditor", actor="admin")
    company(app, ("A", "full_time", None))  # the log grows past the last checkpoint
    result = CliRunner().invoke(main, ["--as", "jijian", "checkpoint"], env=env)
    assert result.exit_code == 1 and "LEDGER_SIGNING_KEY" in result.output and "找不到账本签名私钥" in result.output
    assert not missing.exists()


def test_init_refuses_a_key_other_than_the_one_the_log_declares(app: Ledger, db_url: str, tmp_path: Path) -> None:
    from adapters.store.tree import load_or_create_signer
    other = tmp_path / "other.key"
    load_or_create_signer(other)
    result = CliRunner().invoke(main, ["init"], env={"LEDGER_DATABASE_URL": db_url, "LEDGER_SIGNING_KEY": str(other)})
    assert result.exit_code == 1 and "LEDGER_SIGNING_KEY" in result.output and "ledger key rotate" in result.output
    assert len(_events(app, "SigningKeys.Declared")) == 1


def test_key_rotation_is_declared_in_the_log_and_the_old_key_stops_signing(app: Ledger, db_url: str, tmp_path: Path,
                                                                          signing_key: Path) -> None:
    company(app, ("A", "full_time", None))
    approve(app, "2019-07")
    old = app.recorder.signer().verifier_key
    env = {"LEDGER_DATABASE_URL": db_url}
    refused = CliRunner().invoke(main, ["--as", "migration", "key", "rotate", "--new-key", str(tmp_path / "n.key"),
                                        "--reason", "年度换钥"], env=env)
    assert refused.exit_code == 1 and "admin" in refused.output  # rotation is the admin's
    rotated = CliRunner().invoke(main, ["--as", "admin", "key", "rotate", "--new-key", str(tmp_path / "n.key"),
                                        "--reason", "年度换钥"], env=env)
    assert rotated.exit_code == 0, rotated.output
    keys = [e.raw["verifier_key"] for e in _events(app, "SigningKeys.Rotated")]
    assert len(keys) == 1 and keys[0] != old
    deduct(app, "A", "2019-08", "-1")
    approve(app, "2019-08")  # the running app still holds the old key: its checkpoint no longer verifies
    stale = verify_ledger(engine_of(app), [old])
    assert [p.kind for p in stale.problems] == ["signature_bad"]
    shown = CliRunner().invoke(main, ["key", "show", "--all"], env=env)
    assert shown.output.splitlines()[:2] == [old, keys[0]]
    app.command("create_user", as_user="admin", user="shuji", name="书记", actor="admin")
    app.command("grant_role", as_user="admin", user="shuji", role="approver", actor="admin")
    stale_sign = CliRunner().invoke(main, ["--as", "shuji", "checkpoint"], env=env)  # LEDGER_SIGNING_KEY: the old key
    assert stale_sign.exit_code == 1 and "不是账本登记的当前签名公钥" in stale_sign.output


# -- who may have a checkpoint signed, how often ---------------------------------------------------------------------
@pytest.fixture
def staffed(app: Ledger) -> Ledger:
    company(app, ("A", None, None))
    app.command("create_user", as_user="admin", user="sec-a", name="A书记", actor="admin")
    app.appoint_secretary(branch="A", name="A书记", user="sec-a", mode="full_time", from_month="2019-01", actor="r")
    for user, role in (("shuji", "approver"), ("jijian", "auditor")):
        app.command("create_user", as_user="admin", user=user, name=user, actor="admin")
        app.command("grant_role", as_user="admin", user=user, role=role, actor="admin")
    return app


def _checkpoints(app: Ledger) -> int:
    with engine_of(app).connect() as conn:
        return int(conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM ledger_checkpoints")).scalar() or 0)


def test_only_approver_committee_or_auditor_issue_checkpoints_and_at_most_one_a_minute(staffed: Ledger,
                                                                                     db_url: str) -> None:
    from adapters.store.checkpoints import issue_checkpoint
    env = {"LEDGER_DATABASE_URL": db_url}
    before = _checkpoints(staffed)
    refused = CliRunner().invoke(main, ["--as", "sec-a", "checkpoint"], env=env)
    assert refused.exit_code == 1 and all(role in refused.output for role in ("approver", "committee", "auditor"))
    assert _checkpoints(staffed) == before
    assert any(r["user_id"] == "sec-a" and r["op"] == "生成检查点" for r in staffed.security_log.rows())
    made = CliRunner().invoke(main, ["--as", "shuji", "checkpoint"], env=env)
    assert made.exit_code == 0 and _checkpoints(staffed) == before + 1
    again = issue_checkpoint(staffed, "jijian", "nothing new")  # the log has not grown: the same checkpoint
    assert not again["made"] and _checkpoints(staffed) == before + 1
    deduct(staffed, "A", "2019-07", "-1")
    with pytest.raises(CheckpointRefused):
        issue_checkpoint(staffed, "jijian", "too soon")
    assert _checkpoints(staffed) == before + 1
    assert any(r["user_id"] == "jijian" and "秒" in r["reason"] for r in staffed.security_log.rows())
    with pytest.raises(PermissionDenied):
        issue_checkpoint(staffed, "sec-a", "a secretary")


def test_the_api_refuses_a_secretarys_checkpoint_and_limits_the_rate(staffed: Ledger, db_url: str) -> None:
    from fastapi.testclient import TestClient

    from adapters.http.app import create_app
    tokens = {u: staffed.command("issue_token", as_user="admin", user=u, actor="admin")["token"]
              for u in ("sec-a", "jijian")}
    with TestClient(create_app(db_url)) as http:
        def post(user: str) -> Any:
            return http.post("/checkpoints", json={}, headers={"Authorization": f"Bearer {tokens[user]}"})
        assert post("sec-a").status_code == 403
        assert post("jijian").status_code == 201
        deduct(staffed, "A", "2019-07", "-1")
        assert post("jijian").status_code == 429


def test_a_receipt_uses_the_latest_covering_checkpoint_and_says_when_it_asked(staffed: Ledger, db_url: str,
                                                                            tmp_path: Path) -> None:
    entry = deduct(staffed, "A", "2019-07", "-2")
    env = {"LEDGER_DATABASE_URL": db_url}
    first = CliRunner().invoke(main, ["--as", "sec-a", "receipt", str(entry)], env=env)
    assert first.exit_code == 0 and "已为本回执请求" in first.stderr
    assert json.loads(first.stdout)["checkpoint_requested"] is True
    count = _checkpoints(staffed)
    again = CliRunner().invoke(main, ["--as", "sec-a", "receipt", str(entry)], env=env)
    assert again.exit_code == 0 and json.loads(again.stdout)["checkpoint_requested"] is False
    assert "已为本回执请求" not in again.stderr and _checkpoints(staffed) == count  # no new signature
    later = deduct(staffed, "A", "2019-07", "-1")
    soon = CliRunner().invoke(main, ["--as", "sec-a", "receipt", str(later)], env=env)
    assert soon.exit_code == 1 and "尚无检查点覆盖该事件" in soon.output and _checkpoints(staffed) == count
