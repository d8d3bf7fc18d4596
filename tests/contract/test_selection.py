"""Competitive selection (竞聘): weighted result, threshold, ties, refusals, anonymity."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.cli.main import main
from adapters.store.logreader import LogReader
from domain.errors import InvalidInput, PersonNotFound, SelectionNotFound, SelectionRefused
from domain.members.selection import APPOINTED, BELOW_THRESHOLD, TIE, tally
from projections.selection import SelectionModel, position_json
from tests.helpers import MIGRATION, company, events

CANDIDATES = ["P1", "P2", "P3"]
# The golden example. Representative sheets (4) and leader sheets (3):
REPRESENTATIVE = [
    {"P1": "90", "P2": "80", "P3": "70"},
    {"P1": "85", "P2": "81", "P3": "60"},
    {"P1": "88.5", "P2": "79", "P3": "75"},
    {"P1": "91", "P2": "82.25", "P3": "65"},
]
LEADERS = {
    "王总": {"P1": "80", "P2": "90", "P3": "70"},
    "李总": {"P1": "82", "P2": "88", "P3": "72"},
    "张总": {"P1": "81", "P2": "85", "P3": "71"},
}
# By hand, each mean rounded half-up to two decimals first, then the weighted total:
#   P1: representatives 354.50 / 4 = 88.625 → 88.63; leaders 243 / 3 = 81.00
#       total 0.5 × 88.63 + 0.5 × 81.00 = 84.815 → 84.82   (from the unrounded means it would be 84.81)
#   P2: representatives 322.25 / 4 = 80.5625 → 80.56; leaders 263 / 3 = 87.666… → 87.67
#       total 0.5 × 80.56 + 0.5 × 87.67 = 84.115 → 84.12
#   P3: representatives 270 / 4 = 67.50; leaders 213 / 3 = 71.00; total 69.25
#   Ranks 1, 2, 3; P1 is first and at or above 80 → appointed.


def people(app: Any, *codes: str) -> None:
    for code in codes:
        app.command("register_employee", person=code, name=f"{code}同志", branch="A", **{"from": "2019-01"},
                    actor="hr")


def open_(app: Any, selection: str = "S1", candidates: list[str] = CANDIDATES, position: str = "熔炼车间主任",
          date: str = "2019-03-15") -> Any:
    return app.command("open_selection", selection=selection, position=position, date=date,
                       candidates=candidates, actor="党群工作部")


def rep(app: Any, sheet: int, scores: dict[str, Any], selection: str = "S1", **extra: Any) -> Any:
    return app.command("record_representative_sheet", selection=selection, sheet=sheet, scores=scores,
                       actor="唱票员", **extra)


def leader(app: Any, name: str, scores: dict[str, Any], selection: str = "S1") -> Any:
    return app.command("record_leader_sheet", selection=selection, leader=name, scores=scores, actor="唱票员")


def close(app: Any, selection: str = "S1") -> Any:
    return app.command("close_selection", selection=selection, actor="公司党委")


def model(app: Any) -> SelectionModel:
    return SelectionModel().apply_all(LogReader(engine_of(app)).read(topic_suffixes=SelectionModel.topic_filter()))


def result(app: Any, position: str = "熔炼车间主任") -> dict[str, Any]:
    [s] = position_json(model(app), position)["selections"]
    return s["result"]


@pytest.fixture
def ready(app: Any) -> Any:
    company(app, ("A", "full_time", None))
    people(app, *CANDIDATES, "P4")
    return app


def golden(app: Any, selection: str = "S1", date: str = "2019-03-15") -> None:
    open_(app, selection, date=date, position=f"岗位{selection}")
    for n, scores in enumerate(REPRESENTATIVE, start=1):
        rep(app, n, scores, selection)
    for name, scores in LEADERS.items():
        leader(app, name, scores, selection)


def test_weighted_result_golden_example(ready: Any) -> None:
    golden(ready)
    assert close(ready) == APPOINTED
    r = result(ready, "岗位S1")
    assert [(x["candidate"], x["representative_mean"], x["leader_mean"], x["total"], x["rank"], x["appointed"])
            for x in r["rows"]] == [("P1", "88.63", "81.00", "84.82", 1, True),
                                    ("P2", "80.56", "87.67", "84.12", 2, False),
                                    ("P3", "67.50", "71.00", "69.25", 3, False)]
    assert (r["outcome"], r["appointed"], r["threshold"], r["weight_representatives"], r["rulebook_version"]) == \
        (APPOINTED, "P1", "80", "0.5", 1)


def test_rulebook_weights_apply_by_the_selection_date(ready: Any) -> None:
    """v2 (60/40) from 2019-04: a selection dated in May uses it, one in March keeps 50/50."""
    ready.adopt_rulebook(version=2, **{"from": "2019-04"}, actor="committee",
                         parameters={"selection_weight_representatives": "0.6", "selection_weight_leaders": "0.4"})
    golden(ready, "S1", "2019-03-15")
    golden(ready, "S2", "2019-05-10")
    close(ready)
    close(ready, "S2")
    assert result(ready, "岗位S1")["rows"][0]["total"] == "84.82"
    # S2: P1 0.6 × 88.63 + 0.4 × 81.00 = 85.578 → 85.58; P2 0.6 × 80.56 + 0.4 × 87.67 = 83.404 → 83.40
    r2 = result(ready, "岗位S2")
    assert [(x["candidate"], x["total"]) for x in r2["rows"][:2]] == [("P1", "85.58"), ("P2", "83.40")]
    assert r2["rulebook_version"] == 2
    with pytest.raises(InvalidInput) as bad:  # weights must sum to 1
        ready.adopt_rulebook(version=3, **{"from": "2019-07"}, actor="committee",
                             parameters={"selection_weight_leaders": "0.3"})
    assert bad.value.field == "parameters"


def test_first_place_below_80_is_not_appointed_and_80_is_enough(ready: Any) -> None:
    for selection, leader_score in (("LOW", "79.98"), ("EDGE", "80")):
        open_(ready, selection, ["P1", "P2"], position=selection)
        rep(ready, 1, {"P1": "80", "P2": "70"}, selection)
        leader(ready, "王总", {"P1": leader_score, "P2": "60"}, selection)
    assert close(ready, "LOW") == BELOW_THRESHOLD  # (80 + 79.98) / 2 = 79.99
    low = result(ready, "LOW")
    assert [(x["candidate"], x["total"], x["rank"], x["appointed"]) for x in low["rows"]] == \
        [("P1", "79.99", 1, False), ("P2", "65.00", 2, False)]
    assert low["appointed"] is None
    assert close(ready, "EDGE") == APPOINTED
    assert result(ready, "EDGE")["appointed"] == "P1"


def test_a_tie_at_first_place_appoints_nobody(ready: Any) -> None:
    open_(ready)
    rep(ready, 1, {"P1": "90", "P2": "85", "P3": "70"})
    leader(ready, "王总", {"P1": "85", "P2": "90", "P3": "95"})
    assert close(ready) == TIE
    r = result(ready)
    assert [(x["candidate"], x["total"], x["rank"], x["appointed"]) for x in r["rows"]] == \
        [("P1", "87.50", 1, False), ("P2", "87.50", 1, False), ("P3", "82.50", 3, False)]


def test_tally_tie_below_threshold_is_below_threshold() -> None:
    d = Decimal
    rows, outcome = tally(["X", "Y"], {}, [{"X": d(70), "Y": d(70)}], [{"X": d(70), "Y": d(70)}],
                          d("0.5"), d("0.5"), d(80))
    assert outcome == BELOW_THRESHOLD and [r.rank for r in rows] == [1, 1] and not any(r.appointed for r in rows)


def test_refusals_name_the_field_and_write_nothing(ready: Any) -> None:
    open_(ready)
    rep(ready, 1, REPRESENTATIVE[0])
    leader(ready, "王总", LEADERS["王总"])
    before = len(events(ready))
    cases = [
        (lambda: open_(ready), SelectionRefused, "selection"),
        (lambda: open_(ready, "S9", ["P1", "NOBODY"]), PersonNotFound, "candidates"),
        (lambda: open_(ready, "S9", ["P1", "P1"]), SelectionRefused, "candidates"),
        (lambda: open_(ready, "S9", []), InvalidInput, "candidates"),
        (lambda: open_(ready, "S9", date="2019-02-30"), InvalidInput, "date"),
        (lambda: rep(ready, 1, REPRESENTATIVE[1]), SelectionRefused, "sheet"),
        (lambda: rep(ready, 0, REPRESENTATIVE[1]), InvalidInput, "sheet"),
        (lambda: rep(ready, 2, {**REPRESENTATIVE[1], "P4": "80"}), SelectionRefused, "scores"),
        (lambda: rep(ready, 2, {"P1": "80", "P2": "80"}), SelectionRefused, "scores"),
        (lambda: rep(ready, 2, {**REPRESENTATIVE[1], "P2": "100.01"}), InvalidInput, "scores"),
        (lambda: rep(ready, 2, {**REPRESENTATIVE[1], "P3": "-1"}), InvalidInput, "scores"),
        (lambda: rep(ready, 2, {**REPRESENTATIVE[1], "P3": 80.5}), InvalidInput, "scores"),  # a float
        (lambda: rep(ready, 2, REPRESENTATIVE[1], voter="赵六"), InvalidInput, "voter"),  # no place for a voter
        (lambda: rep(ready, 2, REPRESENTATIVE[1], selection="NOPE"), SelectionNotFound, "selection"),
        (lambda: leader(ready, "王总", LEADERS["李总"]), SelectionRefused, "leader"),
        (lambda: leader(ready, "李总", {**LEADERS["李总"], "P1": "101"}), InvalidInput, "scores"),
        (lambda: close(ready, "NOPE"), SelectionNotFound, "selection"),
    ]
    for action, error, field in cases:
        with pytest.raises(error) as caught:
            action()
        assert caught.value.field == field, (caught.value, field)
    assert len(events(ready)) == before


def test_closing_needs_both_kinds_of_sheets_and_closes_for_good(ready: Any) -> None:
    open_(ready, "S1", ["P1"])
    open_(ready, "S2", ["P1"])
    rep(ready, 1, {"P1": "90"}, "S1")
    leader(ready, "王总", {"P1": "90"}, "S2")
    before = len(events(ready))
    for selection in ("S1", "S2"):  # S1 lacks leader sheets, S2 representative ones
        with pytest.raises(SelectionRefused) as caught:
            close(ready, selection)
        assert caught.value.field == "selection"
    assert len(events(ready)) == before
    leader(ready, "王总", {"P1": "90"}, "S1")
    close(ready, "S1")
    before = len(events(ready))
    for action in (lambda: rep(ready, 2, {"P1": "80"}, "S1"), lambda: leader(ready, "李总", {"P1": "80"}, "S1"),
                   lambda: close(ready, "S1")):
        with pytest.raises(SelectionRefused) as caught:
            action()
        assert caught.value.field == "selection"
    assert len(events(ready)) == before


def test_representative_sheets_store_nothing_that_identifies_a_voter(ready: Any) -> None:
    """Scan the stored payloads: only the selection, the clerk's sheet number, the scores (in
    candidate order, whatever order they were keyed in), the clerk and the import key —
    plus the library's event timestamp. A batch import gives every sheet one recorded-at."""
    open_(ready)
    batch = [(n, {"op": "record_representative_sheet", "key": f"S1/rep/{n}", "selection": "S1", "sheet": n,
                  "scores": dict(reversed(list(scores.items()))), "actor": "唱票员"})
             for n, scores in enumerate(REPRESENTATIVE, start=1)]
    ready.import_batch(batch)
    sheets = [e for e in LogReader(engine_of(ready)).read(topic_suffixes=("Selection.RepresentativeSheetRecorded",))]
    assert len(sheets) == 4
    marks = {"timestamp",  # the library's: when the clerk's command made the event
             "by", "migrated", "occurred_at"}  # the access layer's: the acting user (the clerk's account)
    for e in sheets:
        assert set(e.raw) - marks == {"selection", "sheet", "scores", "actor", "key"}, set(e.raw)
        assert e.raw.get("by") in (None, MIGRATION)  # who ran the import, never a voter
        assert list(e.raw["scores"]) == CANDIDATES
        assert e.raw["actor"] == "唱票员"
    assert len({e.recorded_at_us for e in sheets}) == 1
    leaders = list(LogReader(engine_of(ready)).read(topic_suffixes=("Selection.LeaderSheetRecorded",)))
    assert leaders == []


def test_show_by_position_on_the_command_line(ready: Any, db_url: str) -> None:
    golden(ready)
    run = CliRunner().invoke
    open_result = run(main, ["selection", "show", "岗位S1", "--json"], env={"LEDGER_DATABASE_URL": db_url})
    assert open_result.exit_code == 0, open_result.output
    [s] = json.loads(open_result.output)["selections"]
    assert (s["status"], s["result"], len(s["representative_sheets"]), s["clerks"]) == ("open", None, 4, ["唱票员"])
    close(ready)
    shown = run(main, ["selection", "show", "岗位S1"], env={"LEDGER_DATABASE_URL": db_url})
    assert shown.exit_code == 0, shown.output
    assert "84.82" in shown.output and "聘任" in shown.output
    by_id = json.loads(run(main, ["selection", "show", "S1", "--json"], env={"LEDGER_DATABASE_URL": db_url}).output)
    assert by_id["selections"][0]["result"]["appointed"] == "P1"
