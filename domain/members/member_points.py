"""Party-member points (党员积分制管理), seed part 3, 一, 三是.

Three parts, each on a hundred-point scale [seed]: individual behaviour (个人行为计分) from
entries against the seven point items, party-group work (小组工作计分) from entries per
party group, and the annual appraisal (年度评议计分). Each part is the rulebook's
``points_base`` (default 80) plus the signed sum of its entries, clamped to
[``points_min``, ``points_max``] (default 0–100); the annual total is
``points_weight_individual`` × individual + ``points_weight_group`` × group +
``points_weight_appraisal`` × appraisal (seed: 50/30/20), two decimals, half-up. A year is
computed under the rulebook version in force in its December (as the annual evaluation).

One aggregate per branch and year (``MemberPoints``) holds the branch's entries: the
branch records them (role ``secretary``), and corrects them only by voiding an entry and
recording a new one. Every individual entry passes :meth:`MemberPoints.check_item`, the
one place that decides whether an item is open to typed entries for a month — a later
rule (the "organizational life" item derived from meeting attendance) extends it there.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Mapping
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import commands as c
from domain import vocabulary
from domain.assessment.rulebook import Rulebook
from domain.assessment.scoring import CENT, competition_ranks, round2
from domain.errors import EntryNotFound, InvalidInput, MemberPointsRefused
from domain.ids import member_points_id, points_entry_id_for_key
from domain.members.people import Person
from domain.periods import month_range

# The seven point items (积分项目) [seed].
POLITICAL_STUDY = "political_study"  # 参加政治学习
ORGANIZATIONAL_LIFE = "organizational_life"  # 参加党的组织生活
ASSIGNED_TASKS = "assigned_tasks"  # 完成党组织交办的任务
JOB_DUTIES = "job_duties"  # 履行岗位职责
DISCIPLINE_INTEGRITY = "discipline_integrity"  # 遵纪守法和廉洁自律
MASS_CONTACT = "mass_contact"  # 联系群众
FIGHTING_BAD_BEHAVIOUR = "fighting_bad_behaviour"  # 同不良行为作斗争

ITEM_NAMES: Mapping[str, str] = vocabulary.MEMBER_POINT_ITEMS  # names: domain/vocabulary.py
Item = Literal["political_study", "organizational_life", "assigned_tasks", "job_duties",
               "discipline_integrity", "mass_contact", "fighting_bad_behaviour"]

# Entry kinds = the three parts (积分三部分).
INDIVIDUAL = "individual"  # 个人行为计分
GROUP_WORK = "group_work"  # 党小组工作计分
APPRAISAL = "appraisal"  # 年度评议计分
PART_NAMES: Mapping[str, str] = vocabulary.MEMBER_POINT_PARTS


# -- the arithmetic ------------------------------------------------------------------------
def part_score(entries_sum: Decimal, rulebook: Rulebook) -> Decimal:
    """One part: ``points_base`` + the signed sum of its (not voided) entries, clamped to
    [``points_min``, ``points_max``]. Exact: entries carry at most two decimals."""
    return min(max(rulebook.points_base + entries_sum, rulebook.points_min), rulebook.points_max).quantize(CENT)


def annual_total(individual: Decimal, group: Decimal, appraisal: Decimal, rulebook: Rulebook) -> Decimal:
    """The weighted annual total, two decimals, half-up."""
    return round2(rulebook.points_weight_individual * individual + rulebook.points_weight_group * group
                  + rulebook.points_weight_appraisal * appraisal)


@dataclass(frozen=True)
class MemberTotal:
    """A member's three parts and annual total (before ranking)."""

    individual: Decimal
    group: Decimal
    appraisal: Decimal
    total: Decimal


def member_total(individual_sum: Decimal, group_sum: Decimal, appraisal_sum: Decimal,
                 rulebook: Rulebook) -> MemberTotal:
    i, g, a = (part_score(s, rulebook) for s in (individual_sum, group_sum, appraisal_sum))
    return MemberTotal(i, g, a, annual_total(i, g, a, rulebook))


def ranks(totals: Mapping[str, Decimal]) -> dict[str, int]:
    """Competition ranking within one branch (1, 2, 2, 4): ties share a rank."""
    return competition_ranks(totals)


def year_rulebook_month(year: str) -> str:
    """The month whose rulebook version computes a year's points: its December."""
    return f"{year}-12"


# -- membership questions asked of a Person -----------------------------------------------
def member_placement(person: Person, month: str) -> tuple[str, str | None, str] | None:
    """(branch, group, class) if ``person`` is a party member in ``month``; else None
    (not yet registered, an employee then, or gone from ``left`` on)."""
    placement = person.standing_in(month)
    if placement is None:
        return None
    branch, group, klass = placement
    return None if klass is None else (branch, group, klass)


def year_end_placement(person: Person, year: str) -> tuple[str, tuple[str, str | None, str]] | None:
    """(month, placement) of the last month of ``year`` in which ``person`` is a member."""
    for month in reversed(month_range(f"{year}-01", 12)):
        placement = member_placement(person, month)
        if placement is not None:
            return month, placement
    return None


# -- the aggregate -------------------------------------------------------------------------
class MemberPoints(Aggregate):
    """The member-points entries of one branch and year. ``entries[id] = kind``;
    ``voided`` the ids voided. Entries are never edited: a correction voids an entry and
    records a new one."""

    @staticmethod
    def create_id(branch: str, year: str, **_: Any) -> UUID:
        return member_points_id(branch, year)

    @event("Opened")
    def __init__(self, branch: str, year: str) -> None:
        self.branch = branch
        self.year = year
        self.entries: dict[UUID, str] = {}
        self.voided: set[UUID] = set()
        self.derived: set[str] = set()  # months whose organizational-life item comes from attendance
        self.typed_org_life: dict[UUID, str] = {}  # typed organizational-life entries → month

    def new_entry_id(self, key: str | None) -> UUID:
        """From the import key (stable across re-imports), else the next in this aggregate."""
        entry_id = points_entry_id_for_key(key) if key else uuid5(self.id, f"entry:{len(self.entries)}")
        if entry_id in self.entries:
            raise MemberPointsRefused(f"条目 {entry_id} 已存在", "key")
        return entry_id

    def _check_month(self, month: str) -> None:
        if month[:4] != self.year:
            raise MemberPointsRefused(f"月份 {month} 不在 {self.year} 年", "month")

    def check_item(self, item: str, month: str) -> None:
        """The one guard of typed individual entries: ``item`` is a point item, open to
        typed entries in ``month``. Once meeting attendance is recorded for this branch and
        month (domain/members/meetings.py), the organizational-life item there is derived from it and
        refused here."""
        self._check_month(month)
        if item not in ITEM_NAMES:
            raise MemberPointsRefused(f"积分项目 {item!r} 无效，应为 {', '.join(ITEM_NAMES)}", "item")
        if item == ORGANIZATIONAL_LIFE and month in self.derived:
            raise MemberPointsRefused(f"支部 {self.branch} {month} 已录入会议出勤，“参加党的组织生活”积分由出勤生成，"
                                      "不能手工录入", "item")

    def derive_organizational_life(self, month: str, meeting_id: UUID) -> None:
        """From now on the organizational-life item of ``month`` in this branch comes from
        meeting attendance (the first meeting recorded, ``meeting_id``, is named). Refused
        while typed entries of that item for the month still count: void them first. Nothing
        is recorded if the month is derived already."""
        self._check_month(month)
        if month in self.derived:
            return
        typed = sorted(str(e) for e, m in self.typed_org_life.items() if m == month and e not in self.voided)
        if typed:
            raise MemberPointsRefused(f"支部 {self.branch} {month} 已有 {len(typed)} 条手工录入的“参加党的组织生活”积分"
                                      f"（如 {typed[0]}）；先作废（void_member_points）再录入会议出勤", "attendance")
        self._derive(month=month, meeting_id=meeting_id)

    @event("OrganizationalLifeDerived")
    def _derive(self, month: str, meeting_id: UUID) -> None:
        self.derived.add(month)

    def record_member_points(self, person: str, month: str, item: str, points: Decimal, reason: str,
                             actor: str, key: str | None) -> UUID:
        """Precondition (checked by the handler): ``person`` is a member of the branch in ``month``."""
        self.check_item(item, month)
        entry_id = self.new_entry_id(key)
        self._record_member(entry_id=entry_id, person=person, month=month, item=item, points=points,
                            reason=reason, actor=actor, key=key)
        return entry_id

    @event("MemberPointsRecorded")
    def _record_member(self, entry_id: UUID, person: str, month: str, item: str, points: Decimal,
                       reason: str, actor: str, key: str | None) -> None:
        self.entries[entry_id] = INDIVIDUAL
        if item == ORGANIZATIONAL_LIFE:
            self.typed_org_life[entry_id] = month

    def record_group_points(self, group: str, month: str, points: Decimal, reason: str, actor: str,
                            key: str | None) -> UUID:
        """Precondition (checked by the handler): ``group`` is a party group of the branch in ``month``."""
        self._check_month(month)
        entry_id = self.new_entry_id(key)
        self._record_group(entry_id=entry_id, group=group, month=month, points=points, reason=reason,
                           actor=actor, key=key)
        return entry_id

    @event("GroupPointsRecorded")
    def _record_group(self, entry_id: UUID, group: str, month: str, points: Decimal, reason: str,
                      actor: str, key: str | None) -> None:
        self.entries[entry_id] = GROUP_WORK

    def record_appraisal(self, person: str, points: Decimal, reason: str, actor: str,
                         key: str | None) -> UUID:
        """Precondition (checked by the handler): the branch is ``person``'s at year end."""
        entry_id = self.new_entry_id(key)
        self._record_appraisal(entry_id=entry_id, person=person, points=points, reason=reason,
                               actor=actor, key=key)
        return entry_id

    @event("AppraisalRecorded")
    def _record_appraisal(self, entry_id: UUID, person: str, points: Decimal, reason: str, actor: str,
                          key: str | None) -> None:
        self.entries[entry_id] = APPRAISAL

    def void(self, entry_id: UUID, reason: str, actor: str, key: str | None) -> None:
        if entry_id not in self.entries:
            raise EntryNotFound(f"支部 {self.branch} {self.year} 年没有积分条目 {entry_id}", "entry_id")
        if entry_id in self.voided:
            raise MemberPointsRefused(f"积分条目 {entry_id} 已作废", "entry_id")
        self._void(entry_id=entry_id, reason=reason, actor=actor, key=key)

    @event("EntryVoided")
    def _void(self, entry_id: UUID, reason: str, actor: str, key: str | None) -> None:
        self.voided.add(entry_id)


# -- commands ------------------------------------------------------------------------------
class RecordMemberPoints(c.Command):
    """An individual-behaviour entry (个人行为计分) for one member, one month, one item;
    recorded by the member's branch."""
    op: Literal["record_member_points"] = "record_member_points"
    roles = ("secretary",)
    branch: c.Code
    person: c.Code
    month: c.Month
    item: Item
    points: c.ExactDecimal
    reason: c.Text
    actor: c.Text


class RecordGroupPoints(c.Command):
    """A party-group work entry (党小组工作计分): counts for every member of the group that month."""
    op: Literal["record_group_points"] = "record_group_points"
    roles = ("secretary",)
    branch: c.Code
    group: c.Code
    month: c.Month
    points: c.ExactDecimal
    reason: c.Text
    actor: c.Text


class RecordAppraisal(c.Command):
    """An annual appraisal entry (年度评议计分, 民主评议党员): signed points over the base."""
    op: Literal["record_appraisal"] = "record_appraisal"
    roles = ("secretary",)
    branch: c.Code
    person: c.Code
    year: c.Year
    points: c.ExactDecimal
    reason: c.Text
    actor: c.Text


class VoidMemberPoints(c.Command):
    """Voids one entry of any part (a correction: void, then record the right entry)."""
    op: Literal["void_member_points"] = "void_member_points"
    roles = ("secretary",)
    branch: c.Code
    year: c.Year
    entry_id: UUID | None = None
    entry_key: c.Text | None = None
    reason: c.Text
    actor: c.Text

    def target(self) -> UUID:
        if self.entry_id is not None and self.entry_key is None:
            return self.entry_id
        if self.entry_key is not None and self.entry_id is None:
            return points_entry_id_for_key(self.entry_key)
        raise InvalidInput("请给出 entry_id 或 entry_key 之一", "entry_id")
