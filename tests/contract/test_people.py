"""Members and employees: enrolment, class, transfer, departure, and member counts."""
from __future__ import annotations

import pytest

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.errors import BranchNotFound, MembershipRefused, PersonAlreadyRegistered, PersonNotFound
from projections.annual import year_json
from projections.people import PeopleModel
from tests.helpers import approve, company, events, model_of


def people(app) -> PeopleModel:
    return PeopleModel().apply_all(LogReader(engine_of(app)).read(topic_suffixes=PeopleModel.topic_filter()))


def enrol(app, person: str, branch: str = "A", cls: str = "B", from_month: str = "2019-01", group: str | None = "G1"):
    return app.command("enrol_member", person=person, name=f"{person}同志", branch=branch, group=group,
                       **{"class": cls, "from": from_month}, actor="registrar")


def test_enrolment_class_transfer_and_departure_shape_the_roster(app) -> None:
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    enrol(app, "P1")
    enrol(app, "P2", cls="A")
    app.command("register_employee", person="E1", name="职工甲", branch="A", **{"from": "2019-01"}, actor="hr")
    app.command("change_member_class", person="P1", **{"class": "C", "from": "2019-04"}, actor="registrar")
    app.command("transfer_person", person="P2", branch="B", group="G9", **{"from": "2019-07"}, actor="registrar")
    app.command("record_departure", person="P1", reason="调出公司", **{"from": "2019-10"}, actor="registrar")
    model = people(app)
    assert model.placement("P1", "2019-03")["class"] == "B"
    assert model.placement("P1", "2019-04")["class"] == "C"
    assert model.placement("P1", "2019-10") is None
    assert model.placement("P2", "2019-06")["branch"] == "A"
    assert model.placement("P2", "2019-07") | {} \
        == model.placement("P2", "2019-07") | {"branch": "B", "group": "G9", "class": "A"}
    assert [p["person"] for p in model.people_in("A", "2019-05")] == ["E1", "P1", "P2"]
    assert model.placement("E1", "2019-05")["kind"] == "employee"
    assert (model.member_count("A", "2019-06"), model.member_count("A", "2019-07"),
            model.member_count("A", "2019-10")) == (2, 1, 0)
    assert model.member_count("B", "2019-07") == 1


def test_an_employee_admitted_becomes_a_member_from_that_month(app) -> None:
    company(app, ("A", "full_time", None))
    app.command("register_employee", person="E1", name="职工甲", branch="A", **{"from": "2019-01"}, actor="hr")
    enrol(app, "E1", from_month="2019-07")
    model = people(app)
    assert model.placement("E1", "2019-06")["kind"] == "employee"
    assert model.placement("E1", "2019-07")["kind"] == "member"
    assert model.member_count("A", "2019-06") == 0 and model.member_count("A", "2019-07") == 1


def test_refusals_name_the_field_and_write_nothing(app) -> None:
    company(app, ("A", "full_time", "2019-03"))
    enrol(app, "P1", from_month="2019-03")
    before = len(events(app))
    cases = [
        (lambda: enrol(app, "P1", from_month="2019-04"), PersonAlreadyRegistered, "person"),
        (lambda: enrol(app, "P2", branch="Z"), BranchNotFound, "branch"),
        (lambda: enrol(app, "P3", from_month="2019-01"), MembershipRefused, "from"),  # before the branch exists
        (lambda: app.command("change_member_class", person="NOPE", **{"class": "A", "from": "2019-04"}, actor="r"),
         PersonNotFound, "person"),
        (lambda: app.command("change_member_class", person="P1", **{"class": "A", "from": "2019-02"}, actor="r"),
         MembershipRefused, "from"),  # earlier than the latest record
    ]
    for action, error, field in cases:
        with pytest.raises(error) as caught:
            action()
        assert caught.value.field == field
    from domain.errors import InvalidInput
    with pytest.raises(InvalidInput) as bad:
        enrol(app, "P4", cls="E")
    assert bad.value.field == "class"
    assert len(events(app)) == before


def test_enrolments_replace_the_declared_count_in_the_annual_quota(app) -> None:
    """Where a branch has enrolments, they are its member count (and a warning names the gap)."""
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    for i in range(21):
        enrol(app, f"P{i:02d}")
    model = model_of(app)
    assert model.members_in("A", "2019-12") == 21 and model.members_in("B", "2019-12") == 20
    assert model.member_count_warnings("2019-12") == [{"branch": "A", "month": "2019-12", "enrolled": 21, "declared": 20}]
    rows = {r["branch"]: r for r in year_json(model, "2019")["branches"]}
    assert rows["A"]["members"] == 21 and rows["B"]["members"] == 20
    assert year_json(model, "2019")["member_warnings"][0]["branch"] == "A"


def test_annual_approval_counts_the_enrolments_in_december(app) -> None:
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    for i in range(21):
        enrol(app, f"P{i:02d}")
    app.command("record_departure", person="P00", reason="退休转出", **{"from": "2019-12"}, actor="registrar")
    months = [f"2019-{m:02d}" for m in range(1, 13)]
    approve(app, *months)
    for q in range(1, 5):
        app.approve_quarter(period=f"2019Q{q}", actor="approver")
    for b in ("A", "B"):
        app.record_unit_performance(branch=b, year="2019", score="90", actor="perf")
        app.record_debriefing(branch=b, year="2019", score="90", actor="committee")
    app.approve_year(year="2019", actor="committee")
    year = model_of(app).years["2019"]["approval"]["results"]
    members = {r["branch"]: r["members"] for r in year}
    assert members == {"A": 20, "B": 20}


def test_before_its_first_enrolment_a_branch_keeps_its_declared_count(app) -> None:
    company(app, ("A", "full_time", None))
    enrol(app, "P1", from_month="2020-01")
    model = model_of(app)
    assert (model.members_in("A", "2019-12"), model.members_in("A", "2020-01")) == (20, 1)
    assert model.member_count_warnings("2019-12") == []
