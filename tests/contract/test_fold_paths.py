"""The bulk read path (``LogReader.rows`` + ``AssessmentModel.apply_rows``, issue 18) folds
exactly what the event-by-event path (``LogReader.read`` + ``apply_all``) folds.

On the stored demo log (every kind of assessment event: entries, voids, corrections,
approvals, re-approvals, years, rosters), on both backends: every section of the two models
is equal, whole and from a middle position on (a catch-up), and so is a maintained view's
rebuild. How it fails: a handler that the bulk path skips or folds differently changes a
section.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from adapters.bootstrap import engine_of
from adapters.store.logreader import DECODE, LogReader
from adapters.store.views import MaintainedView
from projections.model import AssessmentModel
from tests.helpers import approve, company, deduct, load_stored_rows

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_log_v1.json.gz"


def _sections(model: AssessmentModel) -> dict[str, Any]:
    names = ["org", *("month:" + m for m in model.months), *("quarter:" + q for q in model.quarters),
             *("year:" + y for y in model.years)]
    return {n: json.loads(json.dumps(model.section(n), default=str)) for n in names}


def varied(app: Any) -> Any:
    """Three branches in 2019Q3: entries, a void, approvals, an upheld appeal and a committee
    correction after the quarter's approval, a business score, a re-approval."""
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", "full_time", None))
    entry = deduct(app, "B", "2019-07", "-5")
    wrong = deduct(app, "C", "2019-07", "-2")
    app.void_entry(entry_id=str(wrong), reason="录错支部", actor="scorer")
    deduct(app, "A", "2019-08", "-1")
    late = deduct(app, "C", "2019-09", "-0.5", category="daily", department="office")
    app.record_business_score(branch="A", period="2019-07", score="95.50", actor="biz")
    approve(app, "2019-07", "2019-08", "2019-09")
    app.approve_quarter(period="2019Q3", actor="appr")
    appeal = app.file_appeal(entry_id=str(entry), branch="B", reason="已整改", actor="B书记")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="0", reason="依据不足", actor="committee")
    app.correct_entry(entry_id=str(late), points="-3", reason="复核", actor="committee")
    app.reapprove_quarter(period="2019Q3", reason="申诉成立", actor="appr")
    return app


def test_bulk_rows_fold_as_events_do(app) -> None:
    varied(app)
    _same_folds(app, {"AssessmentMonth.EntryCorrected", "AssessmentMonth.EntryVoided",
                      "AssessmentQuarter.Reapproved", "AssessmentMonth.BusinessScoreRecorded"})


def test_bulk_rows_fold_the_stored_demo_log_as_events_do(make_app) -> None:
    app = make_app()
    load_stored_rows(app, json.loads(gzip.decompress(FIXTURE.read_bytes()))["tables"])
    _same_folds(app, {"AssessmentYear.Approved", "AssessmentQuarter.Approved", "AssessmentMonth.Approved"})


def _same_folds(app: Any, expected_kinds: set[str]) -> None:
    reader = LogReader(engine_of(app))
    events = list(reader.read())
    kinds = {e.name for e in events}
    assert expected_kinds <= kinds, kinds
    one = AssessmentModel().apply_all(events)
    bulk = AssessmentModel().apply_rows(reader.rows(batch=97), DECODE)  # pages that split the log
    assert bulk.position == one.position == events[-1].position
    assert _sections(bulk) == _sections(one)
    assert bulk.dirty == one.dirty

    middle = events[len(events) // 2].position
    head = AssessmentModel().apply_all(e for e in events if e.position <= middle)
    head.apply_rows(reader.rows(after=middle), DECODE)
    assert _sections(head) == _sections(one)

    assert _sections(MaintainedView(engine_of(app)).rebuild()) == _sections(one)
