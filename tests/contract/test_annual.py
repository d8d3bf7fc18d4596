"""Annual evaluation, quotas, the dual hundred-point link and rulebook versions."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from domain.assessment.annual import annual_outcomes, combined_score
from domain.assessment.rulebook import RULEBOOK_V1 as RB
from domain.assessment.scoring import Secretary
from domain.errors import InvalidInput, RulebookRefused, YearAlreadyApproved, YearNotReady
from domain.periods import month_range
from projections.annual import year_json
from tests.helpers import approve, company, deduct, events, model_of, month

FULL = Secretary("甲", "full_time", None)
PART = Secretary("乙", "part_time", D("800"))
YEAR = month_range("2019-01", 12)


# -- pure rules ---------------------------------------------------------------------------
def test_golden_first_place_award_and_raised_quotas() -> None:
    out = annual_outcomes({"A": D("97"), "B": D("96")}, {"A": 20, "B": 101}, {"A": FULL, "B": FULL}, RB)
    a = out["A"]
    assert a.placing.award == D("5000.00") and a.placing.fine == 0
    assert (a.development_quota, a.excellent_member_quota) == (1 + 1, 2 + 1)  # ceil(20/20), ceil(20/10), +max(1, ceil(20/50))
    b = out["B"]  # last but 96 ≥ 95: base quotas only
    assert (b.development_quota, b.excellent_member_quota, b.placing.fine) == (6, 11, 0)


def test_golden_last_below_95_fined_quota_cut_and_development_cancelled() -> None:
    out = annual_outcomes({"A": D("97"), "B": D("94.99")}, {"A": 20, "B": 30}, {"A": FULL, "B": PART}, RB)
    b = out["B"]
    assert b.placing.fine == D("1000.00")  # part-time secretary in December
    assert (b.development_quota, b.excellent_member_quota) == (0, 3 - 1)
    out = annual_outcomes({"A": D("97"), "B": D("95.00")}, {"A": 20, "B": 30}, {"A": FULL, "B": FULL}, RB)
    assert (out["B"].placing.fine, out["B"].development_quota, out["B"].excellent_member_quota) == (0, 2, 3)


def test_annual_ties_at_first_and_last_and_the_cut_never_below_zero() -> None:
    scores = {"A": D("97"), "B": D("97"), "C": D("90"), "D": D("90")}
    out = annual_outcomes(scores, {"A": 5, "B": 5, "C": 5, "D": 0}, dict.fromkeys(scores, FULL), RB)
    assert [out[b].placing.award for b in "AB"] == [D("5000.00")] * 2
    assert [out[b].development_quota for b in "AB"] == [2, 2]  # ceil(5/20)=1, +1 (at least 1)
    assert [out[b].placing.fine for b in "CD"] == [D("2000.00")] * 2
    assert out["D"].excellent_member_quota == 0 and out["C"].excellent_member_quota == 0


def test_last_without_december_secretary_is_not_fined_but_loses_quotas() -> None:
    out = annual_outcomes({"A": D("97"), "B": D("90")}, {"A": 20, "B": 20}, {"A": FULL, "B": None}, RB)
    assert out["B"].placing.fine == 0 and out["B"].development_quota == 0


def test_dual_hundred_formulas() -> None:
    assert combined_score(D("98.00"), D("95.50"), RB) == D("93.59")  # 98 × 95.5 / 100 = 93.59
    weighted = RB.from_parameters(2, {**RB.to_parameters(), "dual_formula": "weighted"})
    assert combined_score(D("98.00"), D("95.50"), weighted) == D("95.75")  # 0.9 × 95.5 + 0.1 × 98


# -- through the store ---------------------------------------------------------------------
def whole_year(app: Any) -> None:
    approve(app, *YEAR)
    for q in range(1, 5):
        app.approve_quarter(period=f"2019Q{q}", actor="appr")


def inputs(app: Any, branch: str, unit: str, debriefing: str) -> None:
    app.record_unit_performance(branch=branch, year="2019", score=unit, actor="perf")
    app.record_debriefing(branch=branch, year=2019, score=debriefing, actor="committee")


def test_year_approval_golden_cases_through_the_store(app) -> None:
    company(app, ("TOP", "full_time", None), ("MID", "full_time", None), ("LOW", "part_time", None))
    app.set_members(branch="LOW", members=31, from_month="2019-12", actor="reg")
    deduct(app, "MID", "2019-03", "-1")
    with pytest.raises(YearNotReady):
        app.approve_year(year="2019", actor="committee")
    whole_year(app)
    inputs(app, "TOP", "100", "100")
    inputs(app, "MID", "95", "95")
    with pytest.raises(YearNotReady) as err:
        app.approve_year(year="2019", actor="committee")
    assert "LOW" in err.value.reason
    inputs(app, "LOW", "87.45", "87.50")  # 0.6 × 100 + 0.2 × 87.45 + 0.2 × 87.50 = 94.99
    app.approve_year(year="2019", actor="committee")
    with pytest.raises(YearAlreadyApproved):
        app.approve_year(year="2019", actor="committee")
    with pytest.raises(YearAlreadyApproved):
        app.record_debriefing(branch="LOW", year="2019", score="99", actor="committee")
    y = year_json(model_of(app), "2019")
    assert y["status"] == "approved" and y["quota_year"] == "2020"
    rows = {b["branch"]: b for b in y["branches"]}
    assert rows["TOP"] | {} == rows["TOP"] | {"rank": 1, "score": "100.00", "award": "5000.00",
                                              "development_quota": 2, "excellent_member_quota": 3}
    # mean of eleven 100s and one 99 = 99.9166… → 99.92; 0.6 × 99.92 + 0.2 × 95 + 0.2 × 95 = 97.952 → 97.95
    assert rows["MID"]["monthly_mean"] == "99.92" and rows["MID"]["score"] == "97.95"
    assert rows["LOW"] | {} == rows["LOW"] | {"rank": 3, "score": "94.99", "fine": "1000.00",
                                              "development_quota": 0, "excellent_member_quota": 3}
    kinds = [e.name.split(".")[1] for e in events(app) if e.name.startswith("AssessmentYear.")
             and e.name.split(".")[1] in ("AwardGranted", "FineImposed", "QuotaSet")]
    assert sorted(kinds) == ["AwardGranted", "FineImposed", "QuotaSet", "QuotaSet", "QuotaSet"]


def test_annual_inputs_are_checked(app) -> None:
    company(app, ("A", "full_time", None))
    for score in ("101", "-1", "90.001"):
        with pytest.raises(InvalidInput) as err:
            app.record_unit_performance(branch="A", year="2019", score=score, actor="p")
        assert err.value.field == "score"
    with pytest.raises(InvalidInput) as err:
        app.record_debriefing(branch="A", year="19", score="90", actor="p")
    assert err.value.field == "year"


def test_business_score_and_combined_in_the_month_view(app) -> None:
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    deduct(app, "A", "2019-07", "-2")
    app.record_business_score(branch="A", period="2019-07", score="95.50", actor="biz")
    rows = month(app, "2019-07")
    assert (rows["A"]["business"], rows["A"]["combined"]) == ("95.50", "93.59")
    assert (rows["B"]["business"], rows["B"]["combined"]) == (None, None)


def test_rulebook_versions_apply_from_their_quarter_and_never_reach_back(app) -> None:
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    deduct(app, "A", "2019-07", "-3")
    deduct(app, "A", "2019-10", "-3")
    approve(app, "2019-07")
    change = {"quarter_fine_threshold": "99", "category_points": {**{k: str(v) for k, v in RB.category_points.items()},
                                                                  "political": "2"}}
    with pytest.raises(InvalidInput) as err:
        app.adopt_rulebook(version=2, **{"from": "2019-08"}, parameters=change, actor="committee")
    assert err.value.field == "from"
    with pytest.raises(RulebookRefused):
        app.adopt_rulebook(version=2, **{"from": "2019-07"}, parameters=change, actor="committee")
    with pytest.raises(InvalidInput) as err:
        app.adopt_rulebook(version=3, **{"from": "2019-10"}, parameters=change, actor="committee")
    assert err.value.field == "version"
    with pytest.raises(InvalidInput) as err:
        app.adopt_rulebook(version=2, **{"from": "2019-10"}, parameters={"no_such": 1}, actor="committee")
    assert err.value.field == "parameters"
    assert app.adopt_rulebook(version=2, **{"from": "2019-10"}, parameters=change, actor="committee") == 2
    model = model_of(app)
    from projections.views import month_json, quarter_json
    july, october = month_json(model, "2019-07"), month_json(model, "2019-10")
    assert july["rulebook_version"] == 1 and july["branches"][0]["score"] == "97.00"
    assert october["rulebook_version"] == 2 and october["branches"][0]["score"] == "98.00"  # political capped at 2
    assert quarter_json(model, "2019Q4")["rulebook_version"] == 2
    assert quarter_json(model, "2019Q3")["rulebook_version"] == 1


def test_year_show_json_contract_and_import_ops(db_url: str, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    from tests.helpers import cli_users
    env = {"LEDGER_DATABASE_URL": db_url}
    lines = [{"op": "register_branch", "code": "A", "name": "甲", "members": 9},
             {"op": "register_branch", "code": "B", "name": "乙", "members": 40},
             {"op": "record_unit_performance", "branch": "A", "year": "2019", "score": "90", "actor": "p"},
             {"op": "record_debriefing", "branch": "A", "year": "2019", "score": 92.5, "actor": "c"},
             {"op": "record_business_score", "branch": "B", "period": "2019-07", "score": "88", "actor": "p"}]
    f = tmp_path / "y.jsonl"
    f.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    runner = CliRunner()
    env = cli_users(runner, env)
    assert runner.invoke(main, ["import", str(f)], env=env).exit_code == 0
    out = json.loads(runner.invoke(main, ["year", "show", "2019", "--json"], env=env).output)
    assert out["status"] == "draft"
    rows = {r["branch"]: r for r in out["branches"]}
    assert set(rows["A"]) >= {"branch", "monthly_mean", "unit_score", "debriefing_score", "score", "rank",
                              "award", "fine", "development_quota", "excellent_member_quota"}
    assert rows["A"] | {} == rows["A"] | {"monthly_mean": "100.00", "unit_score": "90.00",
                                          "debriefing_score": "92.50", "score": "96.50", "rank": 1}
    assert rows["B"]["rank"] is None and rows["B"]["score"] is None  # inputs missing: unranked
    assert runner.invoke(main, ["year", "show", "19"], env=env).exit_code != 0


def test_explain_year(app, db_url) -> None:
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    deduct(app, "B", "2019-05", "-12")
    whole_year(app)
    inputs(app, "A", "90", "90")
    inputs(app, "B", "80", "80")
    app.approve_year(year="2019", actor="committee")
    out = json.loads(CliRunner().invoke(main, ["explain", "year", "2019", "--branch", "B", "--json"],
                                        env={"LEDGER_DATABASE_URL": db_url}).output)
    assert out["months"][4] == {"period": "2019-05", "score": "88.00"}
    assert (out["monthly_mean"], out["score"], out["rank"]) == ("99.00", "91.40", 2)  # 59.40 + 16 + 16
    assert (out["fine"], out["development_quota"], out["rules"][-1]) == ("2000.00", 0, "year.quota_cut_last_place")
