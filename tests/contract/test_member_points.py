"""Party-member points (党员积分): parts, clamp, weighted total, ranks, guards, rulebook
versions and the as-of replay — on SQLite and PostgreSQL (the ``app`` fixture)."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.assessment.rulebook import RULEBOOK_V1, Rulebook
from domain.errors import BranchNotFound, EntryNotFound, InvalidInput, MemberPointsRefused, PersonNotFound
from domain.integrity.log import EPOCH
from domain.members.member_points import annual_total, member_total, part_score
from domain.service.application import ImportRefused
from projections.member_points import MemberPointsModel, explain_member_json, members_json
from tests.helpers import company, events


# -- helpers -------------------------------------------------------------------------------
def enrol(app, person: str, branch: str = "A", group: str | None = "G1", cls: str = "B",
          from_month: str = "2019-01") -> None:
    app.command("enrol_member", person=person, name=f"{person}同志", branch=branch, group=group,
                **{"class": cls, "from": from_month}, actor="登记员")


def points(app, person: str, pts: str, month: str = "2019-03", item: str = "political_study",
           branch: str = "A", **extra: Any) -> Any:
    return app.command("record_member_points", branch=branch, person=person, month=month, item=item,
                       points=pts, reason="测试", actor=f"{branch}支部书记", **extra)


def group_points(app, group: str, pts: str, month: str = "2019-03", branch: str = "A", **extra: Any) -> Any:
    return app.command("record_group_points", branch=branch, group=group, month=month, points=pts,
                       reason="小组活动", actor=f"{branch}支部书记", **extra)


def appraisal(app, person: str, pts: str, branch: str = "A", year: str = "2019", **extra: Any) -> Any:
    return app.command("record_appraisal", branch=branch, person=person, year=year, points=pts,
                       reason="民主评议", actor=f"{branch}支部书记", **extra)


def fold(app, upto: int | None = None) -> MemberPointsModel:
    reader = LogReader(engine_of(app))
    return MemberPointsModel().apply_all(reader.read(upto=upto, topic_suffixes=MemberPointsModel.topic_filter()))


def show(app, year: str = "2019", branch: str | None = None, upto: int | None = None) -> dict[str, dict[str, Any]]:
    return {m["person"]: m for m in members_json(fold(app, upto), year, branch)["members"]}


def parts(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return row["individual"], row["group_work"], row["appraisal"], row["total"]


@pytest.fixture
def branch_a(app):
    """Branch A (members P1, P2, P3 in G1; P4 in G2), branch B (Q1 in H1), employee E1 in A."""
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    for p in ("P1", "P2", "P3"):
        enrol(app, p)
    enrol(app, "P4", group="G2")
    enrol(app, "Q1", branch="B", group="H1")
    app.command("register_employee", person="E1", name="职工甲", branch="A", **{"from": "2019-01"}, actor="hr")
    return app


# -- the arithmetic, without a database ------------------------------------------------------
def test_arithmetic_base_clamp_and_half_up_total() -> None:
    rb = RULEBOOK_V1
    assert part_score(Decimal("5.01"), rb) == Decimal("85.01")
    assert part_score(Decimal("25"), rb) == Decimal(100) and part_score(Decimal("-81"), rb) == Decimal(0)
    # 0.5 × 85.01 + 0.3 × 85.00 + 0.2 × 80.00 = 42.505 + 25.5 + 16 = 84.005 → 84.01 half-up
    # (half-even would give 84.00).
    assert annual_total(Decimal("85.01"), Decimal("85.00"), Decimal("80.00"), rb) == Decimal("84.01")
    assert member_total(Decimal(0), Decimal(0), Decimal(0), rb).total == Decimal("80.00")
    with pytest.raises(ValueError, match="和为 1"):
        Rulebook.from_parameters(2, {"points_weight_individual": "0.6"})
    with pytest.raises(ValueError, match="下限 ≤ 基础分 ≤ 上限"):
        Rulebook.from_parameters(2, {"points_base": "101"})


# -- the rules, on both backends -------------------------------------------------------------
def test_each_part_is_base_plus_entries_and_the_total_weighs_them_half_up(branch_a) -> None:
    app = branch_a
    points(app, "P1", "3.01")
    points(app, "P1", "2", month="2019-06", item="mass_contact")
    group_points(app, "G1", "5", month="2019-04")
    # P1: individual 80 + 3.01 + 2 = 85.01; group 80 + 5 = 85.00; appraisal 80.00;
    # total 0.5 × 85.01 + 0.3 × 85 + 0.2 × 80 = 42.505 + 25.5 + 16 = 84.005 → 84.01 (half-up).
    rows = show(app)
    assert parts(rows["P1"]) == ("85.01", "85.00", "80.00", "84.01")
    assert parts(rows["P2"]) == ("80.00", "85.00", "80.00", "81.50")  # G1's entry counts for every G1 member
    assert parts(rows["P4"]) == ("80.00", "80.00", "80.00", "80.00")  # G2: no entries → the base
    assert "E1" not in rows and rows["Q1"]["branch"] == "B"
    appraisal(app, "P4", "-3.5")
    assert parts(show(app)["P4"]) == ("80.00", "80.00", "76.50", "79.30")


def test_each_part_is_clamped_to_0_and_100(branch_a) -> None:
    app = branch_a
    points(app, "P1", "15")
    points(app, "P1", "10", item="job_duties")  # 105 → 100
    points(app, "P2", "-50", item="discipline_integrity")
    points(app, "P2", "-40", month="2019-05", item="discipline_integrity")  # −10 → 0
    appraisal(app, "P1", "30")  # 110 → 100
    group_points(app, "G1", "-85")  # −5 → 0, for P1, P2, P3
    rows = show(app)
    assert parts(rows["P1"]) == ("100.00", "0.00", "100.00", "70.00")
    assert parts(rows["P2"]) == ("0.00", "0.00", "80.00", "16.00")
    explained = explain_member_json(fold(app), "2019", "P1")
    individual = explained["parts"][0]
    assert (individual["unclamped"], individual["score"], individual["clamped"]) == ("105.00", "100.00", True)


def test_ties_share_a_rank_within_the_branch(branch_a) -> None:
    app = branch_a
    points(app, "P1", "2")
    points(app, "P2", "2", item="assigned_tasks")
    points(app, "P3", "1")
    points(app, "Q1", "9", branch="B")  # another branch: ranked on its own
    rows = show(app)
    assert [(p, rows[p]["total"], rows[p]["rank"]) for p in ("P1", "P2", "P3", "P4")] == [
        ("P1", "81.00", 1), ("P2", "81.00", 1), ("P3", "80.50", 3), ("P4", "80.00", 4)]
    assert rows["Q1"]["rank"] == 1
    listed = members_json(fold(app), "2019", "A")["members"]
    assert [m["person"] for m in listed] == ["P1", "P2", "P3", "P4"]


def test_group_part_follows_the_members_group_each_month_and_people_are_listed_at_year_end(branch_a) -> None:
    app = branch_a
    app.command("transfer_person", person="P4", branch="A", group="G1", **{"from": "2019-07"}, actor="登记员")
    group_points(app, "G1", "4", month="2019-03")  # P4 was in G2 then
    group_points(app, "G2", "1", month="2019-05")
    group_points(app, "G1", "2", month="2019-08")
    points(app, "P3", "5", month="2019-02")
    app.command("transfer_person", person="P3", branch="B", group="H1", **{"from": "2019-09"}, actor="登记员")
    points(app, "P2", "1")
    app.command("record_departure", person="P2", reason="调出公司", **{"from": "2019-10"}, actor="登记员")
    rows = show(app)
    assert rows["P4"]["group"] == "G1" and rows["P4"]["group_work"] == "83.00"  # +1 (G2, May) +2 (G1, Aug)
    assert rows["P1"]["group_work"] == "86.00"
    # P3 moved to B in September: listed and ranked in B; A's entry and G1's March and August
    # entries (P3 was in G1 then) count
    assert (rows["P3"]["branch"], rows["P3"]["group"], rows["P3"]["individual"], rows["P3"]["group_work"]) == (
        "B", "H1", "85.00", "86.00")
    assert (rows["P2"]["branch"], rows["P2"]["left"], rows["P2"]["last_month"]) == ("A", "2019-10", "2019-09")
    assert set(show(app, branch="B")) == {"P3", "Q1"}
    # the appraisal is recorded by the year-end branch only
    with pytest.raises(MemberPointsRefused) as refused:
        appraisal(app, "P3", "2", branch="A")
    assert refused.value.field == "branch"
    appraisal(app, "P3", "2", branch="B")
    assert show(app)["P3"]["appraisal"] == "82.00"


def test_refusals_name_the_field_and_write_nothing(branch_a) -> None:
    app = branch_a
    enrol(app, "LATE", from_month="2019-05")
    before = len(events(app))
    cases = [
        (lambda: points(app, "E1", "1"), MemberPointsRefused, "person"),  # an employee, not a member
        (lambda: points(app, "LATE", "1", month="2019-04"), MemberPointsRefused, "person"),  # not yet a member
        (lambda: points(app, "NOBODY", "1"), PersonNotFound, "person"),
        (lambda: points(app, "Q1", "1", branch="A"), MemberPointsRefused, "branch"),  # Q1 is in B
        (lambda: points(app, "P1", "1", branch="Z"), BranchNotFound, "branch"),
        (lambda: group_points(app, "H1", "1"), MemberPointsRefused, "group"),  # H1 is B's group
        (lambda: group_points(app, "G1", "1", month="2018-12"), MemberPointsRefused, "group"),  # before enrolment
        (lambda: appraisal(app, "Q1", "1"), MemberPointsRefused, "branch"),
        (lambda: appraisal(app, "P1", "1", year="2018"), MemberPointsRefused, "person"),
        (lambda: app.command("void_member_points", branch="A", year="2019", entry_key="nope", reason="x",
                             actor="s"), EntryNotFound, "entry_id"),
    ]
    for action, error, field in cases:
        with pytest.raises(error) as refused:
            action()
        assert refused.value.field == field, (error, field, refused.value)
    assert len(events(app)) == before


def test_import_lines_are_validated_field_by_field(branch_a) -> None:
    app = branch_a
    before = len(events(app))
    line = {"op": "record_member_points", "branch": "A", "person": "P1", "month": "2019-03",
            "item": "political_study", "points": "1", "reason": "学习", "actor": "A支部书记"}
    bad = [({"item": "politics"}, "item"), ({"month": "2019-3"}, "month"), ({"points": 1.5}, "points"),
           ({"points": "1.005"}, "points"), ({"reason": " "}, "reason"), ({"colour": "red"}, "colour")]
    for change, field in bad:
        with pytest.raises(InvalidInput) as refused:
            app.command(**{**line, **change})
        assert refused.value.field == field, change
    with pytest.raises(ImportRefused) as refused:
        app.import_batch([(1, line), (2, {**line, "item": "politics"}),
                          (3, {**line, "month": "2019-13"})])
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, "item"), (3, "month")]
    with pytest.raises(ImportRefused) as refused:  # valid lines, one refused by a rule: nothing written
        app.import_batch([(1, line), (2, {**line, "person": "Q1"})])
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, "branch")]
    assert len(events(app)) == before


def test_entries_are_corrected_by_voiding_never_edited_and_keys_are_idempotent(branch_a) -> None:
    app = branch_a
    lines = [(1, {"op": "record_member_points", "key": "k/1", "branch": "A", "person": "P1", "month": "2019-03",
                  "item": "organizational_life", "points": "-5", "reason": "缺席组织生活", "actor": "A支部书记"}),
             (2, {"op": "record_member_points", "key": "k/2", "branch": "A", "person": "P1", "month": "2019-04",
                  "item": "political_study", "points": "2", "reason": "参加集中学习", "actor": "A支部书记"})]
    assert app.import_batch(lines).appended == 2
    assert app.import_batch(lines).skipped == 2  # a re-import appends nothing
    assert show(app)["P1"]["individual"] == "77.00"
    app.command("void_member_points", key="k/void", branch="A", year="2019", entry_key="k/1",
                reason="实为请假", actor="A支部书记")
    assert show(app)["P1"]["individual"] == "82.00"
    with pytest.raises(MemberPointsRefused) as refused:
        app.command("void_member_points", branch="A", year="2019", entry_key="k/1", reason="再次", actor="s")
    assert refused.value.field == "entry_id"
    with pytest.raises(InvalidInput) as refused:
        app.command("void_member_points", branch="A", year="2019", reason="x", actor="s")
    assert refused.value.field == "entry_id"
    explained = explain_member_json(fold(app), "2019", "P1")
    entries = explained["parts"][0]["entries"]
    assert [(e["points"], e["counted"], e["actor"]) for e in entries] == [
        ("-5.00", False, "A支部书记"), ("2.00", True, "A支部书记")]
    assert entries[0]["voided"]["reason"] == "实为请假" and entries[0]["item_name"] == "参加党的组织生活"


def test_a_rulebook_version_in_force_in_december_changes_the_weights(branch_a) -> None:
    app = branch_a
    points(app, "P1", "10")  # individual 90, group 80, appraisal 80
    assert show(app)["P1"]["total"] == "85.00"  # 0.5 × 90 + 0.3 × 80 + 0.2 × 80
    weights = {"points_weight_individual": "0.6", "points_weight_group": "0.2", "points_weight_appraisal": "0.2"}
    with pytest.raises(InvalidInput) as refused:
        app.adopt_rulebook(version=2, **{"from": "2019-10"}, parameters={"points_weight_individual": "0.6"},
                           actor="committee")
    assert refused.value.field == "parameters"  # weights must sum to 1
    app.adopt_rulebook(version=2, **{"from": "2020-01"}, parameters=weights, actor="committee")
    assert show(app)["P1"]["total"] == "85.00"  # v2 starts after December 2019
    assert show(app, year="2020")["P1"]["total"] == "80.00"
    app.adopt_rulebook(version=3, **{"from": "2020-01"}, parameters={"points_base": "70"}, actor="committee")
    data = members_json(fold(app), "2020")
    assert (data["rulebook"]["version"], data["members"][0]["total"]) == (3, "70.00")
    app.command("record_member_points", branch="A", person="P1", month="2020-02", item="job_duties",
                 points="5", reason="岗位标兵", actor="A支部书记")
    assert show(app, year="2020")["P1"]["total"] == "73.00"  # 0.6 × 75 + 0.2 × 70 + 0.2 × 70


def test_a_version_from_october_applies_to_the_whole_year(branch_a) -> None:
    app = branch_a
    points(app, "P1", "10", month="2019-02")
    app.adopt_rulebook(version=2, **{"from": "2019-10"}, parameters={
        "points_weight_individual": "0.6", "points_weight_group": "0.2", "points_weight_appraisal": "0.2"},
        actor="committee")
    data = members_json(fold(app), "2019")
    assert data["rulebook"]["version"] == 2 and data["rulebook"]["rulebook_month"] == "2019-12"
    assert {m["person"]: m["total"] for m in data["members"]}["P1"] == "86.00"  # 0.6 × 90 + 0.2 × 80 + 0.2 × 80


def test_as_of_replay_shows_the_points_as_they_were(branch_a, db_url) -> None:
    app = branch_a
    points(app, "P1", "4", key="asof/1")
    cut = events(app)[-1]
    points(app, "P1", "3", month="2019-05", key="asof/2")
    app.command("void_member_points", branch="A", year="2019", entry_key="asof/1", reason="录错", actor="A支部书记")
    app.command("transfer_person", person="P1", branch="B", group="H1", **{"from": "2019-11"}, actor="登记员")
    now = show(app)["P1"]
    assert (now["branch"], now["individual"]) == ("B", "83.00")
    reader = LogReader(engine_of(app))
    then = show(app, upto=reader.position_recorded_by(cut.recorded_at_us))["P1"]
    assert (then["branch"], then["individual"], then["total"], then["rank"]) == ("A", "84.00", "82.00", 1)
    # the same through the CLI's --as-of (an ISO moment)
    from adapters.cli.main import main
    moment = (EPOCH + timedelta(microseconds=cut.recorded_at_us)).isoformat().replace("+00:00", "Z")
    env = {"LEDGER_DATABASE_URL": db_url}
    out = CliRunner().invoke(main, ["members", "show", "2019", "--branch", "A", "--json", "--as-of", moment], env=env)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {m["person"]: m["individual"] for m in data["members"]}["P1"] == "84.00"
    assert data["as_of"] == moment and data["position"] == cut.position
    out = CliRunner().invoke(main, ["members", "explain", "2019", "--person", "P1", "--json"], env=env)
    assert out.exit_code == 0, out.output
    explained = json.loads(out.output)
    assert explained["branch"] == "B" and explained["formula"].endswith("→ 81.50（两位小数，四舍五入）")
    out = CliRunner().invoke(main, ["members", "show", "2019"], env=env)
    assert out.exit_code == 0 and "P1" in out.output and "个人行为" in out.output
    out = CliRunner().invoke(main, ["members", "explain", "2019", "--person", "E1"], env=env)
    assert out.exit_code == 1 and "person" in out.output


def test_only_the_branchs_secretary_records_its_points(branch_a) -> None:
    from domain.errors import PermissionDenied
    from tests.helpers import ADMIN
    app = branch_a
    app.command("create_user", as_user=ADMIN, user="sec_a", name="A支部书记", actor="admin")
    app.appoint_secretary(branch="A", name="A支部书记", user="sec_a", mode="full_time", from_month="2019-02", actor="r")
    points(app, "P1", "1", as_user="sec_a")
    appraisal(app, "P1", "2", as_user="sec_a")
    with pytest.raises(PermissionDenied):
        points(app, "Q1", "1", branch="B", as_user="sec_a")
    with pytest.raises(PermissionDenied):
        group_points(app, "H1", "1", branch="B", as_user="sec_a")
    assert parts(show(app)["P1"])[:3] == ("81.00", "80.00", "82.00")
