"""Appeals and corrections: nothing edited, corrections are new events; views follow them."""
from __future__ import annotations

import pytest

from adapters.bootstrap import engine_of
from adapters.integrity.verify import verify_ledger
from adapters.store.logreader import LogReader
from domain.errors import AppealRefused, EntryNotFound, InvalidInput, MonthNotOpenForEntries, MonthStateConflict
from projections.model import AssessmentModel
from projections.views import quarter_json
from tests.helpers import approve, company, deduct, events, month, quarter

Q3 = ("2019-07", "2019-08", "2019-09")


@pytest.fixture
def sealed(app):
    """B is last in 2019Q3 below 98 (fined); its 2019-07 deduction of 5 is the one appealed."""
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    entry = deduct(app, "B", "2019-07", "-5")
    deduct(app, "A", "2019-08", "-1")
    approve(app, *Q3)
    app.approve_quarter(period="2019Q3", actor="appr")
    return app, entry


def test_upheld_appeal_corrects_today_and_leaves_the_past(sealed) -> None:
    app, entry = sealed
    before = max(e.recorded_at_us for e in events(app))
    assert quarter(app, "2019Q3")["branches"][1] | {} == quarter(app, "2019Q3")["branches"][1] | {
        "branch": "B", "score": "98.33", "fine": "0.00"}  # 95, 100, 100 → 98.33: last but not below 98
    appeal = app.file_appeal(entry_id=str(entry), branch="B", reason="已整改，证据见附件", actor="B书记")
    with pytest.raises(AppealRefused):
        app.file_appeal(entry_id=str(entry), branch="B", reason="again", actor="B书记")  # one open appeal
    with pytest.raises(InvalidInput) as err:
        app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="-6", reason="x", actor="committee")
    assert err.value.field == "points"
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="0", reason="扣分依据不足", actor="committee")
    with pytest.raises(AppealRefused):
        app.decide_appeal(appeal_id=str(appeal), decision="rejected", reason="x", actor="committee")
    with pytest.raises(AppealRefused):
        app.file_appeal(entry_id=str(entry), branch="B", reason="again", actor="B书记")  # none after a decision
    rows = {b["branch"]: b for b in quarter(app, "2019Q3")["branches"]}
    assert rows["B"]["score"] == "100.00" and rows["B"]["rank"] == 1 and rows["B"]["changed_since_approval"]
    assert month(app, "2019-07")["B"]["score"] == "100.00" and month(app, "2019-07")["B"]["changed_since_approval"]
    reader = LogReader(engine_of(app))
    then = AssessmentModel().apply_all(reader.read(upto=reader.position_recorded_by(before)))
    assert {b["branch"]: b["score"] for b in quarter_json(then, "2019Q3")["branches"]} == {"A": "99.67", "B": "98.33"}
    corrected = [e for e in events(app) if e.name == "AssessmentMonth.EntryCorrected"]
    assert len(corrected) == 1 and corrected[0].data["appeal_id"] == appeal and corrected[0].data["entry_id"] == entry
    assert verify_ledger(engine_of(app), [app.recorder.signer().verifier_key]).ok  # approvals still prove out


def test_rejected_appeal_changes_nothing_and_wrong_branch_is_refused(sealed) -> None:
    app, entry = sealed
    with pytest.raises(AppealRefused) as err:
        app.file_appeal(entry_id=str(entry), branch="A", reason="not ours", actor="A书记")
    assert err.value.field == "branch"
    appeal = app.file_appeal(entry_id=str(entry), branch="B", reason="r", actor="B书记")
    app.decide_appeal(appeal_id=str(appeal), decision="rejected", reason="证据充分", actor="committee")
    assert all(not b["changed_since_approval"] for b in quarter(app, "2019Q3")["branches"])
    with pytest.raises(EntryNotFound):
        app.file_appeal(entry_id="00000000-0000-0000-0000-000000000001", branch="B", reason="r", actor="B")


def test_void_before_submission_and_committee_correction_after(app) -> None:
    company(app, ("A", "full_time", None))
    first = deduct(app, "A", "2019-07", "-3")
    second = app.record_score(branch="A", period="2019-07", category="bonus", points="2", reason="表彰",
                              department="party_mass", actor="s")
    with pytest.raises(MonthStateConflict):
        app.correct_entry(entry_id=str(first), points="-1", reason="r", actor="committee")
    app.void_entry(entry_id=str(first), reason="录错支部", actor="scorer")
    assert month(app, "2019-07")["A"]["score"] == "102.00"
    with pytest.raises(EntryNotFound):
        app.void_entry(entry_id=str(first), reason="again", actor="scorer")
    app.submit_month(period="2019-07", actor="agg")
    with pytest.raises(MonthNotOpenForEntries):
        app.void_entry(entry_id=str(second), reason="r", actor="scorer")
    app.correct_entry(entry_id=str(second), points="1", reason="加分给多了", actor="committee")
    assert month(app, "2019-07")["A"]["score"] == "101.00"
    assert [e.name.split(".")[1] for e in events(app) if e.name.startswith("AssessmentMonth.Entry")] == [
        "EntryVoided", "EntryCorrected"]


def test_filing_window_from_the_rulebook(app) -> None:
    company(app, ("A", "full_time", None))
    app.adopt_rulebook(version=2, **{"from": "2019-07"}, parameters={"appeal_window_days": 0}, actor="c")
    entry = deduct(app, "A", "2019-07", "-2")
    approve(app, "2019-07")
    with pytest.raises(AppealRefused) as err:
        app.file_appeal(entry_id=str(entry), branch="A", reason="late", actor="A书记")
    assert "申诉期" in err.value.reason


def test_import_ops_refer_to_their_own_lines_by_key(app, db_url, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    company(app, ("A", "full_time", None))
    lines = [{"op": "record_score", "key": "e1", "branch": "A", "period": "2019-07", "category": "daily",
              "points": "-4", "reason": "迟报", "department": "office", "actor": "s"},
             {"op": "submit_month", "period": "2019-07", "actor": "agg"},
             {"op": "approve_month", "period": "2019-07", "actor": "appr"},
             {"op": "file_appeal", "key": "a1", "entry_key": "e1", "branch": "A", "reason": "r", "actor": "A书记"},
             {"op": "decide_appeal", "key": "d1", "appeal_key": "a1", "decision": "upheld", "points": "-1",
              "reason": "部分成立", "actor": "committee"}]
    f = tmp_path / "a.jsonl"
    f.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    run = CliRunner().invoke
    result = run(main, ["import", str(f), "--json"], env={"LEDGER_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert month(app, "2019-07")["A"]["score"] == "99.00"
    out = json.loads(run(main, ["explain", "month", "2019-07", "--branch", "A", "--json"],
                         env={"LEDGER_DATABASE_URL": db_url}).output)
    [entry] = out["entries"]
    assert (entry["points"], entry["counted_points"]) == ("-4.00", "-1.00")
    assert entry["changes"][0]["kind"] == "corrected" and entry["changes"][0]["cause"] == "appeal"
    assert [a["event"] for a in out["appeals"]] == ["Filed", "Decided"]


def test_diff_and_whatif(sealed, db_url) -> None:
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    app, entry = sealed
    env = {"LEDGER_DATABASE_URL": db_url}
    run = CliRunner().invoke
    logged = len(events(app))
    whatif = json.loads(run(main, ["quarter", "whatif", "2019Q3", "--without", str(entry), "--json"], env=env).output)
    rows = {b["branch"]: b for b in whatif["branches"]}
    assert rows["B"]["now"]["rank"] == 2 and rows["B"]["whatif"]["rank"] == 1 and rows["B"]["moves"]
    partial = json.loads(run(main, ["quarter", "whatif", "2019Q3", "--set", f"{entry}=-2", "--json"], env=env).output)
    assert {b["branch"]: b["whatif"]["score"] for b in partial["branches"]}["B"] == "99.33"
    assert len(events(app)) == logged  # nothing written by a what-if
    appeal = app.file_appeal(entry_id=str(entry), branch="B", reason="r", actor="B书记")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="-2", reason="部分成立", actor="committee")
    diff = json.loads(run(main, ["quarter", "diff", "2019Q3", "--json"], env=env).output)
    b = next(r for r in diff["branches"] if r["branch"] == "B")
    assert b["approved"] == {"score": "98.33", "rank": 2, "award": "0.00", "fine": "0.00"}
    assert b["now"]["score"] == "99.33" and b["changed"]
    assert [c["event"] for c in b["causes"]] == ["EntryCorrected"] and b["causes"][0]["appeal_id"] == str(appeal)
    undone = json.loads(run(main, ["quarter", "whatif", "2019Q3", "--without", str(appeal), "--json"], env=env).output)
    assert {r["branch"]: r["whatif"]["score"] for r in undone["branches"]}["B"] == "98.33"
    assert run(main, ["quarter", "diff", "2019Q4"], env=env).exit_code != 0


def test_reapproval_records_the_new_ranking_and_adjusts_money(sealed, db_url) -> None:
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    from domain.errors import QuarterAlreadyApproved
    app, entry = sealed
    with pytest.raises(QuarterAlreadyApproved):
        app.reapprove_quarter(period="2019Q3", reason="无变化", actor="appr")
    appeal = app.file_appeal(entry_id=str(entry), branch="B", reason="r", actor="B书记")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="0", reason="不成立的扣分", actor="committee")
    with pytest.raises(InvalidInput):
        app.reapprove_quarter(period="2019Q3", reason=" ", actor="appr")
    first = next(e for e in events(app) if e.name == "AssessmentQuarter.Approved").data["approval_id"]
    second = app.reapprove_quarter(period="2019Q3", reason="B 支部申诉成立", actor="appr")
    log = events(app)
    re = next(e for e in log if e.name == "AssessmentQuarter.Reapproved")
    assert re.data["approval_id"] == second and re.data["previous_approval_id"] == first
    adjustments = {(e.data["branch"], e.data["kind"], str(e.data["delta"])) for e in log
                   if e.name == "AssessmentQuarter.AmountAdjusted"}
    # B (100.00) now passes A (99.67): B is granted the award, A's is recovered
    assert adjustments == {("B", "award", "3000.00"), ("A", "award", "-3000.00")}
    diff = json.loads(CliRunner().invoke(main, ["quarter", "diff", "2019Q3", "--json"],
                                         env={"LEDGER_DATABASE_URL": db_url}).output)
    assert not any(b["changed"] for b in diff["branches"])  # compared against the latest approval
    assert verify_ledger(engine_of(app), [app.recorder.signer().verifier_key]).ok
