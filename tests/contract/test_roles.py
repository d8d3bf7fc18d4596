"""Who may do what: roles on every command, one permission check, the security log,
separation of duties, migrations marked as such."""
from __future__ import annotations

from typing import Any

import pytest

from domain.access.users import FIXED_ROLES, SCORER_DEPARTMENTS, Access
from domain.commands import COMMANDS
from domain.errors import PermissionDenied, SeparationOfDuties, UserRefused
from domain.service.permissions import authorize, readable_branches
from tests.helpers import approve, company, deduct, events

ROLES = [*FIXED_ROLES, *(f"scorer:{d}" for d in SCORER_DEPARTMENTS), "secretary:A", "secretary:B"]

# The specification (README, "Roles"): op → the roles that may send it. "secretary" = of the
# command's branch (here A), "scorer" = of the command's department (here party_mass).
# Written out by hand: the matrix below checks the code against it, op by op, role by role.
EXPECTED: dict[str, set[str]] = {
    "register_branch": {"registrar"}, "set_members": {"registrar"}, "appoint_secretary": {"registrar"},
    "record_score": {"scorer:party_mass"}, "submit_month": {"aggregator"}, "approve_month": {"approver"},
    "return_month": {"approver", "aggregator"}, "approve_quarter": {"approver"},
    "reapprove_quarter": {"approver"}, "reapprove_year": {"committee"}, "record_unit_performance": {"performance"},
    "record_debriefing": {"committee"}, "record_business_score": {"performance"},
    "approve_year": {"committee"}, "adopt_rulebook": {"committee"}, "file_appeal": {"secretary:A"},
    "decide_appeal": {"committee"}, "void_entry": {f"scorer:{d}" for d in SCORER_DEPARTMENTS},
    "correct_entry": {"committee"},
    "create_user": {"admin"}, "grant_role": {"admin"}, "revoke_role": {"admin"}, "issue_token": {"admin"},
    "revoke_token": {"admin"}, "rotate_signing_key": {"admin"}, "erase_person_key": {"committee"},
    "enrol_member": {"registrar"}, "register_employee": {"registrar"}, "change_member_class": {"registrar"},
    "transfer_person": {"registrar"}, "record_departure": {"registrar"},
}


def _directory(roles: list[str]) -> Access:
    access = Access()
    for role in roles:
        access.create_user(role, role, "t", None)
        if not role.startswith("secretary:"):
            access.grant(role, role, 0, "t", None)
    return access


class _Org:
    """Just what ``roles_of`` asks of the organization: branches and their secretaries."""

    branches = {"A": {}, "B": {}}

    def secretary_in(self, code: str, month: str) -> Any:
        class S:
            user = f"secretary:{code}"
        return S()


def _command(op: str) -> Any:
    model = COMMANDS[op]
    fields = {"branch": "A", "department": "party_mass", "occurred_at": None}
    return model.model_construct(**{k: v for k, v in fields.items() if k in model.model_fields})


@pytest.mark.parametrize("op", sorted(COMMANDS))
def test_role_matrix_every_op_every_role(op: str) -> None:
    """Every registered op, tried as every role: allowed exactly where the table says."""
    assert op in EXPECTED or COMMANDS[op].roles, f"{op} belongs to no role"
    access, org = _directory(ROLES), _Org()
    allowed = set()
    for role in ROLES:
        try:
            authorize(access, org, role, _command(op), 1)  # type: ignore[arg-type]
            allowed.add(role)
        except PermissionDenied:
            pass
    admin_only = EXPECTED.get(op) == {"admin"}
    assert ("migrator" in allowed) != admin_only, "a migrator may send every op but the directory's"
    if op in EXPECTED:
        assert allowed - {"migrator"} == EXPECTED[op]
    else:  # the member-level ops: whatever they declare, and never admin, auditor or another branch
        assert not allowed & {"admin", "auditor", "secretary:B"}, allowed


def test_admin_manages_users_but_not_the_ledger(app) -> None:
    company(app, ("A", "full_time", None))
    app.command("create_user", as_user="admin", user="u1", name="张三", actor="admin")
    with pytest.raises(UserRefused):  # an admin does not grant roles to themselves
        app.command("grant_role", as_user="admin", user="admin", role="approver", actor="admin")
    before = len(events(app))
    for op, fields in [("record_score", dict(branch="A", period="2019-07", category="political", points="-1",
                                             reason="x", department="party_mass", actor="a")),
                       ("submit_month", dict(period="2019-07", actor="a"))]:
        with pytest.raises(PermissionDenied):
            app.command(op, as_user="admin", **fields)
    with pytest.raises(PermissionDenied):
        app.command("submit_month", as_user="nobody", period="2019-07", actor="a")
    assert len(events(app)) == before
    logged = app.security_log.rows()
    assert [(r["user_id"], r["op"]) for r in logged][:3] == [("(unknown)", "submit_month"), ("admin", "submit_month"),
                                                              ("admin", "record_score")]
    assert "nobody" in logged[0]["reason"]  # the claimed name, in the reason: made-up names share one bucket


def _users(app, **roles: str) -> None:
    for user, role in roles.items():
        app.command("create_user", as_user="admin", user=user, name=user, actor="admin")
        if role:
            app.command("grant_role", as_user="admin", user=user, role=role, actor="admin")


def test_secretary_appeals_for_own_branch_only_and_sod(app) -> None:
    """The README story, in-process: secretary appeals, committee decides; refusals logged."""
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    _users(app, sec_a="", sec_b="", scorer="scorer:party_mass", agg="aggregator", appr="approver",
           boss="committee", both="scorer:party_mass")
    app.command("grant_role", as_user="admin", user="both", role="committee", actor="admin")
    app.appoint_secretary(branch="A", name="甲书记", user="sec_a", mode="full_time", from_month="2019-01", actor="r")
    app.appoint_secretary(branch="B", name="乙书记", user="sec_b", mode="full_time", from_month="2019-01", actor="r")
    entry_a = app.record_score(as_user="scorer", branch="A", period="2019-07", category="political", points="-2",
                               reason="学习缺课", department="party_mass", actor="党群部张三")
    entry_b = app.record_score(as_user="both", branch="B", period="2019-07", category="political", points="-1",
                               reason="缺课", department="party_mass", actor="党群部李四")
    app.submit_month(as_user="agg", period="2019-07", actor="汇总员")
    app.command("grant_role", as_user="admin", user="agg", role="approver", actor="admin")
    with pytest.raises(SeparationOfDuties):  # the submitter cannot approve, even holding the role
        app.approve_month(as_user="agg", period="2019-07", actor="汇总员")
    app.approve_month(as_user="appr", period="2019-07", actor="党委书记")
    before = len(events(app))
    with pytest.raises(PermissionDenied):  # not her branch
        app.file_appeal(as_user="sec_a", entry_id=str(entry_b), branch="B", reason="x", actor="甲书记")
    with pytest.raises(PermissionDenied):  # claiming to be B does not help: B's secretary is sec_b
        app.file_appeal(as_user="sec_a", entry_id=str(entry_a), branch="B", reason="x", actor="甲书记")
    assert len(events(app)) == before
    appeal = app.file_appeal(as_user="sec_a", entry_id=str(entry_a), branch="A", reason="已补课", actor="甲书记")
    appeal_b = app.file_appeal(as_user="sec_b", entry_id=str(entry_b), branch="B", reason="有假条", actor="乙书记")
    with pytest.raises(SeparationOfDuties):  # "both" recorded B's entry: cannot decide its appeal
        app.decide_appeal(as_user="both", appeal_id=str(appeal_b), decision="rejected", reason="x", actor="党委")
    app.decide_appeal(as_user="boss", appeal_id=str(appeal), decision="upheld", points="0", reason="属实", actor="党委")
    by = [(e.name.rpartition(".")[2], e.raw.get("by")) for e in events(app) if e.position > before]
    assert by == [("Opened", "sec_a"), ("Filed", "sec_a"), ("Opened", "sec_b"), ("Filed", "sec_b"),
                  ("Decided", "boss"), ("EntryCorrected", "boss")]
    assert all(e.raw.get("by") for e in events(app)), "every event carries the acting user"
    refused = [(r["user_id"], r["op"]) for r in app.security_log.rows()]
    assert ("sec_a", "file_appeal") in refused


def test_void_needs_a_scorer_of_the_entry_department(app) -> None:
    company(app, ("A", "full_time", None))
    _users(app, pm="scorer:party_mass", di="scorer:discipline_inspection")
    entry = app.record_score(as_user="pm", branch="A", period="2019-07", category="political", points="-2",
                             reason="x", department="party_mass", actor="pm")
    with pytest.raises(PermissionDenied):
        app.void_entry(as_user="di", entry_id=str(entry), reason="录错", actor="di")
    app.void_entry(as_user="pm", entry_id=str(entry), reason="录错", actor="pm")


def test_grants_take_effect_and_end_at_their_times(app) -> None:
    company(app, ("A", "full_time", None))
    _users(app, later="", gone="aggregator")
    app.command("grant_role", as_user="admin", user="later", role="aggregator", effective="2999-01-01T00:00:00Z",
                actor="admin")
    with pytest.raises(PermissionDenied):
        app.submit_month(as_user="later", period="2019-07", actor="x")
    app.command("revoke_role", as_user="admin", user="gone", role="aggregator", actor="admin")
    with pytest.raises(PermissionDenied):
        app.submit_month(as_user="gone", period="2019-07", actor="x")


def test_secretary_role_follows_the_appointment(app) -> None:
    company(app, ("A", "full_time", None))
    _users(app, old="", new="")
    entry = deduct(app, "A", "2019-07", "-1")
    approve(app, "2019-07")
    app.appoint_secretary(branch="A", name="旧书记", user="old", mode="full_time", from_month="2019-01", actor="r")
    app.appoint_secretary(branch="A", name="新书记", user="new", mode="full_time", from_month="2020-01", actor="r")
    with pytest.raises(PermissionDenied):  # replaced: no longer A's secretary
        app.file_appeal(as_user="old", entry_id=str(entry), branch="A", reason="x", actor="旧书记")
    assert app.roles_now("new") == {"secretary:A"}
    assert readable_branches(app.roles_now("new")) == {"A"}


def test_migrations_are_marked_and_keep_the_document_date(app) -> None:
    company(app, ("A", "full_time", None))
    _users(app, pm="scorer:party_mass")
    deduct(app, "A", "2019-07", "-1")  # the fixture acts as the migration user
    app.record_score(branch="A", period="2019-07", category="political", points="-1", reason="x",
                     department="party_mass", actor="张三", occurred_at="2019-07-03")
    with pytest.raises(PermissionDenied) as refused:
        app.record_score(as_user="pm", branch="A", period="2019-07", category="political", points="-1",
                         reason="x", department="party_mass", actor="张三", occurred_at="2019-07-03")
    assert refused.value.field == "occurred_at"
    app.record_score(as_user="pm", branch="A", period="2019-07", category="political", points="-1", reason="x",
                     department="party_mass", actor="张三")
    scores = [e.raw for e in events(app) if e.name.endswith("ScoreRecorded")]
    assert [(s["by"], s.get("migrated", False), s.get("occurred_at")) for s in scores] == [
        ("migration", True, None), ("migration", True, "2019-07-03"), ("pm", False, None)]


def test_a_batch_is_checked_line_by_line_against_the_importing_user(app) -> None:
    from domain.service.application import ImportRefused
    company(app, ("A", "full_time", None))
    _users(app, pm="scorer:party_mass")
    line = dict(op="record_score", branch="A", period="2019-07", category="political", points="-1", reason="x",
                department="party_mass", actor="张三")
    before = len(events(app))
    with pytest.raises(ImportRefused) as refused:
        app.import_batch([(1, line), (2, {**line, "category": "conduct", "department": "discipline_inspection"})],
                         user="pm")
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, None)]
    assert len(events(app)) == before
    assert app.import_batch([(1, line)], user="pm").appended == 1


def test_the_security_log_is_rate_limited_per_user(app) -> None:
    from adapters.security import LIMIT
    for _ in range(LIMIT + 5):
        with pytest.raises(PermissionDenied):
            app.submit_month(as_user="admin", period="2019-07", actor="x")
    rows = app.security_log.rows("admin")
    assert len(rows) == LIMIT and "上限" in rows[0]["reason"]
    app.command("create_user", as_user="admin", user="stranger", name="陌生人", actor="admin")
    with pytest.raises(PermissionDenied):  # another user is not silenced by admin's flood
        app.submit_month(as_user="stranger", period="2019-07", actor="x")
    assert len(app.security_log.rows("stranger")) == 1


def test_more_separation_of_duties(app) -> None:
    """Correcting one's own entry, deciding one's own appeal, appointing oneself: refused."""
    company(app, ("A", "full_time", None))
    _users(app, clerk="registrar", boss="committee", pm="scorer:party_mass")
    app.command("grant_role", as_user="admin", user="pm", role="committee", actor="admin")
    with pytest.raises(SeparationOfDuties):
        app.appoint_secretary(as_user="clerk", branch="A", name="我", user="clerk", mode="full_time",
                              from_month="2019-01", actor="clerk")
    with pytest.raises(SeparationOfDuties):
        app.appoint_secretary(as_user="clerk", branch="A", name="管理员", user="admin", mode="full_time",
                              from_month="2019-01", actor="clerk")
    with pytest.raises(UserRefused):
        app.appoint_secretary(as_user="clerk", branch="A", name="未来", user="ghost", mode="full_time",
                              from_month="2019-01", actor="clerk")
    app.appoint_secretary(as_user="clerk", branch="A", name="党委委员兼书记", user="boss", mode="full_time",
                          from_month="2019-01", actor="clerk")
    entry = app.record_score(as_user="pm", branch="A", period="2019-07", category="political", points="-2",
                             reason="x", department="party_mass", actor="pm")
    approve(app, "2019-07")
    with pytest.raises(SeparationOfDuties):  # pm recorded it; as committee member pm may not correct it
        app.correct_entry(as_user="pm", entry_id=str(entry), points="-1", reason="x", actor="pm")
    appeal = app.file_appeal(as_user="boss", entry_id=str(entry), branch="A", reason="x", actor="书记")
    with pytest.raises(SeparationOfDuties):  # boss filed it as A's secretary: not boss to decide
        app.decide_appeal(as_user="boss", appeal_id=str(appeal), decision="rejected", reason="x", actor="党委")
    with pytest.raises(PermissionDenied):  # a migrator cannot touch the directory
        app.command("grant_role", user="migration", role="admin", actor="m")
    assert [r["op"] for r in app.security_log.rows()][:2] == ["grant_role", "decide_appeal"]
