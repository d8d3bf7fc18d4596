"""Which commands (ops) make each kind of stored event: the other direction of the handler
registry, for checking a stored event's acting user after the fact (``ledger verify``).

A stored event names its acting user (``by``, stamped by the unit of work) but not the
command that made it; an event of kind K was allowed if its user held, at its time, a role
allowing one of the ops listed for K here (their ``Command.roles``, scoped as
domain/service/permissions.py scopes them: ``secretary`` → ``secretary:<branch>``, ``scorer`` →
``scorer:<department>``, a ``migrator`` for every op but the directory's). An aggregate's
opening event (``Opened``/``Created``) is allowed to whoever may make any of its other events.
``INIT`` is ``ledger init``, which needs no role (there is nobody to hold one yet).

``tests/unit/test_event_ops.py`` fails for an event class of the domain missing here or an
op that does not exist.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

INIT = "init"

EVENT_OPS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    # users and roles: the first admin by init, the rest by an admin
    "Access.UserCreated": (INIT, "create_user"), "Access.RoleGranted": (INIT, "grant_role"),
    "Access.RoleRevoked": ("revoke_role",), "Access.TokenIssued": ("issue_token",),
    "Access.TokenRevoked": ("revoke_token",),
    "SigningKeys.Declared": (INIT,), "SigningKeys.Rotated": ("rotate_signing_key",),
    # organization
    "Organization.Created": (INIT,), "Organization.RulebookAdopted": (INIT, "adopt_rulebook"),
    "Organization.BranchRegistered": ("register_branch",), "Organization.MembersSet": ("set_members",),
    "Organization.SecretaryAppointed": ("appoint_secretary",), "Organization.MonthSealed": ("approve_month",),
    # months, quarters, years
    "AssessmentMonth.ScoreRecorded": ("record_score",), "AssessmentMonth.EntryVoided": ("void_entry",),
    "AssessmentMonth.EntryCorrected": ("correct_entry", "decide_appeal"),
    "AssessmentMonth.BusinessScoreRecorded": ("record_business_score",),
    "AssessmentMonth.Submitted": ("submit_month",), "AssessmentMonth.Returned": ("return_month",),
    "AssessmentMonth.Approved": ("approve_month",),
    "AssessmentQuarter.Approved": ("approve_quarter",), "AssessmentQuarter.AwardGranted": ("approve_quarter",),
    "AssessmentQuarter.FineImposed": ("approve_quarter",), "AssessmentQuarter.Reapproved": ("reapprove_quarter",),
    "AssessmentQuarter.AmountAdjusted": ("reapprove_quarter",),
    "AssessmentYear.UnitPerformanceRecorded": ("record_unit_performance",),
    "AssessmentYear.DebriefingRecorded": ("record_debriefing",),
    "AssessmentYear.Approved": ("approve_year",), "AssessmentYear.AwardGranted": ("approve_year",),
    "AssessmentYear.FineImposed": ("approve_year",), "AssessmentYear.QuotaSet": ("approve_year",),
    "AssessmentYear.Reapproved": ("reapprove_year",), "AssessmentYear.AmountAdjusted": ("reapprove_year",),
    # appeals
    "EntryAppeals.Filed": ("file_appeal",), "EntryAppeals.Decided": ("decide_appeal",),
    # people and rosters
    "Person.Registered": ("enrol_member", "register_employee"), "Person.Admitted": ("enrol_member",),
    "Person.ClassChanged": ("change_member_class",), "Person.Left": ("record_departure",),
    "Person.Transferred": ("transfer_person",),
    "BranchRoster.MemberJoined": ("enrol_member", "transfer_person"),
    "BranchRoster.MemberLeft": ("transfer_person", "record_departure"),
    # member points
    "MemberPoints.MemberPointsRecorded": ("record_member_points",),
    "MemberPoints.GroupPointsRecorded": ("record_group_points",),
    "MemberPoints.AppraisalRecorded": ("record_appraisal",), "MemberPoints.EntryVoided": ("void_member_points",),
    "MemberPoints.OrganizationalLifeDerived": ("record_meeting", "correct_attendance", "void_meeting"),
    # 1+N links, mentoring
    "BranchLinks.EmployeeLinked": ("link_employee",), "BranchLinks.EmployeeUnlinked": ("unlink_employee",),
    "BranchLinks.QuotaSet": ("set_link_quota",),
    "BranchMentoring.PairRegistered": ("register_mentorship",),
    "BranchMentoring.SkillResultRecorded": ("record_skill_result",),
    "BranchMentoring.AppraisalRecorded": ("record_apprentice_appraisal",),
    # projects, proposals, innovation
    "Project.Registered": ("register_project",), "Project.ProgressRecorded": ("record_project_progress",),
    "Project.Completed": ("complete_project",), "ProjectYear.ProjectAdded": ("register_project",),
    "Proposal.Submitted": ("submit_proposal",), "InnovationAccount.PointsAwarded": ("award_innovation_points",),
    # selection
    "Selection.RepresentativeSheetRecorded": ("record_representative_sheet",),
    "Selection.LeaderSheetRecorded": ("record_leader_sheet",), "Selection.Closed": ("close_selection",),
    # talks and visits, personal keys
    "Occasion.Raised": ("raise_occasion", "record_personnel_event"), "Occasion.Answered": ("answer_occasion",),
    "PersonnelDecision.Recorded": ("record_personnel_event",),
    "PersonKey.Erased": ("erase_person_key",),
    # meetings and dues
    "Meeting.Recorded": ("record_meeting",), "Meeting.AttendanceCorrected": ("correct_attendance",),
    "Meeting.Voided": ("void_meeting",),
    "DuesAccount.BaseSet": ("set_dues_base",), "DuesAccount.PaymentRecorded": ("record_dues_payment",),
    "DuesAccount.PaymentVoided": ("void_dues_payment",), "DuesStatement.Published": ("publish_dues",),
})

# Opening events made along with another event of their aggregate (the first one of a month,
# a person's key when a summary is first sealed): allowed to whoever may make any event of it.
OPENED_BY_ANY = ("Opened", "Created")


def ops_of(name: str) -> tuple[str, ...] | None:
    """The ops that make events named ``name`` (``Aggregate.Event``), or None if unknown.
    An opening event: every op making any event of its aggregate (``INIT`` included for the
    aggregates ``ledger init`` opens)."""
    found = EVENT_OPS.get(name)
    if found is not None:
        return found
    aggregate, _, event = name.partition(".")
    if event not in OPENED_BY_ANY:
        return None
    ops = {op for n, group in EVENT_OPS.items() if n.partition(".")[0] == aggregate for op in group}
    if aggregate == "PersonKey":  # a key is made when a summary is first sealed
        ops |= {"raise_occasion", "answer_occasion", "record_personnel_event"}
    if aggregate == "Access":
        ops.add(INIT)
    return tuple(sorted(ops)) or None


_ROLES: dict[str, tuple[str, ...]] = {}


def op_roles() -> Mapping[str, tuple[str, ...]]:
    """Every op of the handler registry (import ops and the others, such as erasing a person's
    key) → the roles its command names (``Command.roles``)."""
    if not _ROLES:
        from domain.commands import Command
        from domain.service.handlers import discover
        for kind in discover():
            if not (isinstance(kind, type) and issubclass(kind, Command)):
                continue
            field = kind.model_fields.get("op")
            op = field.default if field is not None else getattr(kind, "op", None)
            if isinstance(op, str):
                _ROLES[op] = tuple(kind.roles)
    return _ROLES
