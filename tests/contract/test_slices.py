"""Reads of one quarter from its own aggregates (adapters/store/slices.py, issue 18) show what
the fold of the whole log shows.

On a varied ledger (entries, a void, approvals, an upheld appeal and a committee correction
after the quarter's approval, a re-approval, other months' entries around them), on both
backends: the quarter and each of its months as of every position of the log; the diff;
what-ifs without an entry, an appeal, a position (an entry's, and a submission's, which
needs the full replay) and with an entry's points set; the explanation of every branch.
Each is compared with the old whole-log computation, which is kept as the reference here.
How it fails: a month rewound wrongly, a tail not recognised as needing a replay, or an
explanation missing an entry or an appeal changes the JSON.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.bootstrap import engine_of
from adapters.diffs import quarter_diff_now, quarter_whatif_now
from adapters.exports.explanations import appeal_events, explain_quarter_at, month_entries
from adapters.store.logreader import LogReader
from adapters.store.slices import quarter_sections, sliced_model
from domain.periods import quarter_months
from projections.compare import quarter_diff, quarter_whatif
from projections.explain import explain_quarter
from projections.model import AssessmentModel
from projections.views import month_json, quarter_json
from tests.contract.test_fold_paths import varied
from tests.helpers import deduct

Q = "2019Q3"


def _ledger(app: Any) -> list[Any]:
    varied(app)
    a_entry = next(e for e in LogReader(engine_of(app)).read()
                   if e.name == "AssessmentMonth.ScoreRecorded" and e.raw["branch"] == "A")
    app.correct_entry(entry_id=str(a_entry.data["entry_id"]), points="-4", reason="复核", actor="committee")
    deduct(app, "A", "2019-06", "-1")  # other quarters' months, after it
    deduct(app, "B", "2019-10", "-2")
    app.record_business_score(branch="C", period="2019-09", score="90", actor="biz")  # not additive: a replay
    return list(LogReader(engine_of(app)).read())


def test_a_quarter_as_of_every_position_is_the_whole_fold(app) -> None:
    events = _ledger(app)
    engine = engine_of(app)
    first_q3 = next(e.position for e in events if e.name == "AssessmentMonth.Opened" and e.raw["period"] == "2019-07")
    shown = 0
    for upto in [e.position for e in events if e.position >= first_q3]:
        full = AssessmentModel().apply_all(e for e in events if e.position <= upto)
        sliced = sliced_model(engine, quarter_sections(Q), upto)
        assert sliced.position == upto
        assert quarter_json(sliced, Q) == quarter_json(full, Q), upto
        for m in quarter_months(Q):
            if m in full.months:
                assert month_json(sliced, m) == month_json(full, m), (upto, m)
            else:
                assert m not in sliced.months
        shown += 1
    assert shown > 20


def test_the_diff_is_the_whole_fold_diff(app) -> None:
    events = _ledger(app)
    full = AssessmentModel().apply_all(events)
    diff = quarter_diff_now(engine_of(app), Q)
    assert diff == quarter_diff(full, Q, events)
    assert any(row["changed"] and row["causes"] for row in diff["branches"])


def test_whatifs_are_the_whole_log_replays(app) -> None:
    events = _ledger(app)
    engine = engine_of(app)
    entries = [e for e in events if e.name == "AssessmentMonth.ScoreRecorded"]
    appeal = next(e for e in events if e.name == "EntryAppeals.Decided")
    submitted = next(e for e in events if e.name == "AssessmentMonth.Submitted")
    corrected = next(e for e in events if e.name == "AssessmentMonth.EntryCorrected")
    cases: list[tuple[set[str], dict[str, Decimal]]] = [
        ({str(e.data["entry_id"])}, {}) for e in entries]
    cases += [({str(appeal.data["appeal_id"])}, {}), ({str(entries[0].position)}, {}),
              ({str(corrected.position)}, {}), ({str(submitted.position)}, {}),
              (set(), {str(corrected.data["entry_id"]): Decimal("-7.00")}),
              ({str(entries[1].data["entry_id"])}, {str(entries[2].data["entry_id"]): Decimal("-0.50")})]
    moved = 0
    for refs, points in cases:
        got = quarter_whatif_now(engine, Q, refs, points)
        assert got == quarter_whatif(events, Q, refs, points), (refs, points)
        moved += any(b["moves"] for b in got["branches"])
    assert moved >= 3


def test_explanations_read_only_the_branch_and_match(app) -> None:
    events = _ledger(app)
    engine = engine_of(app)
    full = AssessmentModel().apply_all(events)
    appealed = 0
    for branch in ("A", "B", "C"):
        old = explain_quarter(full, Q, branch, {m: month_entries(engine, m, full.position) for m in quarter_months(Q)},
                              appeal_events(engine, full.position))
        new = explain_quarter_at(engine, sliced_model(engine, quarter_sections(Q)), Q, branch)
        assert new == old, branch
        appealed += sum(len(e["appeals"]) for m in new["months"] for e in m["entries"])
    assert appealed == 1
