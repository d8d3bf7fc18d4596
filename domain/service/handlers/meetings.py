"""The handlers of ``domain/members/meetings.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from uuid import UUID

from domain.assessment.organization import takes_part
from domain.errors import MeetingNotFound, MeetingRefused
from domain.ids import meeting_id, member_points_id, roster_id
from domain.members.meetings import (
    COMMITTEE_MEETING,
    GROUP_MEETING,
    KIND_NAMES,
    QUESTIONS,
    TWO_MEETINGS,
    CorrectAttendance,
    Meeting,
    MeetingRef,
    RecordMeeting,
    VoidMeeting,
)
from domain.members.member_points import MemberPoints, member_placement
from domain.service.handlers import handles
from domain.service.handlers.people import find_person
from domain.service.unit_of_work import UnitOfWork


def branch_members(uow: UnitOfWork, branch: str, month: str) -> dict[str, str | None]:
    """Party members placed in ``branch`` in ``month``: person → party group."""
    found = uow.find(roster_id(branch), for_update=False)
    out: dict[str, str | None] = {}
    for person, spans in sorted((found.spans if found is not None else {}).items()):
        if not any(start <= month and (end is None or month < end) for start, end in spans):
            continue
        placement = member_placement(find_person(uow, person), month)
        if placement is not None and placement[0] == branch:
            out[person] = placement[1]
    return out


def _expected(uow: UnitOfWork, cmd: MeetingRef) -> tuple[dict[str, str | None], set[str] | None]:
    """(who may attend, who must be listed — None: no completeness rule) for the meeting."""
    month = cmd.date[:7]
    members = branch_members(uow, cmd.branch, month)
    if cmd.kind == GROUP_MEETING:
        if cmd.group is None:
            raise MeetingRefused("党小组会须写明党小组（group）", "group")
        in_group: dict[str, str | None] = {p: g for p, g in members.items() if g == cmd.group}
        if not in_group:
            raise MeetingRefused(f"支部 {cmd.branch} 在 {month} 没有党小组 {cmd.group!r}（该月无党员编入此小组）", "group")
        return in_group, set(in_group)
    if cmd.group is not None:
        raise MeetingRefused(f"只有党小组会写明党小组，{KIND_NAMES[cmd.kind]}不填 group", "group")
    return members, (None if cmd.kind == COMMITTEE_MEETING else set(members))


def _branch_open(uow: UnitOfWork, branch: str, date: str) -> None:
    record = uow.organization().branch(branch)
    if not takes_part(record, date[:7]):
        raise MeetingRefused(f"支部 {branch} 自 {record['from_month']} 起设立", "date")


def _meeting(uow: UnitOfWork, cmd: MeetingRef) -> Meeting:
    found = uow.find_as(Meeting, meeting_id(cmd.branch, cmd.kind, cmd.date, cmd.group), for_update=True)
    if found is None:
        group = f"（{cmd.group}）" if cmd.group else ""
        raise MeetingNotFound(f"支部 {cmd.branch} {cmd.date} 没有记录{KIND_NAMES[cmd.kind]}{group}", "date")
    return found


@handles(RecordMeeting)
def record_meeting(uow: UnitOfWork, cmd: RecordMeeting) -> UUID:
    """Guards: branch registered and set up by then; not recorded before; group given for
    (and only for) a group meeting; 三问 answered for (and only for) 两会; every listed
    person may attend and, except for committee meetings, nobody who must attend is left out.
    Then the branch's member points for the month become derived from attendance."""
    _branch_open(uow, cmd.branch, cmd.date)
    if (cmd.answers is None) == (cmd.kind in TWO_MEETINGS) or (cmd.answers is not None and len(cmd.answers) != 3):
        raise MeetingRefused("“两会”（经验总结会、问题分析会）须回答全部“三问”（answers：branch、members、gap），"
                             "其他会议不填 answers", "answers")
    mid = meeting_id(cmd.branch, cmd.kind, cmd.date, cmd.group)
    if uow.find(mid, for_update=False) is not None:
        raise MeetingRefused(f"支部 {cmd.branch} {cmd.date} 的{KIND_NAMES[cmd.kind]}已记录；"
                             "更正出勤用 correct_attendance，作废用 void_meeting", "date")
    if not cmd.attendance:
        raise MeetingRefused("出勤名单不能为空", "attendance")
    allowed, required = _expected(uow, cmd)
    strangers = sorted(set(cmd.attendance) - set(allowed))
    if strangers:
        where = f"党小组 {cmd.group}" if cmd.group else f"支部 {cmd.branch}"
        raise MeetingRefused(f"{', '.join(strangers[:5])} 在 {cmd.date[:7]} 不是{where}的党员", "attendance")
    missing = sorted((required or set()) - set(cmd.attendance))
    if missing:
        raise MeetingRefused(f"出勤名单缺少应参会党员 {', '.join(missing[:5])}"
                             + (f" 等 {len(missing)} 人" if len(missing) > 5 else "")
                             + "（出席、请假、缺席都要写明）", "attendance")
    answers: dict[str, str] | None = None if cmd.answers is None else {q: cmd.answers[q] for q in QUESTIONS}
    meeting = Meeting(branch=cmd.branch, kind=cmd.kind, date=cmd.date, group=cmd.group, topic=cmd.topic,
                      chair=cmd.chair, attendance=dict(sorted(cmd.attendance.items())),
                      answers=answers,
                      actor=cmd.actor, key=cmd.key)
    uow.add(meeting)
    year = cmd.date[:4]
    points = uow.find_or_open(member_points_id(cmd.branch, year),
                              lambda: MemberPoints(branch=cmd.branch, year=year))
    points.derive_organizational_life(cmd.date[:7], meeting.id)
    return meeting.id


@handles(CorrectAttendance)
def correct_attendance(uow: UnitOfWork, cmd: CorrectAttendance) -> UUID:
    uow.organization().branch(cmd.branch)
    meeting = _meeting(uow, cmd)
    if cmd.person not in meeting.attendance:
        allowed, _ = _expected(uow, cmd)
        if cmd.person not in allowed:
            raise MeetingRefused(f"{cmd.person} 在 {cmd.date[:7]} 不是支部 {cmd.branch} 的党员"
                                 + (f"（党小组 {cmd.group}）" if cmd.group else ""), "person")
    meeting.correct_attendance(cmd.person, cmd.status, cmd.reason, cmd.actor, cmd.key)
    return meeting.id


@handles(VoidMeeting)
def void_meeting(uow: UnitOfWork, cmd: VoidMeeting) -> UUID:
    uow.organization().branch(cmd.branch)
    meeting = _meeting(uow, cmd)
    meeting.void(cmd.reason, cmd.actor, cmd.key)
    return meeting.id
