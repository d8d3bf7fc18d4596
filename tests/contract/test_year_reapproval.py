"""An approved year that changes afterwards says so, shows why, and can be approved again
(issue 14, item 2): ``changed_since_approval`` on its rows, ``ledger year diff``,
``ledger year reapprove`` (op ``reapprove_year``) with one ``AmountAdjusted`` per award, fine
or quota that changed, and printed notices that warn."""
from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.cli.main import main
from adapters.integrity.verify import verify_ledger
from domain.errors import InvalidInput, YearAlreadyApproved, YearNotReady
from domain.periods import month_range
from domain.vocabulary import EVENTS
from projections.annual import year_json
from tests.helpers import approve, company, deduct, events, model_of

YEAR = month_range("2019-01", 12)


@pytest.fixture
def approved_year(app: Any) -> tuple[Any, Any, Any]:
    """2019 approved: A first (99.95, award), B second (99.25), C last below 95 (94.75: fined,
    no development quota, excellent-member quota cut). B's 2019-07 deduction (−15) and C's
    (−15, beside a −10 that stands) are the ones appealed."""
    company(app, ("A", "full_time", None), ("B", "full_time", None), ("C", "full_time", None))
    deduct(app, "A", "2019-08", "-1")
    b_entry = deduct(app, "B", "2019-07", "-15")
    c_entry = deduct(app, "C", "2019-07", "-15")
    deduct(app, "C", "2019-07", "-10", category="ideological")
    approve(app, *YEAR)
    for q in range(1, 5):
        app.approve_quarter(period=f"2019Q{q}", actor="appr")
    for branch, score in (("A", "100"), ("B", "100"), ("C", "90")):
        app.record_unit_performance(branch=branch, year="2019", score=score, actor="perf")
        app.record_debriefing(branch=branch, year="2019", score=score, actor="committee")
    app.approve_year(year="2019", actor="公司党委会")
    return app, b_entry, c_entry


def _uphold(app: Any, entry: Any, branch: str) -> Any:
    appeal = app.file_appeal(entry_id=str(entry), branch=branch, reason="扣分依据不足", actor=f"{branch}书记")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="0", reason="申诉成立", actor="committee")
    return appeal


def _cli(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"LEDGER_DATABASE_URL": db_url})


def _rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["branch"]: b for b in data["branches"]}


def test_upheld_appeal_after_year_approval_flags_rows_and_diff_names_the_cause(approved_year, db_url) -> None:
    app, b_entry, _ = approved_year
    before = _rows(year_json(model_of(app), "2019"))
    assert not any(r["changed_since_approval"] for r in before.values())
    appeal = _uphold(app, b_entry, "B")
    shown = json.loads(_cli(db_url, "year", "show", "2019", "--json").output)
    rows = _rows(shown)
    assert rows["B"]["score"] == "100.00" and rows["B"]["rank"] == 1 and rows["B"]["changed_since_approval"]
    assert rows["A"]["rank"] == 2 and rows["A"]["changed_since_approval"]  # lost first place and its award
    assert not rows["C"]["changed_since_approval"]
    text = _cli(db_url, "year", "show", "2019").output
    marked = [line.split()[1] for line in text.splitlines() if "※审批后有变化" in line]
    assert marked == ["B", "A"] and "ledger year diff 2019" in text and "尚待重新审批" in text

    diff = json.loads(_cli(db_url, "year", "diff", "2019", "--json").output)
    d = _rows(diff)
    assert d["B"]["approved"]["score"] == "99.25" and d["B"]["approved"]["rank"] == 2
    assert d["B"]["now"]["score"] == "100.00" and d["B"]["now"]["award"] == "5000.00" and d["B"]["changed"]
    assert [c["event"] for c in d["B"]["causes"]] == ["EntryCorrected"]
    assert d["B"]["causes"][0]["appeal_id"] == str(appeal) and d["B"]["causes"][0]["period"] == "2019-07"
    assert d["A"]["changed"] and d["A"]["causes"] == [] and not d["C"]["changed"]
    assert d["A"]["approved"]["development_quota"] == 2 and d["A"]["now"]["development_quota"] == 1
    # A member count in force in December changes C's quotas: the diff names it too.
    app.set_members(branch="C", members=41, from_month="2019-12", actor="reg")
    d = _rows(json.loads(_cli(db_url, "year", "diff", "2019", "--json").output))
    assert d["C"]["changed"] and [c["event"] for c in d["C"]["causes"]] == ["MembersSet"]
    text = _cli(db_url, "year", "diff", "2019").output
    assert f"{EVENTS['AssessmentMonth.EntryCorrected']} 2019-07" in text
    assert f"{EVENTS['Organization.MembersSet']} 自 2019-12 起 党员人数 41" in text  # events by Chinese name
    assert _cli(db_url, "year", "diff", "2020").exit_code != 0  # never approved: nothing to compare


def test_year_reapproval_records_the_new_results_and_adjusts_awards_fines_and_quotas(approved_year, db_url) -> None:
    app, b_entry, c_entry = approved_year
    with pytest.raises(YearAlreadyApproved):
        app.reapprove_year(year="2019", reason="无变化", actor="公司党委会")
    with pytest.raises(YearNotReady):
        app.reapprove_year(year="2018", reason="r", actor="公司党委会")
    _uphold(app, b_entry, "B")
    _uphold(app, c_entry, "C")
    logged = len(events(app))
    with pytest.raises(InvalidInput) as err:
        app.reapprove_year(year="2019", reason=" ", actor="公司党委会")
    assert err.value.field == "reason" and len(events(app)) == logged  # refused: nothing written
    first = next(e for e in events(app) if e.name == "AssessmentYear.Approved").data["approval_id"]

    out = _cli(db_url, "year", "reapprove", "2019", "--reason", "B、C 支部申诉成立", "--actor", "公司党委会", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    log = events(app)
    re_ = next(e for e in log if e.name == "AssessmentYear.Reapproved")
    assert str(re_.data["approval_id"]) == result["approval_id"] and re_.data["previous_approval_id"] == first
    assert re_.data["reason"] == "B、C 支部申诉成立"
    recorded = {(e.data["branch"], e.data["kind"], str(e.data["previous"]), str(e.data["amount"]), str(e.data["delta"]))
                for e in log if e.name == "AssessmentYear.AmountAdjusted"}
    assert recorded == {  # B passes A: the award moves with the raised quotas; C climbs above 95: no fine
        ("A", "award", "5000.00", "0.00", "-5000.00"), ("B", "award", "0.00", "5000.00", "5000.00"),
        ("A", "development_quota", "2", "1", "-1"), ("A", "excellent_member_quota", "3", "2", "-1"),
        ("B", "development_quota", "1", "2", "1"), ("B", "excellent_member_quota", "2", "3", "1"),
        ("C", "fine", "2000.00", "0.00", "-2000.00"), ("C", "development_quota", "0", "1", "1"),
        ("C", "excellent_member_quota", "1", "2", "1")}
    assert {(a["branch"], a["kind"], a["previous"], a["new"], a["delta"]) for a in result["adjustments"]} == recorded
    assert all(a["for_year"] == "2020" for a in result["adjustments"] if "quota" in a["kind"])

    rows = _rows(json.loads(_cli(db_url, "year", "show", "2019", "--json").output))
    assert not any(r["changed_since_approval"] for r in rows.values())  # compared with the latest approval
    assert rows["B"]["rank"] == 1 and rows["C"]["fine"] == "0.00"
    assert "※" not in _cli(db_url, "year", "show", "2019").output
    assert not any(b["changed"] for b in json.loads(_cli(db_url, "year", "diff", "2019", "--json").output)["branches"])
    again = _cli(db_url, "year", "reapprove", "2019", "--reason", "再来", "--actor", "公司党委会")
    assert again.exit_code != 0 and "没有变化" in again.output
    report = verify_ledger(engine_of(app), [app.recorder.signer().verifier_key])
    approvals = sum(1 for e in events(app) if e.name.endswith(("Approved", "Reapproved")) and e.data.get("proof"))
    assert report.ok and report.approvals == approvals  # the reapproval is recomputed and proves out


def test_reapprove_year_is_an_import_op_of_the_committee_and_its_text_lists_adjustments(approved_year, db_url,
                                                                                        tmp_path) -> None:
    from domain.commands import COMMANDS
    app, b_entry, _ = approved_year
    assert COMMANDS["reapprove_year"].roles == COMMANDS["approve_year"].roles == ("committee",)
    _uphold(app, b_entry, "B")
    f = tmp_path / "re.jsonl"
    f.write_text(json.dumps({"op": "reapprove_year", "year": "2019", "reason": "B 申诉成立", "actor": "党委会",
                             "key": "re/2019"}, ensure_ascii=False), encoding="utf-8")
    assert _cli(db_url, "import", str(f)).exit_code == 0
    assert sum(e.name == "AssessmentYear.Reapproved" for e in events(app)) == 1
    app.set_members(branch="B", members=41, from_month="2019-12", actor="reg")  # B's quotas grow again
    out = _cli(db_url, "year", "reapprove", "2019", "--reason", "B 党员人数更正", "--actor", "党委会")
    assert out.exit_code == 0, out.output
    assert "2019 年度总评已重新审批" in out.output and "记录调整 2 项" in out.output
    lines = [line.split() for line in out.output.splitlines() if line.strip().startswith("B ")]
    assert lines == [["B", "发展党员指标", "2", "4", "+2", "（2020", "年）"],  # ceil(41/20)+1 = 4
                     ["B", "优秀党员指标", "3", "6", "+3", "（2020", "年）"]]  # ceil(41/10)+1 = 6


def test_quarter_show_marks_changed_rows_and_reapprove_lists_its_adjustments(approved_year, db_url) -> None:
    app, b_entry, c_entry = approved_year
    _uphold(app, b_entry, "B")
    _uphold(app, c_entry, "C")
    text = _cli(db_url, "quarter", "show", "2019Q3").output
    assert [line.split()[1] for line in text.splitlines() if "※审批后有变化" in line] == ["B", "A", "C"]
    assert "ledger quarter diff 2019Q3" in text
    month_text = _cli(db_url, "month", "show", "2019-07").output
    assert [line.split()[0] for line in month_text.splitlines() if "※审批后有变化" in line] == ["B", "C"]
    out = _cli(db_url, "quarter", "reapprove", "2019Q3", "--reason", "申诉成立", "--actor", "书记")
    assert out.exit_code == 0, out.output
    assert "记录调整 2 项" in out.output
    table = {tuple(line.split()) for line in out.output.splitlines() if line.startswith("  ") and "奖励" in line}
    assert table == {("B", "奖励（元）", "0.00", "3000.00", "+3000.00"), ("A", "奖励（元）", "3000.00", "0.00", "-3000.00")}
    # Nothing changed since: the JSON says so with an empty list after a further change and reapproval.
    app.correct_entry(entry_id=str(deduct_id(app, "C")), points="-9", reason="更正", actor="committee")
    done = json.loads(_cli(db_url, "quarter", "reapprove", "2019Q3", "--reason", "C 更正", "--actor", "书记",
                           "--json").output)
    assert done["adjustments"] == [] and done["approval_id"]


def deduct_id(app: Any, branch: str) -> Any:
    """The entry of ``branch`` that stands (not appealed): its last one."""
    return [e for e in events(app) if e.name == "AssessmentMonth.ScoreRecorded" and e.data["branch"] == branch][-1].data[
        "entry_id"]


def test_printed_notices_warn_after_a_change_and_the_web_reapproves_the_year(approved_year, db_url) -> None:
    from adapters.http.app import create_app
    from tests.web_fixture import csrf_of, flash_of, login, set_passwords
    app, b_entry, _ = approved_year
    for user, role in (("committee", "committee"), ("auditor", "auditor")):
        app.command("create_user", as_user="admin", user=user, name=user, actor="admin")
        app.command("grant_role", as_user="admin", user=user, role=role, actor="admin")
    set_passwords(app, ["committee", "auditor"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    web = create_app(db_url)
    try:
        assert "/commands/reapprove_year" in {getattr(r, "path", None) for r in web.routes}
        committee = TestClient(web, base_url="http://127.0.0.1")
        assert login(committee, "committee").status_code == 303
        auditor = TestClient(web, base_url="http://127.0.0.1")
        assert login(auditor, "auditor").status_code == 303
        for path in ("/web/print/year/2019", "/web/print/quarter/2019Q3", "/web/print/month/2019-07"):
            page = auditor.get(path)
            assert page.status_code == 200 and 'id="changed-note"' not in page.text, path
        _uphold(app, b_entry, "B")
        for path in ("/web/print/year/2019", "/web/print/quarter/2019Q3", "/web/print/month/2019-07"):
            page = auditor.get(path)
            assert 'id="changed-note"' in page.text and "支部 B" in page.text, path
        assert "月度党建考核结果公示" in auditor.get("/web/print/month/2019-07").text
        year = committee.get("/web/year/2019").text
        assert re.search(r'<tr data-branch="B" class="changed">', year) and "变" in year
        diff = re.search(r'<table class="diff".*?</table>', year, re.S).group(0)  # type: ignore[union-attr]
        assert "99.25 / 第2名" in diff and "100.00" in diff and "更正得分" in diff
        assert 'id="reapprove-year"' in year
        desk = committee.get("/web/committee?year=2019").text
        assert 'action="/web/year/2019/reapprove"' in desk
        done = committee.post("/web/year/2019/reapprove", data={"csrf": csrf_of(year), "reason": "B 申诉成立",
                                                                 "next": "/web/year/2019"})
        assert flash_of(done.text).startswith("ok:2019年度总评已重新审批；记录调整6项：")
        assert "B奖励0.00→5000.00（+5000.00）" in flash_of(done.text)
        assert 'id="diff-none"' in done.text
        assert 'id="changed-note"' not in auditor.get("/web/print/year/2019").text
        assert 'id="changed-note"' in auditor.get("/web/print/quarter/2019Q3").text  # not reapproved yet
        assert sum(e.name == "AssessmentYear.Reapproved" for e in events(app)) == 1
    finally:
        web.state.service.close()
