"""党员"1+N": links of members to non-member employees, per-group N, over/under flags."""
from __future__ import annotations

import json

import pytest

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.errors import BranchNotFound, InvalidInput, LinkRefused, PersonNotFound
from projections.links import LinksModel, links_json
from tests.helpers import company, events


def enrol(app, person: str, branch: str = "A", group: str | None = "G1", from_month: str = "2019-01") -> None:
    app.command("enrol_member", person=person, name=f"{person}同志", branch=branch, group=group,
                **{"class": "B", "from": from_month}, actor="registrar")


def employ(app, person: str, branch: str = "A") -> None:
    app.command("register_employee", person=person, name=f"{person}师傅", branch=branch, **{"from": "2019-01"},
                actor="hr")


def link(app, member: str, employee: str, from_month: str = "2019-01", branch: str = "A") -> None:
    app.command("link_employee", branch=branch, member=member, employee=employee, **{"from": from_month},
                actor="A书记")


def setup(app) -> None:
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    for m, g in (("M1", "G1"), ("M2", "G1"), ("M3", "G2")):
        enrol(app, m, group=g)
    enrol(app, "N1", branch="B")
    for i in range(1, 10):
        employ(app, f"E{i}")
    employ(app, "F1", branch="B")


def view(app, branch: str = "A", month: str = "2019-06", upto: int | None = None) -> dict:
    reader = LogReader(engine_of(app))
    model = LinksModel().apply_all(reader.read(upto=upto, topic_suffixes=LinksModel.topic_filter()))
    return links_json(model, branch, month)


def flags(shown: dict) -> dict:
    return {r["member"]: (r["count"], r["n"], r["flag"]) for r in shown["members"]}


def test_members_over_and_under_their_n_are_flagged_and_groups_set_their_own_n(app) -> None:
    setup(app)
    for e in ("E1", "E2", "E3", "E4", "E5"):
        link(app, "M1", e)
    link(app, "M2", "E6")
    link(app, "M3", "E7")
    link(app, "M3", "E8")
    assert flags(view(app)) == {"M1": (5, 5, "ok"), "M2": (1, 5, "under"), "M3": (2, 5, "under")}
    app.command("set_link_quota", branch="A", group="G2", n=1, **{"from": "2019-04"}, actor="A书记")
    assert flags(view(app, month="2019-03"))["M3"] == (2, 5, "under")  # before the group's N
    shown = view(app, month="2019-04")
    assert flags(shown)["M3"] == (2, 1, "over") and shown["quotas"] == {"G2": 1}
    assert shown["summary"] | {} == shown["summary"] | {"members": 3, "ok": 1, "under": 1, "over": 1,
                                                        "employees": 9, "linked_employees": 8,
                                                        "unlinked_employees": 1}
    # the rulebook's default N: a version from 2019-07 makes it 3
    app.adopt_rulebook(version=2, **{"from": "2019-07"}, parameters={"link_quota_default": 3}, actor="committee")
    assert flags(view(app, month="2019-07")) == {"M1": (5, 3, "over"), "M2": (1, 3, "under"), "M3": (2, 1, "over")}
    assert flags(view(app, month="2019-06"))["M1"] == (5, 5, "ok")


def test_unlink_relink_and_stale_links(app) -> None:
    setup(app)
    link(app, "M1", "E1")
    link(app, "M1", "E2")
    app.command("unlink_employee", branch="A", member="M1", employee="E1", reason="调岗", **{"from": "2019-05"},
                actor="A书记")
    link(app, "M2", "E1", from_month="2019-05")  # free again from the unlink month
    assert [e["employee"] for e in view(app, month="2019-04")["members"][0]["linked"]] == ["E1", "E2"]
    shown = view(app, month="2019-05")
    assert [[e["employee"] for e in r["linked"]] for r in shown["members"]] == [["E2"], ["E1"], []]
    app.command("transfer_person", person="E2", branch="B", **{"from": "2019-08"}, actor="registrar")
    later = view(app, month="2019-08")
    assert later["members"][0]["count"] == 0
    assert later["stale"] == [{"employee": "E2", "member": "M1", "from": "2019-01", "why": "职工已不在本支部或已入党"}]


def test_refusals_name_the_field_and_write_nothing(app) -> None:
    setup(app)
    link(app, "M1", "E1")
    before = len(events(app))
    cases = [
        (lambda: link(app, "E2", "E3"), LinkRefused, "member"),  # an employee is not a member
        (lambda: link(app, "N1", "E3"), LinkRefused, "member"),  # a member of another branch
        (lambda: link(app, "M1", "M2"), LinkRefused, "employee"),  # a member is not an employee
        (lambda: link(app, "M1", "F1"), LinkRefused, "employee"),  # an employee of another branch
        (lambda: link(app, "M1", "E404"), PersonNotFound, "employee"),
        (lambda: link(app, "M404", "E3"), PersonNotFound, "member"),
        (lambda: link(app, "M1", "E1"), LinkRefused, "employee"),  # duplicate
        (lambda: link(app, "M2", "E1"), LinkRefused, "employee"),  # linked to another member already
        (lambda: link(app, "M1", "E3", from_month="2018-12"), LinkRefused, "member"),  # before enrolment
        (lambda: link(app, "M1", "E3", branch="Z"), BranchNotFound, "branch"),
        (lambda: link(app, "M1", "E3", from_month="2019-13"), InvalidInput, "from"),
        (lambda: app.command("unlink_employee", branch="A", member="M2", employee="E1", **{"from": "2019-05"},
                             actor="s"), LinkRefused, "employee"),
        (lambda: app.command("unlink_employee", branch="A", member="M1", employee="E1", **{"from": "2018-12"},
                             actor="s"), LinkRefused, "from"),
        (lambda: app.command("set_link_quota", branch="A", group="G9", n=3, **{"from": "2019-01"}, actor="s"),
         LinkRefused, "group"),
        (lambda: app.command("set_link_quota", branch="A", group="G1", n=-1, **{"from": "2019-01"}, actor="s"),
         InvalidInput, "n"),
        (lambda: app.command("set_link_quota", branch="A", group="G1", n="3", **{"from": "2019-01"}, actor="s"),
         InvalidInput, "n"),
    ]
    for action, error, field in cases:
        with pytest.raises(error) as info:
            action()
        assert info.value.field == field, (info.value, field)
    assert len(events(app)) == before
    app.command("set_link_quota", branch="A", group="G1", n=3, **{"from": "2019-06"}, actor="s")
    with pytest.raises(LinkRefused) as info:
        app.command("set_link_quota", branch="A", group="G1", n=4, **{"from": "2019-03"}, actor="s")
    assert info.value.field == "from"


def test_as_of_replay_and_the_cli(app, db_url) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import main
    setup(app)
    link(app, "M1", "E1")
    moment = events(app)[-1]
    app.command("unlink_employee", branch="A", member="M1", employee="E1", **{"from": "2019-01"}, actor="s")
    assert view(app, month="2019-01")["members"][0]["count"] == 0
    assert view(app, month="2019-01", upto=moment.position)["members"][0]["count"] == 1
    from datetime import datetime, timedelta, timezone
    at = (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=moment.recorded_at_us)).isoformat()
    run = CliRunner().invoke
    env = {"LEDGER_DATABASE_URL": db_url}
    then = json.loads(run(main, ["links", "show", "--branch", "A", "--as-of", at, "--json"], env=env).output)
    assert then["month"] == "2019-01" and then["as_of"] == at  # the latest month the branch's records name
    assert then["members"][0]["linked"][0]["employee"] == "E1" and then["members"][0]["flag"] == "under"
    now = json.loads(run(main, ["links", "show", "--branch", "A", "--month", "2019-02", "--json"], env=env).output)
    assert now["members"][0]["count"] == 0
    text = run(main, ["links", "show", "--branch", "A", "--month", "2019-02"], env=env).output
    assert "不足" in text and "M1" in text
    bad = run(main, ["links", "show", "--branch", "A", "--month", "2019-2"], env=env)
    assert bad.exit_code != 0


def test_the_demo_parts_import_once_and_show_what_they_promise(app) -> None:
    import random

    from projections.innovation import InnovationModel, innovation_json
    from projections.projects import ProjectsModel, projects_json
    from scripts import demo_innovation, demo_links, demo_people, demo_projects
    branches = [{"op": "register_branch", "code": code, "name": f"{code}支部", "members": m, "actor": "r"}
                for code, (m, _) in demo_people.SIZES.items()]
    rng = random.Random(7)
    lines = [*branches, *demo_people.lines(), *demo_links.lines(rng), *demo_projects.lines(rng),
             *demo_innovation.lines(rng)]
    app.import_batch(enumerate(lines, start=1))
    keyed = [x for x in lines if "key" in x]
    assert app.import_batch(enumerate(keyed, start=1)).appended == 0
    reader = LogReader(engine_of(app))
    smelt = view(app, "SMELT", "2019-12")
    assert smelt["quotas"] == {"SMELT-G1": 3} and {"under", "ok"} <= {r["flag"] for r in smelt["members"]}
    projects = projects_json(ProjectsModel().apply_all(reader.read(topic_suffixes=ProjectsModel.topic_filter())), "2019")
    assert 0 < projects["total"]["completed"] < projects["total"]["registered"]
    shown = innovation_json(InnovationModel().apply_all(reader.read(topic_suffixes=InnovationModel.topic_filter())), "2019")
    assert shown["totals"]["reward"] == f"{shown['totals']['proposals'] * 10}.00"
    assert max(r["grade_steps"] for r in shown["people"]) >= 1
