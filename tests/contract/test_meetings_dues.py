"""Organizational life and party dues (三会一课、党费): meetings and attendance, attendance →
member points, the schedule check, dues arithmetic and arrears, the half-yearly publication
with its signed checkpoint, Excel export and verification — on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.assessment.rulebook import RULEBOOK_V1, Rulebook
from domain.errors import (
    DuesRefused,
    InvalidInput,
    MeetingNotFound,
    MeetingRefused,
    MemberPointsRefused,
    PaymentNotFound,
    PermissionDenied,
)
from domain.members.dues import monthly_due
from domain.periods import check_half, half_months
from projections.dues import DuesModel, dues_json, publication
from projections.meetings import MeetingsModel, schedule_json
from projections.member_points import MemberPointsModel, explain_member_json, members_json
from tests.helpers import ADMIN, company


# -- helpers -------------------------------------------------------------------------------
def enrol(app, person: str, branch: str = "A", group: str | None = "G1", cls: str = "B") -> None:
    app.command("enrol_member", person=person, name=f"{person}同志", branch=branch, group=group,
                **{"class": cls, "from": "2019-01"}, actor="登记员")


@pytest.fixture
def branch_a(app):
    """Branch A: P1, P2, P3 in G1, P4 in G2; branch B: Q1 in H1."""
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    for p in ("P1", "P2", "P3"):
        enrol(app, p)
    enrol(app, "P4", group="G2")
    enrol(app, "Q1", branch="B", group="H1")
    return app


ALL_PRESENT = {"P1": "present", "P2": "present", "P3": "present", "P4": "present"}


def meeting(app, kind: str = "general_meeting", date: str = "2019-03-28", attendance: dict[str, str] | None = None,
            branch: str = "A", **extra: Any) -> Any:
    return app.command("record_meeting", branch=branch, kind=kind, date=date, topic="学习贯彻全会精神",
                       chair=f"{branch}支部书记", attendance=ALL_PRESENT if attendance is None else attendance,
                       actor=f"{branch}支部书记", **extra)


def fold(app, model, upto: int | None = None):
    reader = LogReader(engine_of(app))
    return model.apply_all(reader.read(upto=upto, topic_suffixes=model.topic_filter()))


def points_of(app) -> dict[str, dict[str, Any]]:
    return {m["person"]: m for m in members_json(fold(app, MemberPointsModel()), "2019", "A")["members"]}


# -- meetings and attendance -----------------------------------------------------------------
def test_an_unexcused_absence_deducts_points_and_the_explanation_cites_the_meeting(branch_a) -> None:
    app = branch_a
    mid = meeting(app, attendance={**ALL_PRESENT, "P2": "absent", "P3": "excused"})
    meeting(app, kind="theme_day", date="2019-04-10", attendance={**ALL_PRESENT, "P2": "absent"})
    rows = points_of(app)
    assert rows["P2"]["individual"] == "76.00"  # 80 − 2 − 2
    assert rows["P3"]["individual"] == "80.00" and rows["P1"]["individual"] == "80.00"  # excused: 0 by default
    explained = explain_member_json(fold(app, MemberPointsModel()), "2019", "P2")
    individual = explained["parts"][0]
    assert individual["entries_sum"] == "-4.00"
    first = individual["entries"][0]
    assert first["item"] == "organizational_life" and first["derived"] and first["points"] == "-2.00"
    assert first["meeting"]["meeting_id"] == str(mid) and first["meeting"]["kind"] == "general_meeting"
    assert first["meeting"]["date"] == "2019-03-28" and "支部党员大会" in first["reason"]
    assert explained["attendance"]["counts"] == {"present": 0, "excused": 0, "absent": 2}
    assert explained["rulebook"]["attendance_absent_points"] == "-2"


def test_typed_organizational_life_entries_are_refused_where_attendance_is_recorded(branch_a) -> None:
    app = branch_a

    def typed(month: str, branch: str = "A", person: str = "P1", item: str = "organizational_life", **extra: Any):
        return app.command("record_member_points", branch=branch, person=person, month=month, item=item,
                           points="1", reason="按时参加主题党日", actor="书记", **extra)

    typed("2019-02", key="typed/feb")  # before any attendance: allowed
    meeting(app)  # 2019-03 in A
    with pytest.raises(MemberPointsRefused) as e:
        typed("2019-03")
    assert e.value.field == "item"
    typed("2019-03", item="political_study")  # other items stay open
    typed("2019-04")  # other months too
    typed("2019-03", branch="B", person="Q1")  # and other branches
    # Attendance in February is refused while the typed February entry counts; void it first.
    with pytest.raises(MemberPointsRefused) as e:
        meeting(app, kind="theme_day", date="2019-02-20")
    assert e.value.field == "attendance"
    app.command("void_member_points", branch="A", year="2019", entry_key="typed/feb", reason="改由出勤计分", actor="书记")
    meeting(app, kind="theme_day", date="2019-02-20")
    with pytest.raises(MemberPointsRefused):
        typed("2019-02")


def test_attendance_must_list_the_right_members(branch_a) -> None:
    app = branch_a
    before = len(list(LogReader(engine_of(app)).read()))
    with pytest.raises(MeetingRefused) as e:  # P4 left out of a branch-wide meeting
        meeting(app, attendance={"P1": "present", "P2": "present", "P3": "absent"})
    assert e.value.field == "attendance" and "P4" in e.value.reason
    with pytest.raises(MeetingRefused) as e:  # a member of another branch
        meeting(app, attendance={**ALL_PRESENT, "Q1": "present"})
    assert e.value.field == "attendance" and "Q1" in e.value.reason
    with pytest.raises(MeetingRefused) as e:  # a group meeting names its group
        meeting(app, kind="group_meeting", attendance={"P4": "present"})
    assert e.value.field == "group"
    with pytest.raises(MeetingRefused) as e:  # and lists only that group's members
        meeting(app, kind="group_meeting", group="G2", attendance={"P4": "present", "P1": "present"})
    assert e.value.field == "attendance"
    with pytest.raises(MeetingRefused) as e:  # a group without members that month
        meeting(app, kind="group_meeting", group="G9", attendance={"P4": "present"})
    assert e.value.field == "group"
    with pytest.raises(MeetingRefused) as e:  # 两会 answers the 三问 ...
        meeting(app, kind="problem_analysis_meeting")
    assert e.value.field == "answers"
    with pytest.raises(MeetingRefused):  # ... all three
        meeting(app, kind="experience_meeting", answers={"branch": "a", "members": "b"})
    with pytest.raises(MeetingRefused):  # and no other kind does
        meeting(app, answers={"branch": "a", "members": "b", "gap": "c"})
    with pytest.raises(InvalidInput) as e:
        meeting(app, attendance={**ALL_PRESENT, "P1": "late"})
    assert e.value.field == "attendance"
    with pytest.raises(InvalidInput) as e:
        meeting(app, date="2019-02-30")
    assert e.value.field == "date"
    assert len(list(LogReader(engine_of(app)).read())) == before  # nothing written
    # what is allowed: a group meeting of G2, a committee meeting of some members, a 两会 with its answers
    meeting(app, kind="group_meeting", group="G2", attendance={"P4": "absent"})
    meeting(app, kind="committee_meeting", attendance={"P1": "present", "P2": "excused"})
    meeting(app, kind="problem_analysis_meeting", date="2019-07-05",
            answers={"branch": "班组动员不到位", "members": "党员突击队未按时到岗", "gap": "回收率差 0.3 个百分点"})
    with pytest.raises(MeetingRefused) as e:
        meeting(app, kind="committee_meeting", attendance={"P1": "present"})
    assert e.value.field == "date"  # the same meeting twice
    shown = {m["kind"]: m for m in fold(app, MeetingsModel()).meetings.values()}
    assert [a["answer"] for a in _answers(shown["problem_analysis_meeting"])] == [
        "班组动员不到位", "党员突击队未按时到岗", "回收率差 0.3 个百分点"]
    assert points_of(app)["P4"]["individual"] == "78.00"


def _answers(m: dict[str, Any]) -> list[dict[str, Any]]:
    from projections.meetings import meeting_json
    return meeting_json(m)["answers"]


def test_corrections_and_voids_change_the_derived_points(branch_a) -> None:
    app = branch_a
    meeting(app, attendance={**ALL_PRESENT, "P2": "absent", "P3": "absent"})
    meeting(app, kind="theme_day", date="2019-03-12", attendance={**ALL_PRESENT, "P3": "absent"})
    assert (points_of(app)["P2"]["individual"], points_of(app)["P3"]["individual"]) == ("78.00", "76.00")
    app.command("correct_attendance", branch="A", kind="general_meeting", date="2019-03-28", person="P2",
                status="excused", reason="补交请假条", actor="A支部书记")
    app.command("void_meeting", branch="A", kind="theme_day", date="2019-03-12", reason="日期录错", actor="A支部书记")
    rows = points_of(app)
    assert (rows["P2"]["individual"], rows["P3"]["individual"]) == ("80.00", "78.00")
    with pytest.raises(MeetingRefused) as e:
        app.command("correct_attendance", branch="A", kind="general_meeting", date="2019-03-28", person="P2",
                    status="excused", reason="重复", actor="A支部书记")
    assert e.value.field == "status"
    with pytest.raises(MeetingRefused) as e:
        app.command("correct_attendance", branch="A", kind="general_meeting", date="2019-03-28", person="Q1",
                    status="present", reason="外支部", actor="A支部书记")
    assert e.value.field == "person"
    with pytest.raises(MeetingNotFound):
        app.command("void_meeting", branch="A", kind="party_lesson", date="2019-03-12", reason="-", actor="A")
    with pytest.raises(MeetingRefused):
        app.command("void_meeting", branch="A", kind="theme_day", date="2019-03-12", reason="again", actor="A")
    # a rulebook version with a heavier deduction, in force in December, computes the year
    app.command("adopt_rulebook", version=2, parameters={"attendance_absent_points": "-3"},
                actor="党委会", **{"from": "2019-10"})
    assert points_of(app)["P3"]["individual"] == "77.00"


def test_a_schedule_gap_is_flagged(branch_a) -> None:
    app = branch_a
    for month in ("01", "02", "04", "05", "06"):  # no theme day in March
        meeting(app, kind="theme_day", date=f"2019-{month}-15")
    meeting(app, date="2019-02-20")  # the general meeting of Q1; none in Q2
    for month in ("01", "02", "03"):
        meeting(app, kind="group_meeting", group="G1", date=f"2019-{month}-05",
                attendance={"P1": "present", "P2": "present", "P3": "present"})
    data = schedule_json(fold(app, MeetingsModel()), "2019", "A", "2019-06")
    gaps = {(g["period"], g["kind"], g["group"]) for g in data["branches"][0]["gaps"]}
    assert ("2019-03", "theme_day", None) in gaps and ("2019-02", "theme_day", None) not in gaps
    assert ("2019Q2", "general_meeting", None) in gaps and ("2019Q1", "general_meeting", None) not in gaps
    assert ("2019-01", "group_meeting", "G2") in gaps and ("2019-01", "group_meeting", "G1") not in gaps
    assert ("2019-04", "group_meeting", "G1") in gaps
    assert not any(g[0] == "2019" for g in gaps)  # the yearly org-life meeting is not due before December
    assert data["behind"] == ["A"]
    # a voided meeting does not count
    app.command("void_meeting", branch="A", kind="theme_day", date="2019-02-15", reason="录错", actor="A")
    gaps = {(g["period"], g["kind"]) for g in schedule_json(fold(app, MeetingsModel()), "2019", "A", "2019-06")
            ["branches"][0]["gaps"]}
    assert ("2019-02", "theme_day") in gaps


def test_secretary_records_own_branch_only(branch_a) -> None:
    app = branch_a
    app.command("create_user", as_user=ADMIN, user="sec_a", name="A支部书记", actor="admin")
    app.appoint_secretary(branch="A", name="A支部书记", user="sec_a", mode="full_time", from_month="2019-02", actor="r")
    meeting(app, as_user="sec_a")
    with pytest.raises(PermissionDenied):
        meeting(app, branch="B", attendance={"Q1": "present"}, as_user="sec_a")
    with pytest.raises(PermissionDenied):
        app.command("set_dues_base", branch="B", person="Q1", category="salaried", base="4000",
                    actor="x", **{"from": "2019-01"}, as_user="sec_a")


# -- dues ------------------------------------------------------------------------------------
def test_rate_table_of_2008_bounds_inclusive_half_up() -> None:
    rb = RULEBOOK_V1
    cases = [("salaried", "3000", "15.00"), ("salaried", "3000.01", "30.00"), ("salaried", "5000", "50.00"),
             ("salaried", "5000.01", "75.00"), ("salaried", "10000", "150.00"), ("salaried", "10000.01", "200.00"),
             ("salaried", "4322.50", "43.23"),  # 43.225 half-up (half-even would give 43.22)
             ("retired", "5000", "25.00"), ("retired", "5000.01", "50.00"), ("retired", "2345", "11.73"),
             ("no_income", "0", "0.20")]
    for category, base, due in cases:
        assert str(monthly_due(category, Decimal(base), rb)[0]) == due, (category, base)
    assert check_half("2019H2") == "2019H2" and half_months("2019H2")[0] == "2019-07"
    with pytest.raises(InvalidInput):
        check_half("2019H3")
    with pytest.raises(ValueError):
        Rulebook.from_parameters(9, {"dues_rates": {"salaried": [["3000", "0.005"]], "retired": [[None, "0.01"]]}})
    with pytest.raises(ValueError):
        Rulebook.from_parameters(9, {"meeting_frequency": {"theme_day": 5}})


def base(app, person: str, amount: str, from_month: str = "2019-01", category: str = "salaried",
         branch: str = "A", **extra: Any) -> Any:
    return app.command("set_dues_base", branch=branch, person=person, category=category, base=amount,
                       actor="A支部书记", **{"from": from_month}, **extra)


def pay(app, person: str, month: str, amount: str, branch: str = "A", **extra: Any) -> Any:
    return app.command("record_dues_payment", branch=branch, person=person, month=month, amount=amount,
                       channel="payroll", paid_on=f"{month}-25", actor="A支部书记", **extra)


@pytest.fixture
def dues_a(branch_a):
    """P1 salaried 4,000 (40.00 a month), misses March, pays 50 in May; P2, P3 pay every
    month; P4 retired 3,000 (15.00) pays every month."""
    app = branch_a
    base(app, "P1", "4000")
    base(app, "P2", "6000")
    base(app, "P3", "2000")
    base(app, "P4", "3000", category="retired")
    for month in half_months("2019H1"):
        if month != "2019-03":
            pay(app, "P1", month, "50" if month == "2019-05" else "40")
        pay(app, "P2", month, "90")
        pay(app, "P3", month, "10")
        pay(app, "P4", month, "15")
    return app


def test_arrears_after_a_missed_month_and_over_payment(dues_a) -> None:
    app = dues_a
    data = dues_json(fold(app, DuesModel()), "2019H1", "A")
    rows = {m["person"]: m for m in data["members"]}
    assert (rows["P1"]["due"], rows["P1"]["paid"], rows["P1"]["arrears"], rows["P1"]["overpaid"]) == \
        ("240.00", "210.00", "40.00", "10.00")
    march = next(line for line in rows["P1"]["lines"] if line["month"] == "2019-03")
    assert (march["due"], march["paid"], march["arrears"], march["rate"]) == ("40.00", "0.00", "40.00", "0.01")
    assert rows["P4"]["due"] == "90.00" and rows["P4"]["arrears"] == "0.00"
    assert data["totals"]["arrears"] == "40.00"
    # a later base applies from its month on; a voided payment no longer counts
    base(app, "P1", "12000", from_month="2019-06")
    pid = pay(app, "P1", "2019-03", "40", key="late/p1")
    app.command("void_dues_payment", branch="A", person="P1", payment_key="late/p1", reason="重复登记", actor="A")
    p1 = {m["person"]: m for m in dues_json(fold(app, DuesModel()), "2019H1", "A")["members"]}["P1"]
    assert (p1["due"], p1["arrears"]) == ("440.00", "240.00")  # June: 12,000 × 2% = 240, 40 paid
    assert p1["payments"][-1]["payment_id"] == str(pid) and p1["payments"][-1]["voided"]["reason"] == "重复登记"


def test_dues_guards(dues_a) -> None:
    app = dues_a
    with pytest.raises(DuesRefused) as e:  # not a member of that branch
        pay(app, "Q1", "2019-03", "10")
    assert e.value.field == "branch"
    with pytest.raises(DuesRefused) as e:
        pay(app, "P1", "2019-03", "0")
    assert e.value.field == "amount"
    with pytest.raises(InvalidInput) as e:
        pay(app, "P1", "2019-03", "1.005")
    assert e.value.field == "amount"
    with pytest.raises(InvalidInput) as e:
        app.command("record_dues_payment", branch="A", person="P1", month="2019-03", amount="40", channel="gold",
                    paid_on="2019-03-25", actor="A")
    assert e.value.field == "channel"
    with pytest.raises(DuesRefused) as e:
        base(app, "P1", "5", category="no_income", from_month="2019-07")
    assert e.value.field == "base"
    with pytest.raises(DuesRefused) as e:
        base(app, "P1", "0", from_month="2019-07")
    assert e.value.field == "base"
    base(app, "P1", "5000", from_month="2019-03")
    with pytest.raises(DuesRefused) as e:
        base(app, "P1", "5000", from_month="2019-02")
    assert e.value.field == "from"
    with pytest.raises(PaymentNotFound):
        app.command("void_dues_payment", branch="A", person="P1", payment_key="nope", reason="-", actor="A")
    with pytest.raises(InvalidInput):
        app.command("void_dues_payment", branch="A", person="P1", reason="-", actor="A")


def test_publication_needs_every_base_and_is_not_repeated_unchanged(branch_a) -> None:
    app = branch_a
    base(app, "P1", "4000")
    with pytest.raises(DuesRefused) as e:
        app.command("publish_dues", branch="A", half="2019H1", actor="A支部书记")
    assert e.value.field == "half" and "P2" in e.value.reason
    with pytest.raises(InvalidInput) as e:
        app.command("publish_dues", branch="A", half="2019H3", actor="A")
    assert e.value.field == "half"


def test_a_publication_verifies_against_its_checkpoint(dues_a, tmp_path: Path, db_url: str) -> None:
    from adapters.exports.dues_sheet import LedgerChecks, bundle_of, read_xlsx, verify_publication, write_xlsx
    from adapters.store.proofs import TreeReader
    from adapters.store.tree import load_or_create_signer
    app = dues_a
    assert app.command("publish_dues", branch="A", half="2019H1", actor="A支部书记") == 1
    with pytest.raises(DuesRefused):  # the same statement again
        app.command("publish_dues", branch="A", half="2019H1", actor="A支部书记")
    model = fold(app, DuesModel())
    p = publication(model, "A", "2019H1")
    rows = {r["person"]: r for r in p["statement"]["rows"]}
    assert (rows["P1"]["due"], rows["P1"]["paid"], rows["P1"]["arrears"]) == ("240.00", "210.00", "40.00")
    # the checkpoint was recorded with the publication and covers it
    reader = TreeReader(engine_of(app))
    checkpoint = reader.checkpoints()[-1]
    assert checkpoint.reason.startswith("公示党费 A 2019H1")  # the reason names the command in Chinese
    assert reader.event_at(p["position"])["leaf_index"] < checkpoint.size
    bundle = bundle_of(engine_of(app), p)
    assert bundle["proof"]["checkpoint"] == checkpoint.note
    vkey = load_or_create_signer().verifier_key

    def fold_upto(position: int | None) -> DuesModel:
        return fold(app, DuesModel(), position)

    checks = verify_publication(bundle, [vkey], LedgerChecks(engine_of(app), fold_upto))
    assert all(c["ok"] for c in checks), checks
    assert [c["check"] for c in checks] == ["statement_hash", "event", "inclusion", "ledger_event",
                                            "ledger_checkpoint", "recomputed"]
    # the Excel sheet carries the same, offline
    path = tmp_path / "公示.xlsx"
    write_xlsx(bundle, path)
    assert read_xlsx(path) == bundle | {"proof": {**bundle["proof"], "format": "dangjian-ledger-proof/1"}}
    assert all(c["ok"] for c in verify_publication(read_xlsx(path), [vkey]))
    # a figure changed on the posted sheet is caught
    from openpyxl import load_workbook
    wb = load_workbook(path)
    ws = wb["党费收缴公示"]
    row = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "P1")
    row[6].value = Decimal("0.00")  # arrears erased
    wb.save(path)
    failed = [c["check"] for c in verify_publication(read_xlsx(path), [vkey]) if c["ok"] is False]
    assert failed == ["statement_hash", "event"]
    # a wrong key fails the signature check
    other = load_or_create_signer(tmp_path / "other.key", "other").verifier_key
    assert [c["check"] for c in verify_publication(bundle, [other]) if c["ok"] is False] == ["inclusion"]
    # a payment recorded later: the publication still verifies; the change is reported; republishing is allowed
    pay(app, "P1", "2019-03", "40")
    checks = verify_publication(bundle, [vkey], LedgerChecks(engine_of(app), fold_upto))
    assert all(c["ok"] is not False for c in checks) and checks[-1]["check"] == "later"
    assert app.command("publish_dues", branch="A", half="2019H1", actor="A支部书记") == 2
    # through the CLI: publish B (no bases → refused), print A's statement, export and verify the sheet
    from adapters.cli.main import main
    env = {"LEDGER_DATABASE_URL": db_url}
    out = CliRunner().invoke(main, ["dues", "statement", "2019H1", "--branch", "A", "--number", "1",
                                    "--xlsx", str(tmp_path / "a.xlsx")], env=env)
    assert out.exit_code == 0, out.output
    assert "党费收缴情况公示" in out.output and checkpoint.note.splitlines()[2] in out.output
    out = CliRunner().invoke(main, ["dues", "verify", str(tmp_path / "a.xlsx"), "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["ok"] is True
    out = CliRunner().invoke(main, ["dues", "verify", str(path)], env=env)
    assert out.exit_code == 1 and "核验不通过" in out.output
    out = CliRunner().invoke(main, ["dues", "publish", "2019H1", "--branch", "B", "--actor", "B书记"], env=env)
    assert out.exit_code == 1 and "尚未核定" in out.output
    base(app, "Q1", "3000", branch="B")
    out = CliRunner().invoke(main, ["dues", "publish", "2019H1", "--branch", "B", "--actor", "B书记",
                                    "--out", str(tmp_path / "b.json"), "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["statement"]["totals"]["arrears"] == "90.00"
    out = CliRunner().invoke(main, ["dues", "verify", str(tmp_path / "b.json")], env=env)
    assert out.exit_code == 0 and "核验通过" in out.output, out.output
    out = CliRunner().invoke(main, ["dues", "show", "2019", "--branch", "A", "--person", "P1", "--json"], env=env)
    year = json.loads(out.output)["members"][0]  # March paid late; July–December unpaid at 40.00
    assert out.exit_code == 0 and (year["due"], year["arrears"]) == ("480.00", "240.00")


def test_party_mass_or_the_secretary_publishes(dues_a) -> None:
    app = dues_a
    for user, role in (("clerk", "scorer:party_mass"), ("auditor1", "auditor")):
        app.command("create_user", as_user=ADMIN, user=user, name=user, actor="admin")
        app.command("grant_role", as_user=ADMIN, user=user, role=role, actor="admin")
    with pytest.raises(PermissionDenied):
        app.command("publish_dues", branch="A", half="2019H1", actor="审计", as_user="auditor1")
    assert app.command("publish_dues", branch="A", half="2019H1", actor="党群工作部", as_user="clerk") == 1


def test_meetings_and_dues_cli_show(dues_a, db_url: str) -> None:
    app = dues_a
    meeting(app, attendance={**ALL_PRESENT, "P2": "absent"})
    from adapters.cli.main import main
    env = {"LEDGER_DATABASE_URL": db_url}
    out = CliRunner().invoke(main, ["meetings", "show", "2019", "--branch", "A", "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["meetings"][0]["counts"] == {"present": 3, "excused": 0, "absent": 1}
    out = CliRunner().invoke(main, ["meetings", "schedule", "2019", "--through", "2019-03"], env=env)
    assert out.exit_code == 0 and "落后的支部 A, B" in out.output, out.output
    out = CliRunner().invoke(main, ["members", "explain", "2019", "--person", "P2"], env=env)
    assert out.exit_code == 0 and "由会议出勤生成" in out.output and "缺席 1" in out.output, out.output
    out = CliRunner().invoke(main, ["dues", "show", "2019H1", "--branch", "A"], env=env)
    assert out.exit_code == 0 and "欠交 40.00" in out.output, out.output
