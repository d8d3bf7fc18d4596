"""The scoring flow against a real store, on SQLite and PostgreSQL."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.errors import (
    BranchAlreadyRegistered,
    BranchNotFound,
    BranchNotTakingPart,
    InvalidInput,
    MonthNotOpenForEntries,
    MonthStateConflict,
    NotInitialized,
    QuarterAlreadyApproved,
    QuarterNotReady,
    WrongDepartment,
)
from tests.helpers import approve, company, deduct, events, month, quarter

Q3 = ("2019-07", "2019-08", "2019-09")


def test_commands_need_init(make_app) -> None:
    app = make_app()
    with pytest.raises(NotInitialized):
        app.register_branch(code="A", name="甲", members=3)
    import sqlalchemy

    from adapters.bootstrap import engine_of
    assert "ledger_events" not in sqlalchemy.inspect(engine_of(app)).get_table_names()  # nothing created


def test_golden_month_results_through_the_store(app) -> None:
    company(app, ("FT", "full_time", None), ("PT", "part_time", None), ("NS", None, None))
    deduct(app, "FT", "2019-07", "-2")
    deduct(app, "PT", "2019-07", "-6", "conduct", "discipline_inspection")
    rows = month(app, "2019-07")
    assert rows["FT"]["score"] == "98.00" and rows["FT"]["coefficient"] == "0.9800"
    assert rows["FT"]["allowance"] is None
    assert rows["PT"]["score"] == "94.00" and rows["PT"]["allowance"] == "0.00"
    assert rows["PT"]["coefficient"] is None
    assert rows["NS"] | {} == {**rows["NS"], "mode": None, "coefficient": None, "allowance": None}


def test_submitted_month_refuses_entries_until_returned(app) -> None:
    company(app, ("A", "full_time", None))
    app.submit_month(period="2019-07", actor="agg")
    with pytest.raises(MonthNotOpenForEntries) as err:
        deduct(app, "A", "2019-07", "-1")
    assert err.value.field == "period"
    with pytest.raises(InvalidInput):
        app.return_month(period="2019-07", reason=" ", actor="appr")
    app.return_month(period="2019-07", reason="漏录纪检扣分", actor="appr")
    deduct(app, "A", "2019-07", "-1")
    approve(app, "2019-07")
    with pytest.raises(MonthNotOpenForEntries):
        deduct(app, "A", "2019-07", "-1")
    with pytest.raises(MonthStateConflict):
        app.return_month(period="2019-07", reason="x", actor="appr")
    with pytest.raises(MonthStateConflict):
        app.approve_month(period="2019-07", actor="appr")
    assert month(app, "2019-07")["A"]["score"] == "99.00"


def test_approve_needs_submission(app) -> None:
    company(app, ("A", "full_time", None))
    with pytest.raises(MonthStateConflict):
        app.approve_month(period="2019-08", actor="appr")


def test_refusals_name_the_field_and_write_nothing(app) -> None:
    company(app, ("A", "full_time", None))
    before = len(events(app))
    cases = [
        (dict(points="2"), InvalidInput, "points"),  # positive deduction
        (dict(points="-1.005"), InvalidInput, "points"),  # three decimals
        (dict(points="0"), InvalidInput, "points"),
        (dict(points="NaN"), InvalidInput, "points"),
        (dict(category="bonus", points="-1"), InvalidInput, "points"),
        (dict(department="office"), WrongDepartment, "department"),
        (dict(branch="ZZ"), BranchNotFound, "branch"),
        (dict(category="sports"), InvalidInput, "category"),
        (dict(period="2019-13"), InvalidInput, "period"),
    ]
    for change, error, field in cases:
        args = dict(branch="A", period="2019-07", category="political", points="-1", reason="r",
                    department="party_mass", actor="s") | change
        with pytest.raises(error) as err:
            app.record_score(**args)
        assert err.value.field == field, (change, err.value)
    with pytest.raises(BranchAlreadyRegistered):
        app.register_branch(code="A", name="again", members=1)
    assert len(events(app)) == before


def test_bonus_is_positive_and_capped(app) -> None:
    company(app, ("A", "full_time", None))
    app.record_score(branch="A", period="2019-07", category="bonus", points="4", reason="表彰",
                     department="party_mass", actor="s")
    app.record_score(branch="A", period="2019-07", category="bonus", points="3", reason="表彰",
                     department="party_mass", actor="s")
    assert month(app, "2019-07")["A"]["score"] == "105.00"
    assert month(app, "2019-07")["A"]["coefficient"] == "1.0000"


def test_quarter_approval_golden_cases_and_money_events(app) -> None:
    company(app, ("TOP", "full_time", None), ("MID", "full_time", None), ("LOW", "part_time", None))
    deduct(app, "MID", "2019-07", "-1")
    # LOW: 97, 97.7, 99 → mean 97.90 (last, below 98 → fined, part-time 1000)
    deduct(app, "LOW", "2019-07", "-3")
    deduct(app, "LOW", "2019-08", "-2.3")
    deduct(app, "LOW", "2019-09", "-1")
    with pytest.raises(QuarterNotReady):
        app.approve_quarter(period="2019Q3", actor="appr")
    approve(app, *Q3[:2])
    with pytest.raises(QuarterNotReady):
        app.approve_quarter(period="2019Q3", actor="appr")
    approve(app, Q3[2])
    approval = app.approve_quarter(period="2019Q3", actor="appr")
    with pytest.raises(QuarterAlreadyApproved):
        app.approve_quarter(period="2019Q3", actor="appr")
    q = quarter(app, "2019Q3")
    assert q["status"] == "approved"
    rows = {b["branch"]: b for b in q["branches"]}
    assert [b["branch"] for b in q["branches"]] == ["TOP", "MID", "LOW"]
    assert rows["LOW"]["score"] == "97.90" and rows["LOW"]["fine"] == "1000.00"
    assert rows["LOW"]["months"] == {"2019-07": "97.00", "2019-08": "97.70", "2019-09": "99.00"}
    assert rows["TOP"]["award"] == "3000.00" and rows["TOP"]["rank"] == 1
    assert rows["MID"]["award"] == "0.00" and rows["MID"]["fine"] == "0.00"
    money = [e for e in events(app) if e.name in ("AssessmentQuarter.AwardGranted", "AssessmentQuarter.FineImposed")]
    assert {(e.name.split(".")[1], e.data["branch"], e.data["amount"]) for e in money} == {
        ("AwardGranted", "TOP", D("3000.00")), ("FineImposed", "LOW", D("1000.00"))}
    assert all(e.data["approval_id"] == approval for e in money)
    approved = [e for e in events(app) if e.name == "AssessmentQuarter.Approved"][0]
    assert [r["branch"] for r in approved.data["ranking"]] == ["TOP", "MID", "LOW"]


def test_branch_from_month_and_no_secretary(app) -> None:
    company(app, ("OLD", "full_time", None), ("NEW", "full_time", "2019-08"), ("NOSEC", None, None))
    with pytest.raises(BranchNotTakingPart):
        deduct(app, "NEW", "2019-07", "-1")
    deduct(app, "NEW", "2019-08", "-1")
    deduct(app, "NOSEC", "2019-07", "-10")
    assert set(month(app, "2019-07")) == {"OLD", "NOSEC"}
    assert set(month(app, "2019-08")) == {"OLD", "NEW", "NOSEC"}
    approve(app, *Q3)
    app.approve_quarter(period="2019Q3", actor="appr")
    rows = {b["branch"]: b for b in quarter(app, "2019Q3")["branches"]}
    assert set(rows) == {"OLD", "NOSEC"}  # NEW joins from 2019-08: quarters from 2019Q4
    assert rows["NOSEC"]["rank"] == 2 and rows["NOSEC"]["fine"] == "0.00"  # last, <98, no secretary
    assert "no_secretary" in rows["NOSEC"]["notes"][0]


def test_approved_month_freezes_its_secretary(app) -> None:
    company(app, ("A", "part_time", None))
    approve(app, "2019-07")
    app.appoint_secretary(branch="A", name="新书记", mode="full_time", from_month="2019-07", actor="r")
    assert month(app, "2019-07")["A"]["mode"] == "part_time"  # as approved
    assert month(app, "2019-08")["A"]["mode"] == "full_time"


def test_positions_are_gap_free_and_recorded_at_never_decreases(app) -> None:
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    for _ in range(5):
        deduct(app, "A", "2019-07", "-1")
    from sqlalchemy import text

    from adapters.bootstrap import engine_of
    with engine_of(app).connect() as conn:
        rows = conn.execute(text("SELECT position, seq, recorded_at_us FROM ledger_positions ORDER BY position")).all()
        n_events = conn.execute(text("SELECT COUNT(*) FROM ledger_events")).scalar()
    assert len(rows) == n_events
    assert [r.seq for r in rows] == list(range(len(rows)))
    assert all(a.recorded_at_us <= b.recorded_at_us for a, b in zip(rows, rows[1:]))
    assert [e.position for e in events(app)] == [r.position for r in rows]
