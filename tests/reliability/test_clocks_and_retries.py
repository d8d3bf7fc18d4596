"""Clocks, keyed retries and approvals under races (issue 14 items 6 and 7, and an
``approval_mismatch`` seen in the concurrency run; docs/concurrency.md).

The races are made deterministic: a second application instance over the same database
acts in the middle of the first one's command (inside its handler, before its save), which
is exactly the window two clients hit under load.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest
from sqlalchemy import text

from adapters.bootstrap import engine_of
from adapters.store import recorder as store
from adapters.store.logreader import LogReader
from domain import commands as c
from domain.errors import DuplicateKey, MonthStateConflict
from domain.service.application import Ledger
from domain.service.handlers import HANDLERS
from projections.model import AssessmentModel
from projections.views import month_json, quarter_json
from tests.helpers import approve, company, deduct, events
from tests.reliability.helpers import assert_verifies

T0 = 1_600_000_000_000_000  # 2020-09-13T12:26:40Z, in µs


def freeze_database_clock(monkeypatch: pytest.MonkeyPatch, at_us: int) -> None:
    """Make the database clock read by an append stand still at ``at_us`` (both dialects; the
    head queries' clock, and ``FIXED_CLOCK_US`` for the one-statement PostgreSQL append, whose
    clock is read inside ``ledger_append``)."""
    for dialect, name in (("postgresql", "_PG_HEAD"), ("sqlite", "_SQLITE_HEAD")):
        monkeypatch.setattr(store, name, getattr(store, name).replace(store._CLOCK[dialect], str(at_us)))
    monkeypatch.setattr(store, "FIXED_CLOCK_US", at_us)


def recorded_at_by_transaction(app: Ledger) -> list[int]:
    """The recorded-at of each write transaction (one ``ledger_tree`` row each), in log order."""
    with engine_of(app).connect() as conn:
        sizes = [r[0] for r in conn.execute(text("SELECT size FROM ledger_tree ORDER BY size"))]
        times = [r[0] for r in conn.execute(text("SELECT recorded_at_us FROM ledger_positions ORDER BY seq"))]
    return [times[size - 1] for size in sizes]


def as_of(app: Ledger, moment_us: int) -> AssessmentModel:
    reader = LogReader(engine_of(app))
    return AssessmentModel().apply_all(reader.read(upto=reader.position_recorded_by(moment_us)))


def interleave(monkeypatch: pytest.MonkeyPatch, command: type, victim: Ledger, meanwhile: Callable[[], Any],
               after: bool = False) -> list[Any]:
    """Run ``meanwhile()`` once inside ``victim``'s first handler of ``command`` (before
    it runs, or ``after`` it ran but before the unit of work is saved)."""
    real, done = HANDLERS[command], []

    def handler(uow: Any, cmd: Any) -> Any:
        if uow.app is victim and not done and not after:
            done.append(meanwhile())
        result = real(uow, cmd)
        if uow.app is victim and not done and after:
            done.append(meanwhile())
        return result
    monkeypatch.setitem(HANDLERS, command, handler)
    return done


# == item 7: recorded-at strictly increases ============================================================
def test_recorded_at_strictly_increases_when_the_database_clock_stands_still(app, monkeypatch) -> None:
    company(app, ("A", "full_time", None))
    freeze_database_clock(monkeypatch, T0)
    first = deduct(app, "A", "2019-07", "-1")
    for points in ("-2", "-3", "-4"):
        deduct(app, "A", "2019-07", points)
    times = recorded_at_by_transaction(app)
    assert all(a < b for a, b in zip(times, times[1:])), times
    assert times[-4] >= T0 and times[-1] - times[-4] == 3  # one µs apart: the clock gave nothing newer
    at = next(e.recorded_at_us for e in events(app) if e.data.get("entry_id") == first)
    shown = {b["branch"]: b["score"] for b in month_json(as_of(app, at), "2019-07")["branches"]}
    assert shown == {"A": "99.00"}  # as of the first entry: that entry alone, never the next one


def test_recorded_at_never_goes_back_when_the_database_clock_does(app, monkeypatch) -> None:
    company(app, ("A", "full_time", None))
    deduct(app, "A", "2019-07", "-1")
    before = recorded_at_by_transaction(app)[-1]
    freeze_database_clock(monkeypatch, 1_000_000)  # 1970: a clock stepped back
    deduct(app, "A", "2019-07", "-2")
    deduct(app, "A", "2019-07", "-3")
    times = recorded_at_by_transaction(app)
    assert times[-3:] == [before, before + 1, before + 2]
    assert_verifies(app)


def test_recorded_at_has_microseconds_and_one_value_per_transaction(app) -> None:
    company(app, ("A", "full_time", None))
    for _ in range(40):  # faster than a millisecond apart on SQLite, often
        deduct(app, "A", "2019-07", "-0.1")
    times = recorded_at_by_transaction(app)
    assert all(a < b for a, b in zip(times, times[1:])), times
    with engine_of(app).connect() as conn:
        per_transaction = conn.execute(text(
            "SELECT COUNT(DISTINCT p.recorded_at_us) FROM ledger_positions p")).scalar()
    assert per_transaction == len(times)  # the events of one transaction share it
    assert len({t % 1000 for t in times}) > 1  # microseconds, not milliseconds padded with zeros
    assert abs(app.recorder.clock() - times[-1]) < 60_000_000  # a real clock, not a counter


def test_a_log_written_with_millisecond_times_still_reads_and_verifies(app, monkeypatch) -> None:
    """Rows from before: several transactions sharing one millisecond time. They stay as
    they are; the next transaction is recorded after them."""
    from uuid import UUID

    from domain.integrity.log import leaf_bytes
    from domain.integrity.merkle import leaf_hash
    new_grow = store.grow

    def grow_like_before(head: Any, ids: Any, now_us: int, evts: Any) -> Any:
        """Every transaction at the same millisecond time, as SQLite's clock could give."""
        rows = [(position, head.seq + 1 + n, same_ms[0], leaf_hash(leaf_bytes(
                    position, same_ms[0], UUID(str(e.originator_id)), e.originator_version, e.topic, e.state)))
                for n, (position, e) in enumerate(zip(ids, evts))]
        head.compact.extend(r[3] for r in rows)
        return rows, same_ms[0]
    company(app, ("A", "full_time", None))
    # a millisecond time after everything before (a truthful clock of its day; before the roles
    # were granted, verify would rightly find the events unauthorized)
    same_ms = [(recorded_at_by_transaction(app)[-1] // 1000 + 1) * 1000]
    monkeypatch.setattr(app.recorder, "_append_function", False)  # rows grown in Python (PostgreSQL too)
    monkeypatch.setattr(store, "grow", grow_like_before)
    deduct(app, "A", "2019-07", "-1")
    deduct(app, "A", "2019-07", "-2")
    monkeypatch.setattr(store, "grow", new_grow)
    deduct(app, "A", "2019-07", "-3")
    times = recorded_at_by_transaction(app)
    assert times[-3:-1] == [same_ms[0], same_ms[0]] and times[-1] > same_ms[0]
    assert_verifies(app)
    shown = {b["branch"]: b["score"] for b in month_json(as_of(app, same_ms[0]), "2019-07")["branches"]}
    assert shown == {"A": "97.00"}  # as of that millisecond: both old transactions, not the new one


# == item 6: a keyed retry that meets a state error is the duplicate it is =============================
def test_a_keyed_approval_raced_by_its_own_retry_answers_as_the_duplicate(app, make_app, monkeypatch) -> None:
    company(app, ("A", "full_time", None))
    deduct(app, "A", "2019-07", "-1")
    app.submit_month(period="2019-07", actor="aggregator")
    other = make_app()
    fields = {"period": "2019-07", "actor": "approver", "key": "approve-07"}
    # ``app`` looked its key up (not there yet); the other client's identical command lands
    # before ``app`` loads the month, which it then finds approved.
    done = interleave(monkeypatch, c.ApproveMonth, app, lambda: other.approve_month(**fields))
    assert app.approve_month(**fields) is None  # the duplicate (HTTP 200), not MonthStateConflict (409)
    assert done == ["2019-07"]
    assert sum(e.name == "AssessmentMonth.Approved" for e in events(app)) == 1
    assert_verifies(app)


def test_a_keyed_command_raced_by_other_content_under_its_key_is_a_duplicate_key(app, make_app, monkeypatch) -> None:
    company(app, ("A", "full_time", None))
    app.submit_month(period="2019-07", actor="aggregator")
    other = make_app()
    interleave(monkeypatch, c.ApproveMonth, app,
               lambda: other.approve_month(period="2019-07", actor="另一位审批人", key="approve-07"))
    with pytest.raises(DuplicateKey) as refused:
        app.approve_month(period="2019-07", actor="approver", key="approve-07")
    assert refused.value.field == "key"


def test_a_state_error_without_its_key_in_the_ledger_is_still_refused(app, make_app, monkeypatch) -> None:
    company(app, ("A", "full_time", None))
    app.submit_month(period="2019-07", actor="aggregator")
    other = make_app()
    interleave(monkeypatch, c.ApproveMonth, app,
               lambda: other.approve_month(period="2019-07", actor="approver", key="approve-07-a"))
    with pytest.raises(MonthStateConflict):
        app.approve_month(period="2019-07", actor="approver", key="approve-07-b")
    with pytest.raises(MonthStateConflict):
        app.approve_month(period="2019-07", actor="approver")  # no key: nothing to look up


def test_a_keyed_import_line_raced_by_the_same_import_is_skipped(app, make_app, monkeypatch) -> None:
    company(app, ("A", "full_time", None))
    app.submit_month(period="2019-07", actor="aggregator")
    other = make_app()
    line = {"op": "approve_month", "period": "2019-07", "actor": "approver", "key": "approve-07"}
    interleave(monkeypatch, c.ApproveMonth, app, lambda: other.import_batch([(1, dict(line))]))
    result = app.import_batch([(1, dict(line))])
    assert (result.appended, result.skipped) == (0, 1)
    assert sum(e.name == "AssessmentMonth.Approved" for e in events(app)) == 1


# == the approval raced by a correction (verify: approval_mismatch) ====================================
def test_a_quarter_approval_raced_by_a_correction_agrees_with_the_log_before_it(app, make_app, monkeypatch) -> None:
    """A committee decision corrects an entry of an approved month while the quarter is
    being approved. The quarter approval read the months before the correction; it must not
    land after it with the old numbers (verify recomputes each approval from the events
    before its position)."""
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    entry = deduct(app, "A", "2019-07", "-10")
    approve(app, "2019-07", "2019-08", "2019-09")
    appeal = app.file_appeal(entry_id=str(entry), branch="A", reason="会议已召开", actor="A书记")
    other = make_app()
    done = interleave(monkeypatch, c.ApproveQuarter, app, after=True, meanwhile=lambda: other.decide_appeal(
        appeal_id=str(appeal), decision="upheld", points="0", reason="依据不足", actor="党委"))
    app.approve_quarter(period="2019Q3", actor="approver")
    assert done == [appeal]
    log = events(app)
    names = [e.name for e in log]
    assert names.index("AssessmentMonth.EntryCorrected") < names.index("AssessmentQuarter.Approved")
    approval = next(e for e in log if e.name == "AssessmentQuarter.Approved")
    scores = {r["branch"]: str(r["score"]) for r in approval.data["ranking"]}
    assert scores["A"] == "100.00", scores  # the correction counted: it came first in the log
    assert_verifies(app)
    assert quarter_json(as_of(app, approval.recorded_at_us), "2019Q3")["status"] == "approved"


def test_a_year_approval_raced_by_a_correction_agrees_with_the_log_before_it(app, make_app, monkeypatch) -> None:
    """The same race for the year: a committee correction of an entry of an approved month lands
    while the year is being approved (the demo year, everything but its approval)."""
    from scripts.demo import demo_lines
    lines = list(demo_lines())
    cut = next(i for i, line in enumerate(lines) if line["op"] == "approve_year")
    app.import_batch(enumerate(lines[:cut], start=1))
    log = events(app)
    entry = next(e for e in log if e.name == "AssessmentMonth.ScoreRecorded" and e.data["category"] != "bonus"
                 and str(e.data["points"]) != "-0.01")
    period = next(e.data["period"] for e in log if e.aggregate_id == entry.aggregate_id and "period" in e.data)
    before = {b["branch"]: b["score"] for b in month_json(as_of(app, log[-1].recorded_at_us), period)["branches"]}
    other = make_app()
    done = interleave(monkeypatch, c.ApproveYear, app, after=True, meanwhile=lambda: other.correct_entry(
        entry_id=str(entry.data["entry_id"]), points="-0.01", reason="党委更正", actor="党委"))
    app.approve_year(year="2019", actor="公司党委会")
    assert done
    log = events(app)
    names = [e.name for e in log]
    assert names.index("AssessmentMonth.EntryCorrected") < names.index("AssessmentYear.Approved")
    after = {b["branch"]: b["score"] for b in month_json(as_of(app, log[-1].recorded_at_us), period)["branches"]}
    assert after[entry.data["branch"]] != before[entry.data["branch"]]  # the correction moved a score
    assert_verifies(app)
