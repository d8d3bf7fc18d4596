"""CLI start-up on a real ledger (issue 18), on each backend: a read command opens the
database alone (no application, commands or web code imported) and prints what the full
path prints; every command opens the ledger at most once; a missing database or table is
still a clear error. (The time itself is measured by ``scripts/bench_cli.py``.)"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import adapters.cli.common as common
from adapters.cli.main import main
from tests.helpers import cli_users
from tests.unit.test_cli_lazy import modules_after

LINES = [
    {"op": "register_branch", "key": "b/A", "code": "A", "name": "甲支部", "members": 20},
    {"op": "appoint_secretary", "key": "s/A", "branch": "A", "name": "张三", "mode": "full_time", "from": "2019-01"},
    {"op": "record_score", "key": "e/1", "branch": "A", "period": "2019-07", "category": "political",
     "points": "-2.5", "reason": "学习缺课", "department": "party_mass", "actor": "u"},
]
APPLICATION = ("domain.service.application", "eventsourcing_sqlalchemy", "sqlalchemy", "pydantic", "fastapi",
               "openpyxl", "cryptography", "argon2")


@pytest.fixture
def ledger_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = cli_users(CliRunner(), {"LEDGER_DATABASE_URL": db_url})
    path = tmp_path / "lines.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in LINES) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    return env


def loaded(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == a or m.startswith(a + ".") for a in APPLICATION))


def test_month_show_reads_without_building_the_application(ledger_env: dict[str, str]) -> None:
    """The import caught the view up: the driver alone answers, as the full path would."""
    full = run_full(ledger_env, ["month", "show", "2019-07"])
    assert "97.50" in full
    modules, printed = modules_after(["month", "show", "2019-07"], ledger_env)
    assert printed == full
    assert not loaded(modules), loaded(modules)
    modules, printed = modules_after(["quarter", "show", "2019Q3", "--json"], ledger_env)
    assert printed == run_full(ledger_env, ["quarter", "show", "2019Q3", "--json"])
    assert not loaded(modules), loaded(modules)


def test_a_view_behind_the_log_is_caught_up_by_the_full_path(ledger_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["score", "--branch", "A", "--period", "2019-07", "--category", "political",
                                       "--points", "-1", "--reason", "缺课", "--department", "party_mass",
                                       "--actor", "u"], env=ledger_env)
    assert result.exit_code == 0, result.output  # the maintained view is now one event behind
    modules, printed = modules_after(["month", "show", "2019-07"], ledger_env)
    assert "96.50" in printed
    assert "sqlalchemy" in modules  # the full path answered, and saved the caught-up view
    modules, again = modules_after(["month", "show", "2019-07"], ledger_env)
    assert again == printed and "sqlalchemy" not in modules


def run_full(env: dict[str, str], args: list[str]) -> str:
    """What ``ledger ARGS`` prints through the full path (the engine and the maintained
    view), in this process, with the driver-only read switched off."""
    import adapters.store.fastview as fastview
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fastview, "current_model", lambda url, sections: None)
        result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def count_opens(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"ledger": 0, "engine": 0}

    def counted(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return real(*args, **kwargs)
        return wrapper
    monkeypatch.setattr(common, "open_ledger", counted("ledger", common.open_ledger))
    monkeypatch.setattr(common, "open_engine", counted("engine", common.open_engine))
    return counts


@pytest.mark.parametrize("args", [["explain", "month", "2019-07", "--branch", "A"],
                                  ["entries", "--period", "2019-07", "--branch", "A"],
                                  ["quarter", "diff", "2019Q3"],
                                  ["score", "--branch", "A", "--period", "2019-08", "--category", "political",
                                   "--points", "-1", "--reason", "缺课", "--department", "party_mass",
                                   "--actor", "u"]])
def test_a_command_opens_the_ledger_once(ledger_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                         args: list[str]) -> None:
    counts = count_opens(monkeypatch)
    result = CliRunner().invoke(main, args, env=ledger_env)
    assert result.exit_code in (0, 1), result.output
    assert counts["ledger"] + counts["engine"] == 1, counts
    again = CliRunner().invoke(main, args, env=ledger_env)  # a new invocation opens its own
    assert again.exit_code == result.exit_code, again.output
    assert counts["ledger"] + counts["engine"] == 2, counts


def test_a_read_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    result = CliRunner().invoke(main, ["month", "show", "2019-07"], env={"LEDGER_DATABASE_URL": f"sqlite:///{missing}"})
    assert result.exit_code == 1
    assert "找不到账本数据库" in result.output and str(missing) in result.output
    assert not missing.exists()  # nothing created


def test_a_read_of_a_database_without_ledger_tables_is_a_clear_error(db_url: str) -> None:
    from adapters.bootstrap import sqlite_path
    path = sqlite_path(db_url)
    if path is not None:  # an empty SQLite file
        sqlite3.connect(path).close()
    result = CliRunner().invoke(main, ["month", "show", "2019-07"], env={"LEDGER_DATABASE_URL": db_url})
    assert result.exit_code == 1
    assert "没有账本表" in result.output and "ledger init" in result.output
