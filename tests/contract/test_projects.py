"""一年做成一件事: registration, progress, completion, and the completion rate."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.errors import BranchNotFound, InvalidInput, PersonNotFound, ProjectNotFound, ProjectRefused
from projections.projects import ProjectsModel, percent, projects_json
from tests.helpers import company, events


def enrol(app, person: str, branch: str = "A", group: str | None = "G1", from_month: str = "2018-01") -> None:
    app.command("enrol_member", person=person, name=f"{person}同志", branch=branch, group=group,
                **{"class": "B", "from": from_month}, actor="registrar")


def register(app, project: str, member: str | None = None, group: str | None = None, branch: str = "A",
             year: str = "2018", value: object = "100", **extra: object) -> None:
    fields = {"branch": branch, "project": project, "year": year, "title": f"{project} 降本增效",
              "target": {"unit": "万元", "value": value}, "goal": "全年降本 2000 万元", "actor": f"{branch}书记",
              **extra}
    if member is not None:
        fields["member"] = member
    if group is not None:
        fields["group"] = group
    app.command("register_project", **fields)


def progress(app, project: str, date: str, value: str, branch: str = "A") -> None:
    app.command("record_project_progress", branch=branch, project=project, date=date, value=value,
                note="季度盘点", actor="A书记")


def complete(app, project: str, date: str = "2018-12-20", branch: str = "A", **extra: object) -> None:
    app.command("complete_project", branch=branch, project=project, date=date, actor="A书记", **extra)


def setup(app) -> None:
    company(app, ("A", "full_time", "2018-01"), ("B", "full_time", "2018-01"))
    for m in ("M1", "M2", "M3"):
        enrol(app, m)
    enrol(app, "M4", group="G2")
    enrol(app, "N1", branch="B", group="BG")
    app.command("register_employee", person="E1", name="职工甲", branch="A", **{"from": "2018-01"}, actor="hr")


def shown(app, year: str = "2018", branch: str | None = None, upto: int | None = None) -> dict:
    reader = LogReader(engine_of(app))
    return projects_json(ProjectsModel().apply_all(reader.read(upto=upto, topic_suffixes=ProjectsModel.topic_filter())),
                         year, branch)


def test_completion_rate_is_completed_over_registered_as_a_percentage(app) -> None:
    setup(app)
    register(app, "P1", member="M1")
    register(app, "P2", member="M2", value="50")
    register(app, "P3", group="G2")
    register(app, "Q1", member="N1", branch="B")
    progress(app, "P1", "2018-06-30", "40")
    progress(app, "P1", "2018-09-30", "100.5")
    complete(app, "P1")
    complete(app, "P2", value="50")
    progress(app, "P3", "2018-06-30", "12.34")
    out = shown(app)
    a = out["branches"][0]
    assert (a["branch"], a["registered"], a["completed"], a["completion_rate_percent"]) == ("A", 3, 2, "66.67")
    assert (a["members_owning"], a["groups_owning"]) == (2, 1)
    p = {x["project"]: x for x in a["projects"]}
    assert (p["P1"]["achieved"], p["P1"]["progress_percent"], p["P1"]["completed"]) == ("100.50", "100.50", "2018-12-20")
    assert (p["P3"]["achieved"], p["P3"]["progress_percent"], p["P3"]["completed"]) == ("12.34", "12.34", None)
    assert out["branches"][1]["completion_rate_percent"] == "0.00"
    assert (out["total"]["registered"], out["total"]["completed"], out["total"]["completion_rate_percent"]) == (4, 2, "50.00")
    assert shown(app, branch="B")["total"]["registered"] == 1
    assert shown(app, year="2019")["total"]["completion_rate_percent"] is None  # nothing registered


def test_percent_rounds_half_up_to_two_places() -> None:
    assert percent(75, 139) == Decimal("53.96")
    assert percent(1, 8) == Decimal("12.50")
    assert percent(1, 3) == Decimal("33.33") and percent(2, 3) == Decimal("66.67")
    assert percent(Decimal("0.00005"), 1) == Decimal("0.01")  # 0.005 → 0.01, half-up
    assert percent(0, 0) is None


def test_refusals_name_the_field_and_write_nothing(app) -> None:
    setup(app)
    register(app, "P1", member="M1")
    progress(app, "P1", "2018-06-30", "40")
    register(app, "P9", member="M3")
    complete(app, "P9", value="120")
    before = len(events(app))
    cases = [
        (lambda: register(app, "P2", member="M1"), ProjectRefused, "member"),  # one a year
        (lambda: register(app, "P1", member="M2"), ProjectRefused, "project"),  # id taken
        (lambda: register(app, "P2", member="E1"), ProjectRefused, "member"),  # not a member
        (lambda: register(app, "P2", member="N1"), ProjectRefused, "member"),  # another branch's member
        (lambda: register(app, "P2", member="M404"), PersonNotFound, "member"),
        (lambda: register(app, "P2", member="M2", year="2017"), ProjectRefused, "member"),  # not enrolled then
        (lambda: register(app, "P2", group="G9"), ProjectRefused, "group"),
        (lambda: register(app, "P2"), InvalidInput, "member"),
        (lambda: register(app, "P2", member="M2", group="G1"), InvalidInput, "member"),
        (lambda: register(app, "P2", member="M2", value="0"), InvalidInput, "target"),
        (lambda: register(app, "P2", member="M2", value=1.5), InvalidInput, "target"),
        (lambda: register(app, "P2", member="M2", branch="Z"), BranchNotFound, "branch"),
        (lambda: register(app, "P2", member="M2", year="18"), InvalidInput, "year"),
        (lambda: progress(app, "P404", "2018-07-01", "1"), ProjectNotFound, "project"),
        (lambda: progress(app, "P1", "2018-05-01", "50"), ProjectRefused, "date"),  # before the last reading
        (lambda: progress(app, "P1", "2017-12-31", "50"), ProjectRefused, "date"),  # before the year
        (lambda: progress(app, "P1", "2018-02-30", "50"), InvalidInput, "date"),
        (lambda: progress(app, "P1", "2018-07-01", "-1"), InvalidInput, "value"),
        (lambda: progress(app, "P1", "2018-07-01", "50", branch="B"), ProjectRefused, "branch"),
        (lambda: complete(app, "P1"), ProjectRefused, "value"),  # 40 < 100
        (lambda: complete(app, "P1", value="99.99"), ProjectRefused, "value"),
        (lambda: complete(app, "P9"), ProjectRefused, "project"),  # completed already
        (lambda: progress(app, "P9", "2018-12-31", "130"), ProjectRefused, "project"),
    ]
    for action, error, field in cases:
        with pytest.raises(error) as info:
            action()
        assert info.value.field == field, (info.value, field)
    assert len(events(app)) == before
    register(app, "P2", group="G1")  # a member's group may have its own project
    register(app, "P3", member="M1", year="2019")  # one a year: next year again


def test_as_of_replay_and_the_cli(app, db_url) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import main
    setup(app)
    register(app, "P1", member="M1")
    progress(app, "P1", "2018-06-30", "100")
    moment = events(app)[-1]
    complete(app, "P1")
    assert shown(app)["total"]["completed"] == 1
    assert shown(app, upto=moment.position)["total"] | {} == shown(app, upto=moment.position)["total"] | {
        "registered": 1, "completed": 0, "completion_rate_percent": "0.00"}
    from datetime import datetime, timedelta, timezone
    at = (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=moment.recorded_at_us)).isoformat()
    run = CliRunner().invoke
    env = {"LEDGER_DATABASE_URL": db_url}
    then = json.loads(run(main, ["projects", "show", "2018", "--as-of", at, "--json"], env=env).output)
    assert then["total"]["completed"] == 0 and then["as_of"] == at
    now = json.loads(run(main, ["projects", "show", "2018", "--branch", "A", "--json"], env=env).output)
    assert now["branches"][0]["completion_rate_percent"] == "100.00"
    assert "完成率 100.00%" in run(main, ["projects", "show", "2018"], env=env).output
    result = run(main, ["projects", "register", "--branch", "A", "--project", "P2", "--member", "M2", "--year", "2018",
                        "--title", "节能", "--unit", "吨", "--target", "5", "--goal", "节能降耗", "--actor", "A书记"],
                 env=env)
    assert result.exit_code == 0, result.output
    assert run(main, ["projects", "show", "18"], env=env).exit_code != 0
