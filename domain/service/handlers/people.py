"""The handlers of ``domain/members/people.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from domain.assessment.organization import takes_part
from domain.errors import MembershipRefused, PersonAlreadyRegistered, PersonNotFound
from domain.ids import person_id, roster_id
from domain.members.enrolment import enrolled_count
from domain.members.people import (
    EMPLOYEE,
    MEMBER,
    BranchRoster,
    ChangeMemberClass,
    EnrolMember,
    Person,
    RecordDeparture,
    RegisterEmployee,
    TransferPerson,
)
from domain.service.handlers import handles
from domain.service.unit_of_work import UnitOfWork


def find_person(uow: UnitOfWork, person: str, for_update: bool = False) -> Person:
    """The registered person, or :class:`PersonNotFound` naming field ``person``."""
    found = uow.find_as(Person, person_id(person), for_update=for_update)
    if found is None:
        raise PersonNotFound(f"人员 {person!r} 未登记", "person")
    return found


def roster(uow: UnitOfWork, branch: str) -> BranchRoster:
    return uow.find_or_open(roster_id(branch), lambda: BranchRoster(branch=branch))


def _not_before_branch(uow: UnitOfWork, branch: str, from_month: str) -> None:
    record = uow.organization().branch(branch)
    if not takes_part(record, from_month):
        raise MembershipRefused(f"支部 {branch} 自 {record['from_month']} 起设立", "from")


@handles(EnrolMember)
def enrol_member(uow: UnitOfWork, cmd: EnrolMember) -> str:
    _not_before_branch(uow, cmd.branch, cmd.from_month)
    existing = uow.find(person_id(cmd.person), for_update=True)
    if existing is None:
        uow.add(Person(person=cmd.person, name=cmd.name, kind=MEMBER, branch=cmd.branch, group=cmd.group,
                       member_class=cmd.member_class, from_month=cmd.from_month, actor=cmd.actor, key=cmd.key))
    else:
        if existing.kind == MEMBER:
            raise PersonAlreadyRegistered(f"人员 {cmd.person!r} 已登记为党员", "person")
        if existing.branch != cmd.branch:
            raise MembershipRefused(f"{cmd.person} 登记在支部 {existing.branch}，请先转接", "branch")
        existing.admit(cmd.member_class, cmd.group, cmd.from_month, cmd.actor, cmd.key)
    roster(uow, cmd.branch).join(cmd.person, cmd.from_month)
    return cmd.person


@handles(RegisterEmployee)
def register_employee(uow: UnitOfWork, cmd: RegisterEmployee) -> str:
    _not_before_branch(uow, cmd.branch, cmd.from_month)
    if uow.find(person_id(cmd.person), for_update=False) is not None:
        raise PersonAlreadyRegistered(f"人员 {cmd.person!r} 已登记", "person")
    uow.add(Person(person=cmd.person, name=cmd.name, kind=EMPLOYEE, branch=cmd.branch, group=cmd.group,
                   member_class=None, from_month=cmd.from_month, actor=cmd.actor, key=cmd.key))
    return cmd.person


@handles(ChangeMemberClass)
def change_member_class(uow: UnitOfWork, cmd: ChangeMemberClass) -> str:
    find_person(uow, cmd.person, for_update=True).change_class(cmd.member_class, cmd.from_month, cmd.actor, cmd.key)
    return cmd.person


@handles(TransferPerson)
def transfer_person(uow: UnitOfWork, cmd: TransferPerson) -> str:
    _not_before_branch(uow, cmd.branch, cmd.from_month)
    person = find_person(uow, cmd.person, for_update=True)
    old_branch = person.branch
    person.transfer(cmd.branch, cmd.group, cmd.from_month, cmd.actor, cmd.key)
    if person.kind == MEMBER and old_branch != cmd.branch:
        roster(uow, old_branch).leave(cmd.person, cmd.from_month)
        roster(uow, cmd.branch).join(cmd.person, cmd.from_month)
    return cmd.person


@handles(RecordDeparture)
def record_departure(uow: UnitOfWork, cmd: RecordDeparture) -> str:
    person = find_person(uow, cmd.person, for_update=True)
    person.leave(cmd.from_month, cmd.reason, cmd.actor, cmd.key)
    if person.kind == MEMBER:
        roster(uow, person.branch).leave(cmd.person, cmd.from_month)
    return cmd.person


def member_count(uow: UnitOfWork, branch: str, month: str, declared: int) -> int:
    """The branch's member count in ``month``: its enrolments in force (from its first
    enrolment's month on), else ``declared`` (from ``register_branch``/``set_members``)."""
    found = uow.find(roster_id(branch), for_update=False)
    uow.depend_on(found)  # an approval records this count: an enrolment meanwhile must not precede it
    counted = None if found is None else enrolled_count(found.spans, month)
    return declared if counted is None else counted
