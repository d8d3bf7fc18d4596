"""The handlers of ``domain/members/mentoring.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from typing import Any

from domain.errors import MentorshipNotFound, MentorshipRefused, PersonNotFound
from domain.ids import mentoring_id, person_id
from domain.members.mentoring import (
    MENTOR_ACTIVIST,
    MENTOR_EMPLOYEE,
    MENTOR_MEMBER,
    BranchMentoring,
    RecordApprenticeAppraisal,
    RecordSkillResult,
    RegisterMentorship,
)
from domain.members.people import MEMBER
from domain.service.handlers import handles
from domain.service.unit_of_work import UnitOfWork


def _person_in(uow: UnitOfWork, code: str, branch: str, field: str) -> Any:
    person = uow.find(person_id(code), for_update=False)
    if person is None:
        raise PersonNotFound(f"人员 {code!r} 未登记", field)
    if person.left is not None:
        raise MentorshipRefused(f"{code} 已于 {person.left} 离开", field)
    if person.branch != branch:
        raise MentorshipRefused(f"{code} 登记在支部 {person.branch}，不在支部 {branch}", field)
    return person


def _register(uow: UnitOfWork, branch: str, year: str) -> BranchMentoring:
    return uow.find_or_open(mentoring_id(branch, year),
                            lambda: BranchMentoring(branch=branch, year=year))


def _existing(uow: UnitOfWork, branch: str, pair: str, date: str) -> BranchMentoring:
    """The register of the year of ``date`` holding ``pair``, or MentorshipNotFound."""
    found = uow.find_as(BranchMentoring, mentoring_id(branch, date[:4]), for_update=True)
    if found is None:
        raise MentorshipNotFound(f"支部 {branch} {date[:4]} 年没有师徒对 {pair}"
                                 "（考评与比武成绩按其日期所在年度归入师徒对）", "pair")
    return found


@handles(RegisterMentorship)
def register_mentorship(uow: UnitOfWork, cmd: RegisterMentorship) -> str:
    uow.organization().branch(cmd.branch)
    mentor = _person_in(uow, cmd.mentor, cmd.branch, "mentor")
    apprentice = _person_in(uow, cmd.apprentice, cmd.branch, "apprentice")
    if mentor.kind == MEMBER:
        if cmd.mentor_is_activist:
            raise MentorshipRefused(f"{cmd.mentor} 已是党员，不是入党积极分子", "mentor_is_activist")
        standing = MENTOR_MEMBER
    else:
        standing = MENTOR_ACTIVIST if cmd.mentor_is_activist else MENTOR_EMPLOYEE
    _register(uow, cmd.branch, cmd.year).register(
        cmd.pair, cmd.mentor, mentor.name, standing, cmd.apprentice, apprentice.name, cmd.actor, cmd.key)
    return cmd.pair


@handles(RecordApprenticeAppraisal)
def record_apprentice_appraisal(uow: UnitOfWork, cmd: RecordApprenticeAppraisal) -> str:
    _existing(uow, cmd.branch, cmd.pair, cmd.date).record_appraisal(cmd.pair, cmd.date, cmd.score, cmd.actor, cmd.key)
    return cmd.pair


@handles(RecordSkillResult)
def record_skill_result(uow: UnitOfWork, cmd: RecordSkillResult) -> str:
    _existing(uow, cmd.branch, cmd.pair, cmd.date).record_skill_result(
        cmd.pair, cmd.competition, cmd.rank, cmd.date, cmd.actor, cmd.key)
    return cmd.pair
