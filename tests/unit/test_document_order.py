"""The document clock (按单据日期) as a pure function of events: which are placed by a moment,
in what order, and what is said of those left out (projections/documents.py)."""
from __future__ import annotations

from uuid import uuid4

import pytest

from domain.asof import AsOf, check_document_date, document_us, parse_as_of, replay_point
from domain.errors import DocumentOrderConflict, InvalidInput
from domain.integrity.log import LoggedEvent
from projections.documents import by_document_date, fold_in_document_order
from projections.model import AssessmentModel

DAY_US = 86_400 * 1_000_000


def event(position: int, recorded_at_us: int, aggregate, version: int, raw: dict) -> LoggedEvent:
    return LoggedEvent(position, recorded_at_us, aggregate, version, "x:AssessmentMonth.ScoreRecorded", raw)


def test_a_migrated_event_stands_at_its_document_date_and_a_live_one_at_its_recorded_at() -> None:
    assert document_us({"migrated": True, "occurred_at": "2019-10-15"}, 123) == parse_as_of("2019-10-15T00:00:00+08:00")
    assert document_us({"by": "u"}, 123) == 123
    assert document_us({"migrated": True}, 123) is None  # no date on the paper: cannot be placed
    assert document_us({"occurred_at": "2019-01-02"}, 123) == parse_as_of("2019-01-02T00:00:00+08:00")  # init's


def test_the_slice_is_the_documents_order_not_the_logs() -> None:
    month, other = uuid4(), uuid4()
    day = parse_as_of("2019-08-01T00:00:00+08:00")
    log = [event(1, 10, month, 1, {"migrated": True, "occurred_at": "2019-08-10"}),  # opens the month
           event(2, 11, month, 2, {"migrated": True, "occurred_at": "2019-08-20"}),
           event(3, 12, other, 1, {"migrated": True}),  # no document date
           event(4, 13, month, 3, {"migrated": True, "occurred_at": "2019-08-03"})]  # migrated late, dated early
    chosen = by_document_date(log, day + 5 * DAY_US)
    assert [e.position for e in chosen.events] == [1, 4]  # the month exists as soon as an entry of it does
    assert (chosen.later, chosen.unplaced, chosen.position) == (1, 1, 4)
    assert [e.position for e in by_document_date(log, day + 30 * DAY_US).events] == [1, 4, 2]
    assert by_document_date(log, day).events == []
    assert by_document_date(log, day).stamp() == {"placed": 0, "later": 3, "unplaced": 1}


def test_a_dependency_dated_after_what_depends_on_it_is_named_not_a_traceback() -> None:
    org = uuid4()
    log = [LoggedEvent(1, 1, org, 1, "x:Organization.SecretaryAppointed",
                       {"migrated": True, "occurred_at": "2019-01-01", "branch": "A", "from_month": "2019-01",
                        "name": "n", "mode": "full_time", "user": None, "allowance": None}),
           LoggedEvent(2, 2, org, 2, "x:Organization.BranchRegistered",
                       {"migrated": True, "occurred_at": "2019-01-05", "code": "A", "name": "A", "from_month": "2019-01",
                        "members": 3})]
    with pytest.raises(DocumentOrderConflict) as refused:
        fold_in_document_order(AssessmentModel(), by_document_date(log, parse_as_of("2019-02-01")))
    assert "日志位置 1" in refused.value.reason


def test_one_clock_at_a_time_and_dates_checked() -> None:
    assert replay_point(None, None) is None
    point = replay_point(None, "2019-10-15")
    assert isinstance(point, AsOf) and point.by_document and point.text == "2019-10-15"
    assert not replay_point("2019-10-15", None).by_document
    with pytest.raises(InvalidInput) as both:
        replay_point("2019-10-15", "2019-10-15")
    assert both.value.field == "documented_by"
    with pytest.raises(InvalidInput) as bad:
        replay_point(None, "yesterday")
    assert bad.value.field == "documented_by"
    assert check_document_date("2019-01-02") == "2019-01-02"
    for wrong in ("2019-1-2", "2019-02-30", "20190102"):
        with pytest.raises(InvalidInput):
            check_document_date(wrong)
