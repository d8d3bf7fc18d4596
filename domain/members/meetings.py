"""Organizational life (组织生活): the 三会一课 and the other meetings a branch holds, with
attendance per member — seed part 1, 二 (两会 · 三问) and the second report's 组织生活正常化.

One aggregate per meeting (``Meeting``), its id from the natural key (branch, kind, date,
and the party group for a group meeting): a second record of the same meeting is refused.
A meeting carries its topic, who chaired it and every attendee's status (present, excused,
absent); a 两会 meeting (经验总结会 / 问题分析会) also carries its answers to the 三问.
Corrections are events too: one member's status corrected with a reason, or the whole
record voided with a reason; nothing is edited.

Attendance feeds member points (domain/members/member_points.py): recording a meeting marks its
branch and month on the branch's ``MemberPoints`` as "organizational life derived from
attendance" in the same unit of work, and from then on ``MemberPoints.check_item`` refuses
typed entries of that item there. The points themselves (rulebook
``attendance_absent_points``, default −2 per unexcused absence) are computed by the member
points projection from the attendance, citing the meeting.

Who must be listed: for a group meeting, every party member placed in that group that
month; for the other branch-wide kinds, every party member of the branch that month. A
committee meeting (支委会) lists its attendees only (committee membership is not recorded
in the ledger), but each of them must be a member of the branch that month.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import BeforeValidator

from domain import commands as c
from domain import vocabulary
from domain.errors import MeetingRefused
from domain.ids import meeting_id

GENERAL_MEETING = "general_meeting"  # 支部党员大会
COMMITTEE_MEETING = "committee_meeting"  # 支部委员会（支委会）
GROUP_MEETING = "group_meeting"  # 党小组会
PARTY_LESSON = "party_lesson"  # 党课
THEME_DAY = "theme_day"  # 主题党日
ORG_LIFE_MEETING = "org_life_meeting"  # 组织生活会
EXPERIENCE_MEETING = "experience_meeting"  # 经验总结会（两会之一）
PROBLEM_MEETING = "problem_analysis_meeting"  # 问题分析会（两会之一）

KIND_NAMES: Mapping[str, str] = vocabulary.MEETING_KINDS  # names: domain/vocabulary.py
Kind = Literal["general_meeting", "committee_meeting", "group_meeting", "party_lesson", "theme_day",
               "org_life_meeting", "experience_meeting", "problem_analysis_meeting"]
TWO_MEETINGS = (EXPERIENCE_MEETING, PROBLEM_MEETING)  # 两会 [seed]
# 三问 [seed, part 1, 二]: the three questions a 两会 meeting answers.
Question = Literal["branch", "members", "gap"]  # the keys of QUESTIONS
QUESTIONS: dict[Question, str] = {
    "branch": "组织动员职工群众时，我们的党支部在哪里",
    "members": "攻坚克难时，我们的党员在哪里",
    "gap": "对照工作目标，我们的差距在哪里",
}

PRESENT = "present"  # 出席
EXCUSED = "excused"  # 请假
ABSENT = "absent"  # 缺席（未请假）
STATUS_NAMES: Mapping[str, str] = vocabulary.ATTENDANCE
Status = Literal["present", "excused", "absent"]


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("应为日期 YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"不是有效的日期：{value!r}（应为 YYYY-MM-DD）") from None


Date = Annotated[str, BeforeValidator(_date)]


# -- the aggregate -------------------------------------------------------------------------
class Meeting(Aggregate):
    """One meeting as recorded. ``attendance[person] = status`` as corrected so far;
    ``voided`` the reason if the record was voided."""

    @staticmethod
    def create_id(branch: str, kind: str, date: str, group: str | None, **_: Any) -> UUID:
        return meeting_id(branch, kind, date, group)

    @event("Recorded")
    def __init__(self, branch: str, kind: str, date: str, group: str | None, topic: str, chair: str,
                 attendance: dict[str, str], answers: dict[str, str] | None, actor: str,
                 key: str | None) -> None:
        self.branch = branch
        self.kind = kind
        self.date = date
        self.group = group
        self.attendance = dict(attendance)
        self.voided: str | None = None

    def _not_voided(self) -> None:
        if self.voided is not None:
            raise MeetingRefused(f"该会议记录已作废（{self.voided}）", "date")

    def correct_attendance(self, person: str, status: str, reason: str, actor: str, key: str | None) -> None:
        """Precondition (checked by the handler): ``person`` may attend this meeting."""
        self._not_voided()
        if self.attendance.get(person) == status:
            raise MeetingRefused(f"{person} 的出勤已是“{STATUS_NAMES[status]}”", "status")
        self._correct(person=person, status=status, previous=self.attendance.get(person), reason=reason,
                      actor=actor, key=key)

    @event("AttendanceCorrected")
    def _correct(self, person: str, status: str, previous: str | None, reason: str, actor: str,
                 key: str | None) -> None:
        self.attendance[person] = status

    def void(self, reason: str, actor: str, key: str | None) -> None:
        self._not_voided()
        self._void(reason=reason, actor=actor, key=key)

    @event("Voided")
    def _void(self, reason: str, actor: str, key: str | None) -> None:
        self.voided = reason


# -- commands ------------------------------------------------------------------------------
class MeetingRef(c.Command):
    """Names a meeting by its natural key."""
    roles = ("secretary",)
    branch: c.Code
    kind: Kind
    date: Date
    group: c.Code | None = None


class RecordMeeting(MeetingRef):
    """A meeting held by the branch, with every attendee's status (``attendance``:
    person → present / excused / absent) and, for 两会, the answers to the 三问."""
    op: Literal["record_meeting"] = "record_meeting"
    topic: c.Text
    chair: c.Text
    attendance: dict[str, Status]
    answers: dict[Question, c.Text] | None = None  # 三问 (QUESTIONS)
    actor: c.Text


class CorrectAttendance(MeetingRef):
    """One attendee's status corrected (or an attendee added to a committee meeting)."""
    op: Literal["correct_attendance"] = "correct_attendance"
    person: c.Code
    status: Status
    reason: c.Text
    actor: c.Text


class VoidMeeting(MeetingRef):
    """A meeting record entered in error: it no longer counts for the schedule or points."""
    op: Literal["void_meeting"] = "void_meeting"
    reason: c.Text
    actor: c.Text
