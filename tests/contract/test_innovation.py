"""创新创效: proposal rewards, innovation points and pay-grade steps."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.errors import BranchNotFound, InvalidInput, PersonNotFound, ProposalRefused
from domain.members.innovation import grade_steps
from projections.innovation import InnovationModel, innovation_json
from tests.helpers import company, events


def setup(app) -> None:
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    app.command("enrol_member", person="M1", name="王伟", branch="A", group="G1", **{"class": "B", "from": "2019-01"},
                actor="registrar")
    for person, branch in (("E1", "A"), ("F1", "B")):
        app.command("register_employee", person=person, name=f"{person}师傅", branch=branch, **{"from": "2019-01"},
                    actor="hr")


def propose(app, proposal: str, person: str = "E1", date: str = "2019-03-05", branch: str = "A") -> None:
    app.command("submit_proposal", branch=branch, person=person, proposal=proposal, title=f"{proposal} 改进工装",
                date=date, actor="党群工作部")


def award(app, person: str, points: object, date: str = "2019-06-30", branch: str = "A", **extra: object) -> None:
    app.command("award_innovation_points", branch=branch, person=person, points=points, reason="技术革新成果",
                date=date, actor="党群工作部", **extra)


def shown(app, year: str | None = None, branch: str | None = None, upto: int | None = None) -> dict:
    reader = LogReader(engine_of(app))
    model = InnovationModel().apply_all(reader.read(upto=upto, topic_suffixes=InnovationModel.topic_filter()))
    return innovation_json(model, year, branch)


def rows(out: dict) -> dict:
    return {r["person"]: r for r in out["people"]}


def test_grade_steps_are_whole_tens_of_points() -> None:
    assert [grade_steps(Decimal(p), 10) for p in ("0", "9.99", "10", "25", "29.99", "30")] == [0, 0, 1, 2, 2, 3]
    assert grade_steps(Decimal("25"), 12) == 2


def test_rewards_points_and_grade_steps(app) -> None:
    setup(app)
    for i in range(3):
        propose(app, f"P{i}")
    propose(app, "Q1", person="M1")
    award(app, "E1", "12.5", proposal="P0")
    award(app, "E1", "12.5")
    award(app, "M1", "9.99")
    out = shown(app, year="2019")
    e1, m1 = rows(out)["E1"], rows(out)["M1"]
    assert (e1["proposals"], e1["reward"], e1["points"], e1["total_points"], e1["grade_steps"]) \
        == (3, "30.00", "25.00", "25.00", 2)
    assert (m1["proposals"], m1["reward"], m1["grade_steps"], m1["name"]) == (1, "10.00", 0, "王伟")
    assert out["totals"] == {"people": 2, "proposals": 4, "reward": "40.00", "points": "34.99", "new_grade_steps": 2}
    assert out["points_per_grade"] == 10
    # cumulative account: 2020's 5 points bring E1 to 30 → a third step, gained in 2020
    award(app, "E1", "5", date="2020-02-01")
    next_year = rows(shown(app, year="2020"))["E1"]
    assert (next_year["proposals"], next_year["points"], next_year["total_points"], next_year["grade_steps"],
            next_year["new_grade_steps"]) == (0, "5.00", "30.00", 3, 1)
    assert rows(shown(app, year="2019"))["E1"]["total_points"] == "25.00"  # the account at 2019's end
    assert rows(shown(app))["E1"]["grade_steps"] == 3
    assert set(rows(shown(app, year="2019", branch="B"))) == set()


def test_the_reward_is_the_rulebook_in_force_in_the_proposal_month(app) -> None:
    setup(app)
    propose(app, "P1", date="2019-06-30")
    app.adopt_rulebook(version=2, **{"from": "2019-07"}, parameters={"proposal_reward": "20", "points_per_grade": 5},
                       actor="committee")
    propose(app, "P2", date="2019-07-01")
    award(app, "E1", "10", date="2019-08-01")
    e1 = rows(shown(app, year="2019"))["E1"]
    assert (e1["reward"], e1["grade_steps"]) == ("30.00", 2)  # 10 + 20 yuan; 10 points / 5 per step


def test_refusals_name_the_field_and_write_nothing(app) -> None:
    setup(app)
    propose(app, "P1")
    before = len(events(app))
    cases = [
        (lambda: propose(app, "P1"), ProposalRefused, "proposal"),  # id taken
        (lambda: propose(app, "P2", person="F1"), ProposalRefused, "person"),  # another branch's employee
        (lambda: propose(app, "P2", person="X9"), PersonNotFound, "person"),
        (lambda: propose(app, "P2", date="2018-12-31"), ProposalRefused, "person"),  # not yet registered then
        (lambda: propose(app, "P2", date="2019-3-5"), InvalidInput, "date"),
        (lambda: propose(app, "P2", branch="Z"), BranchNotFound, "branch"),
        (lambda: award(app, "E1", "0"), ProposalRefused, "points"),
        (lambda: award(app, "E1", "-5"), ProposalRefused, "points"),
        (lambda: award(app, "E1", "1.234"), InvalidInput, "points"),
        (lambda: award(app, "E1", 2.5), InvalidInput, "points"),
        (lambda: award(app, "F1", "5"), ProposalRefused, "person"),
        (lambda: award(app, "E1", "5", proposal="P404"), ProposalRefused, "proposal"),
        (lambda: award(app, "M1", "5", proposal="P1"), ProposalRefused, "proposal"),  # someone else's proposal
    ]
    for action, error, field in cases:
        with pytest.raises(error) as info:
            action()
        assert info.value.field == field, (info.value, field)
    assert len(events(app)) == before


def test_as_of_replay_and_the_cli(app, db_url) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import main
    setup(app)
    propose(app, "P1")
    award(app, "E1", "10")
    moment = events(app)[-1]
    award(app, "E1", "15")
    assert rows(shown(app, upto=moment.position))["E1"]["grade_steps"] == 1
    from datetime import datetime, timedelta, timezone
    at = (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=moment.recorded_at_us)).isoformat()
    run = CliRunner().invoke
    env = {"LEDGER_DATABASE_URL": db_url}
    then = json.loads(run(main, ["innovation", "show", "--year", "2019", "--as-of", at, "--json"], env=env).output)
    assert (then["people"][0]["total_points"], then["people"][0]["grade_steps"], then["as_of"]) == ("10.00", 1, at)
    now = json.loads(run(main, ["innovation", "show", "--branch", "A", "--json"], env=env).output)
    assert (now["people"][0]["reward"], now["people"][0]["points"], now["people"][0]["grade_steps"]) == ("10.00", "25.00", 2)
    assert "晋档 2" in run(main, ["innovation", "show"], env=env).output
    assert run(main, ["innovation", "show", "--year", "19"], env=env).exit_code != 0
