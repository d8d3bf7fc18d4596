"""Mentor and apprentice (导师带徒): pairs, appraisals, skill results, the mentor ranking."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.cli.main import main
from adapters.store.logreader import LogReader
from domain.errors import BranchNotFound, InvalidInput, MentorshipNotFound, MentorshipRefused, PersonNotFound
from domain.members.mentoring import rank_mentors
from projections.mentoring import MentoringModel, mentors_json
from tests.helpers import company, events


def member(app: Any, code: str, branch: str = "A") -> None:
    app.command("enrol_member", person=code, name=f"{code}师傅", branch=branch, group="G1",
                **{"class": "B", "from": "2019-01"}, actor="registrar")


def employee(app: Any, code: str, branch: str = "A") -> None:
    app.command("register_employee", person=code, name=f"{code}青工", branch=branch, **{"from": "2019-01"},
                actor="hr")


def pair(app: Any, code: str, mentor: str, apprentice: str, branch: str = "A", year: str = "2019",
         **extra: Any) -> Any:
    return app.command("register_mentorship", branch=branch, pair=code, mentor=mentor, apprentice=apprentice,
                       year=year, actor=f"{branch}书记", **extra)


def appraise(app: Any, code: str, date: str, score: Any, branch: str = "A") -> Any:
    return app.command("record_apprentice_appraisal", branch=branch, pair=code, date=date, score=score,
                       actor=f"{branch}书记")


def skill(app: Any, code: str, competition: str, rank: Any, date: str = "2019-09-20", branch: str = "A") -> Any:
    return app.command("record_skill_result", branch=branch, pair=code, competition=competition, rank=rank,
                       date=date, actor=f"{branch}书记")


def shown(app: Any, year: str = "2019", branch: str | None = None) -> dict[str, Any]:
    model = MentoringModel().apply_all(LogReader(engine_of(app)).read(topic_suffixes=MentoringModel.topic_filter()))
    return mentors_json(model, year, branch)


@pytest.fixture
def workshop(app: Any) -> Any:
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    for code in ("M1", "M2", "M3", "M4"):
        member(app, code)
    for n in range(1, 11):
        employee(app, f"E{n}")
    member(app, "MB", "B")
    employee(app, "EB", "B")
    return app


def test_mentors_rank_by_progress_then_skill_with_a_shared_rank(workshop: Any) -> None:
    """Progress = last appraisal − first in the year; a mentor's = mean over apprentices.

    M1 (E1 70 → 75 → 85: +15, best rank 2) and M2 (E2 60 → 75: +15, rank 2) tie: rank 1, 1.
    M4 (E9 +15, no competition) is after them on the second criterion: rank 3.
    E5, an activist (E3 80 → 90: +10, rank 1): progress comes first, so rank 4 despite the win.
    M3 (E4 +12, E6 +7.5 → mean 9.75): rank 5. E7 (E8 appraised once): no rank.
    """
    app = workshop
    pair(app, "P1", "M1", "E1")
    pair(app, "P2", "M2", "E2")
    pair(app, "P3", "E5", "E3", mentor_is_activist=True)
    pair(app, "P4", "M3", "E4")
    pair(app, "P6", "M3", "E6")
    pair(app, "P5", "E7", "E8")
    pair(app, "P9", "M4", "E9")
    for code, scores in {"P1": ["70", "75", "85"], "P2": ["60", "75"], "P3": ["80", "90"], "P4": ["70", "82"],
                         "P6": ["80", "87.5"], "P5": ["66"], "P9": ["70", "85"]}.items():
        dates = ["2019-03-31", "2019-06-30", "2019-12-31"] if len(scores) == 3 else ["2019-05-31", "2019-11-30"]
        for date, score in zip(dates, scores):
            appraise(app, code, date, score)
    skill(app, "P1", "公司电工技能比武", 2)
    skill(app, "P1", "省行业技能大赛", 5, date="2019-10-12")
    skill(app, "P2", "公司电工技能比武", 2)
    skill(app, "P3", "公司钳工技能比武", 1)
    out = shown(app)
    assert [(m["mentor"], m["rank"], m["progress"], m["best_skill_rank"]) for m in out["mentors"]] == [
        ("M1", 1, "15.00", 2), ("M2", 1, "15.00", 2), ("M4", 3, "15.00", None), ("E5", 4, "10.00", 1),
        ("M3", 5, "9.75", None), ("E7", None, None, None)]
    m3 = out["mentors"][4]
    assert [(a["pair"], a["progress"]) for a in m3["apprentices"]] == [("P4", "12.00"), ("P6", "7.50")]
    p1 = out["mentors"][0]["apprentices"][0]
    assert (p1["first"], p1["last"], p1["appraisals"], p1["skill_results"]) == \
        ({"date": "2019-03-31", "score": "70.00"}, {"date": "2019-12-31", "score": "85.00"}, 3, 2)
    assert (out["pairs"], out["pairs_with_party_mentor"]) == (7, 6)
    assert out["pairs_by_mentor_standing"] == {"member": 5, "activist": 1, "employee": 1}
    assert {m["mentor"]: m["standing"] for m in out["mentors"]}["E5"] == "activist"


def test_ranking_is_per_year_and_can_be_limited_to_a_branch(workshop: Any) -> None:
    app = workshop
    pair(app, "P1", "M1", "E1")
    pair(app, "P1", "MB", "EB", branch="B")  # pair ids are the branch's own
    pair(app, "P1", "M2", "E1", year="2020")
    appraise(app, "P1", "2019-03-01", "60")
    appraise(app, "P1", "2019-12-01", "70")
    appraise(app, "P1", "2019-03-01", "50", branch="B")
    appraise(app, "P1", "2019-12-01", "80", branch="B")
    appraise(app, "P1", "2020-03-01", "70")
    assert [(m["mentor"], m["rank"]) for m in shown(app)["mentors"]] == [("MB", 1), ("M1", 2)]
    assert [(m["mentor"], m["rank"]) for m in shown(app, branch="A")["mentors"]] == [("M1", 1)]
    assert [(m["mentor"], m["rank"]) for m in shown(app, "2020")["mentors"]] == [("M2", None)]


def test_refusals_name_the_field_and_write_nothing(workshop: Any) -> None:
    app = workshop
    pair(app, "P1", "M1", "E1")
    appraise(app, "P1", "2019-03-31", "70")
    skill(app, "P1", "公司电工技能比武", 2)
    before = len(events(app))
    cases = [
        (lambda: pair(app, "P1", "M2", "E2"), MentorshipRefused, "pair"),
        (lambda: pair(app, "P2", "NOBODY", "E2"), PersonNotFound, "mentor"),
        (lambda: pair(app, "P2", "M2", "NOBODY"), PersonNotFound, "apprentice"),
        (lambda: pair(app, "P2", "MB", "E2"), MentorshipRefused, "mentor"),  # mentor in branch B
        (lambda: pair(app, "P2", "M2", "EB"), MentorshipRefused, "apprentice"),  # apprentice in branch B
        (lambda: pair(app, "P2", "M2", "M2"), MentorshipRefused, "apprentice"),
        (lambda: pair(app, "P2", "M2", "E1"), MentorshipRefused, "apprentice"),  # E1 has a mentor in 2019
        (lambda: pair(app, "P2", "M2", "E2", mentor_is_activist=True), MentorshipRefused, "mentor_is_activist"),
        (lambda: pair(app, "P2", "E3", "E2", mentor_is_activist="yes"), InvalidInput, "mentor_is_activist"),
        (lambda: pair(app, "P2", "M2", "E2", branch="Z"), BranchNotFound, "branch"),
        (lambda: pair(app, "P2", "M2", "E2", year="19"), InvalidInput, "year"),
        (lambda: appraise(app, "P9", "2019-06-30", "80"), MentorshipNotFound, "pair"),
        (lambda: appraise(app, "P1", "2020-01-15", "80"), MentorshipNotFound, "pair"),  # outside the pair's year
        (lambda: appraise(app, "P1", "2019-06-30", "80", branch="B"), MentorshipNotFound, "pair"),
        (lambda: appraise(app, "P1", "2019-06-30", "100.5"), InvalidInput, "score"),
        (lambda: appraise(app, "P1", "2019-06-30", "-1"), InvalidInput, "score"),
        (lambda: appraise(app, "P1", "2019-03-31", "80"), MentorshipRefused, "date"),  # that date is appraised
        (lambda: appraise(app, "P1", "2019-6-30", "80"), InvalidInput, "date"),
        (lambda: skill(app, "P1", "公司电工技能比武", 1), MentorshipRefused, "competition"),
        (lambda: skill(app, "P1", "省赛", 0), InvalidInput, "rank"),
        (lambda: skill(app, "P1", "省赛", "1"), InvalidInput, "rank"),
    ]
    for action, error, field in cases:
        with pytest.raises(error) as caught:
            action()
        assert caught.value.field == field, (caught.value, field)
    assert len(events(app)) == before


def test_rank_mentors_without_a_database() -> None:
    """Equal progress and equal best rank share a rank; a negative progress ranks below."""
    def p(code: str, mentor: str, first: str, last: str, ranks: tuple[int, ...] = ()) -> dict[str, Any]:
        return {"pair": code, "branch": "A", "mentor": mentor, "mentor_name": mentor, "standing": "member",
                "apprentice": f"{code}-A", "apprentice_name": code,
                "appraisals": {"2019-01-31": Decimal(first), "2019-12-31": Decimal(last)},
                "skills": {f"c{i}": {"rank": r, "date": "2019-06-01"} for i, r in enumerate(ranks)}}
    rows = rank_mentors([p("1", "X", "80", "70"), p("2", "Y", "60", "70", (3,)), p("3", "Z", "50", "60", (3, 8)),
                         p("4", "W", "50", "60", (1,))])
    assert [(r["mentor"], r["rank"], r["progress"]) for r in rows] == [
        ("W", 1, Decimal("10.00")), ("Y", 2, Decimal("10.00")), ("Z", 2, Decimal("10.00")), ("X", 4, Decimal("-10.00"))]


def test_show_on_the_command_line(workshop: Any, db_url: str) -> None:
    pair(workshop, "P1", "M1", "E1")
    appraise(workshop, "P1", "2019-03-01", "60")
    appraise(workshop, "P1", "2019-12-01", "72.5")
    run = CliRunner().invoke
    out = run(main, ["mentors", "show", "2019", "--branch", "A", "--json"], env={"LEDGER_DATABASE_URL": db_url})
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert (data["pairs"], data["mentors"][0]["progress"], data["mentors"][0]["rank"]) == (1, "12.50", 1)
    text = run(main, ["mentors", "show", "2019"], env={"LEDGER_DATABASE_URL": db_url})
    assert text.exit_code == 0 and "12.50" in text.output and "师徒 1 对" in text.output
    bad = run(main, ["mentors", "show", "19"], env={"LEDGER_DATABASE_URL": db_url})
    assert bad.exit_code != 0
