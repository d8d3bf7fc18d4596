"""The whole application on the in-memory store (SQLite ``:memory:``, one connection shared by
the library's writes and the recorder's reads: adapters/store/recorder.py): no database file,
no server. Commands, folds and verification as on a real store, so a test of the domain's
rules through the service layer needs no database; the contract suite (tests/contract) runs the
same flows on SQLite files and PostgreSQL. Out-of-process callers (the CLI, ``ledger serve``)
cannot reach an in-memory database: those tests stay in tests/contract and tests/api."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from adapters.bootstrap import close, engine_of, make_ledger
from adapters.integrity.verify import verify_ledger
from domain.errors import InvalidInput, MonthNotOpenForEntries
from domain.service.application import Ledger
from tests.conftest import isolated_env
from tests.helpers import MIGRATION, approve, company, deduct, events, month, quarter, with_users

Q3 = ("2019-07", "2019-08", "2019-09")


@pytest.fixture
def memory_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    """An initialised ledger on the in-memory store, working in an empty folder (to show that
    nothing is written there)."""
    monkeypatch.chdir(tmp_path)
    app = with_users(make_ledger("sqlite:///:memory:", user=MIGRATION))
    yield app
    close(app)


def test_nothing_is_written_to_disk_but_the_tests_keys(memory_app: Ledger, tmp_path: Path) -> None:
    company(memory_app, ("A", "full_time", None))
    approve(memory_app, "2019-07")
    keys = {Path(v).name for v in isolated_env(tmp_path).values() if not v.startswith("sqlite")} - {"migration"}
    written = {p.name for p in tmp_path.iterdir()}
    assert written <= keys and "ledger.sqlite3" not in written, written


def test_golden_month_and_quarter_on_the_in_memory_store(memory_app: Ledger) -> None:
    company(memory_app, ("FT", "full_time", None), ("PT", "part_time", None), ("W", "full_time", None))
    deduct(memory_app, "FT", "2019-07", "-2")
    deduct(memory_app, "PT", "2019-07", "-6", "conduct", "discipline_inspection")
    rows = month(memory_app, "2019-07")
    assert rows["FT"]["score"] == "98.00" and rows["FT"]["coefficient"] == "0.9800"  # 98 → 0.98
    assert rows["PT"]["score"] == "94.00" and rows["PT"]["allowance"] == "0.00"  # part-time below 95 → 0
    for period in Q3:
        deduct(memory_app, "W", period, "-3")
    approve(memory_app, *Q3)
    memory_app.approve_quarter(period="2019Q3", actor="committee")
    ranking = {r["branch"]: r for r in quarter(memory_app, "2019Q3")["branches"]}
    assert ranking["W"]["score"] == "97.00" and ranking["W"]["fine"] == "2000.00"  # last and below 98 → fined


def test_a_refusal_writes_nothing_and_a_sealed_month_refuses(memory_app: Ledger) -> None:
    company(memory_app, ("A", "full_time", None))
    before = len(events(memory_app))
    with pytest.raises(InvalidInput) as err:
        deduct(memory_app, "A", "2019-07", "-1.005")
    assert err.value.field == "points" and len(events(memory_app)) == before
    approve(memory_app, "2019-07")
    with pytest.raises(MonthNotOpenForEntries):
        deduct(memory_app, "A", "2019-07", "-1")


def test_the_in_memory_log_verifies(memory_app: Ledger) -> None:
    company(memory_app, ("A", "full_time", None))
    deduct(memory_app, "A", "2019-07", "-1")
    approve(memory_app, "2019-07")
    report = verify_ledger(engine_of(memory_app), [])
    assert report.ok, report.problems
    assert report.events == len(events(memory_app)) > 0
