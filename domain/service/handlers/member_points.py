"""The handlers of ``domain/members/member_points.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from uuid import UUID

from domain.errors import EntryNotFound, MemberPointsRefused
from domain.ids import member_points_id, roster_id
from domain.members.member_points import (
    MemberPoints,
    RecordAppraisal,
    RecordGroupPoints,
    RecordMemberPoints,
    VoidMemberPoints,
    member_placement,
    year_end_placement,
)
from domain.service.handlers import handles
from domain.service.handlers.people import find_person
from domain.service.unit_of_work import UnitOfWork


def _points(uow: UnitOfWork, branch: str, year: str) -> MemberPoints:
    return uow.find_or_open(member_points_id(branch, year),
                            lambda: MemberPoints(branch=branch, year=year))


def _member_of(uow: UnitOfWork, person: str, branch: str, month: str) -> None:
    """``person`` is a party member placed in ``branch`` in ``month``."""
    placement = member_placement(find_person(uow, person), month)
    if placement is None:
        raise MemberPointsRefused(f"{person} 在 {month} 不是党员", "person")
    if placement[0] != branch:
        raise MemberPointsRefused(f"{person} 在 {month} 属于支部 {placement[0]}，不属于支部 {branch}", "branch")


def _group_of(uow: UnitOfWork, group: str, branch: str, month: str) -> None:
    """A party group exists in a branch for a month if a party member is placed in it then."""
    found = uow.find(roster_id(branch), for_update=False)
    spans = found.spans if found is not None else {}
    for person in sorted(spans):
        if not any(start <= month and (end is None or month < end) for start, end in spans[person]):
            continue
        placement = member_placement(find_person(uow, person), month)
        if placement is not None and placement[0] == branch and placement[1] == group:
            return
    raise MemberPointsRefused(f"支部 {branch} 在 {month} 没有党小组 {group!r}（该月无党员编入此小组）", "group")


@handles(RecordMemberPoints)
def record_member_points(uow: UnitOfWork, cmd: RecordMemberPoints) -> UUID:
    uow.organization().branch(cmd.branch)
    _member_of(uow, cmd.person, cmd.branch, cmd.month)
    return _points(uow, cmd.branch, cmd.month[:4]).record_member_points(
        cmd.person, cmd.month, cmd.item, cmd.points, cmd.reason, cmd.actor, cmd.key)


@handles(RecordGroupPoints)
def record_group_points(uow: UnitOfWork, cmd: RecordGroupPoints) -> UUID:
    uow.organization().branch(cmd.branch)
    _group_of(uow, cmd.group, cmd.branch, cmd.month)
    return _points(uow, cmd.branch, cmd.month[:4]).record_group_points(
        cmd.group, cmd.month, cmd.points, cmd.reason, cmd.actor, cmd.key)


@handles(RecordAppraisal)
def record_appraisal(uow: UnitOfWork, cmd: RecordAppraisal) -> UUID:
    uow.organization().branch(cmd.branch)
    end = year_end_placement(find_person(uow, cmd.person), cmd.year)
    if end is None:
        raise MemberPointsRefused(f"{cmd.person} 在 {cmd.year} 年不是党员", "person")
    month, (branch, _, _) = end
    if branch != cmd.branch:
        raise MemberPointsRefused(f"{cmd.person} 在 {cmd.year} 年末（{month}）属于支部 {branch}，"
                                  f"年度评议由该支部录入", "branch")
    return _points(uow, cmd.branch, cmd.year).record_appraisal(
        cmd.person, cmd.points, cmd.reason, cmd.actor, cmd.key)


@handles(VoidMemberPoints)
def void_member_points(uow: UnitOfWork, cmd: VoidMemberPoints) -> UUID:
    uow.organization().branch(cmd.branch)
    entry_id = cmd.target()
    points = uow.find(member_points_id(cmd.branch, cmd.year), for_update=True)
    if points is None:
        raise EntryNotFound(f"支部 {cmd.branch} {cmd.year} 年没有积分条目", "entry_id")
    points.void(entry_id, cmd.reason, cmd.actor, cmd.key)
    return entry_id
