"""Party members and employees (党员与职工): enrolment, class, transfer, departure.

Two aggregates. ``Person`` (one per person id) guards that an id is registered once and
holds the person's history: kind (member or non-member employee), branch and party group,
member class, each change with the month it takes effect. ``BranchRoster`` (one per
branch) holds who is a member of the branch from which month to which, so a branch's
member count for a period is a question one aggregate answers (the annual quota needs it).
A transfer changes three aggregates in one unit of work: the person and both rosters.

Where a branch has enrolments, its member count is the enrolments in force; otherwise the
count given by ``register_branch``/``set_members`` (the task-book flow before enrolment).
"""
from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import Field

from domain import commands as c
from domain import vocabulary
from domain.errors import MembershipRefused, PersonAlreadyRegistered
from domain.ids import person_id, roster_id
from domain.members.enrolment import count_in

MEMBER = "member"  # 党员
EMPLOYEE = "employee"  # 职工（非党员）
CLASSES = vocabulary.MEMBER_CLASSES  # 党员分类 (names: domain/vocabulary.py)
MemberClass = Literal["A", "B", "C", "D"]


class Person(Aggregate):
    """One member or employee. ``history`` lists ``(from_month, branch, group, class)`` as
    recorded; ``left`` the month membership ended (None while a member)."""

    @staticmethod
    def create_id(person: str, **_: Any) -> UUID:
        return person_id(person)

    @event("Registered")
    def __init__(self, person: str, name: str, kind: str, branch: str, group: str | None,
                 member_class: str | None, from_month: str, actor: str, key: str | None) -> None:
        self.person = person
        self.name = name
        self.kind = kind
        self.history: list[tuple[str, str, str | None, str | None]] = [(from_month, branch, group, member_class)]
        self.left: str | None = None

    @property
    def branch(self) -> str:
        return self.history[-1][1]

    @property
    def group(self) -> str | None:
        return self.history[-1][2]

    @property
    def member_class(self) -> str | None:
        return self.history[-1][3]

    def placement_in(self, month: str) -> tuple[str, str | None, str | None] | None:
        """(branch, group, class) in force in ``month``; None before the first record."""
        current = None
        for row in self.history:
            if row[0] <= month:
                current = row
        return None if current is None else (current[1], current[2], current[3])

    def standing_in(self, month: str) -> tuple[str, str | None, str | None] | None:
        """(branch, group, class) if the person counts in ``month``: None before the first
        record and from the month they left (``left`` is the first month not counted)."""
        if self.left is not None and self.left <= month:
            return None
        return self.placement_in(month)

    def _after_latest(self, from_month: str) -> None:
        latest = self.history[-1][0]
        if from_month < latest:
            raise MembershipRefused(f"{self.person} 的记录已自 {latest} 起生效，变动不能早于该月", "from")
        if self.left is not None:
            raise MembershipRefused(f"{self.person} 已于 {self.left} 离开", "person")

    def admit(self, member_class: str, group: str | None, from_month: str, actor: str, key: str | None) -> None:
        """An employee becomes a party member (入党)."""
        if self.kind == MEMBER:
            raise PersonAlreadyRegistered(f"{self.person} 已是党员", "person")
        self._after_latest(from_month)
        self._admit(member_class=member_class, group=group, from_month=from_month, actor=actor, key=key)

    @event("Admitted")
    def _admit(self, member_class: str, group: str | None, from_month: str, actor: str, key: str | None) -> None:
        self.kind = MEMBER
        self.history.append((from_month, self.branch, group, member_class))

    def change_class(self, member_class: str, from_month: str, actor: str, key: str | None) -> None:
        if self.kind != MEMBER:
            raise MembershipRefused(f"{self.person} 不是党员，没有党员分类", "person")
        self._after_latest(from_month)
        self._change_class(member_class=member_class, from_month=from_month, actor=actor, key=key)

    @event("ClassChanged")
    def _change_class(self, member_class: str, from_month: str, actor: str, key: str | None) -> None:
        self.history.append((from_month, self.branch, self.group, member_class))

    def transfer(self, branch: str, group: str | None, from_month: str, actor: str, key: str | None) -> None:
        self._after_latest(from_month)
        if branch == self.branch and group == self.group:
            raise MembershipRefused(f"{self.person} 已在支部 {branch}" + (f" {group} 小组" if group else ""), "branch")
        self._transfer(branch=branch, group=group, from_month=from_month, actor=actor, key=key)

    @event("Transferred")
    def _transfer(self, branch: str, group: str | None, from_month: str, actor: str, key: str | None) -> None:
        self.history.append((from_month, branch, group, self.member_class))

    def leave(self, from_month: str, reason: str, actor: str, key: str | None) -> None:
        self._after_latest(from_month)
        self._leave(from_month=from_month, reason=reason, actor=actor, key=key)

    @event("Left")
    def _leave(self, from_month: str, reason: str, actor: str, key: str | None) -> None:
        self.left = from_month


class BranchRoster(Aggregate):
    """The branch's members: ``spans[person] = [[from, until_or_None], …]`` (until exclusive)."""

    @staticmethod
    def create_id(branch: str, **_: Any) -> UUID:
        return roster_id(branch)

    @event("Opened")
    def __init__(self, branch: str) -> None:
        self.branch = branch
        self.spans: dict[str, list[list[str | None]]] = {}

    def join(self, person: str, from_month: str) -> None:
        self._join(branch=self.branch, person=person, from_month=from_month)

    @event("MemberJoined")
    def _join(self, branch: str, person: str, from_month: str) -> None:
        self.spans.setdefault(person, []).append([from_month, None])

    def leave(self, person: str, from_month: str) -> None:
        self._leave(branch=self.branch, person=person, from_month=from_month)

    @event("MemberLeft")
    def _leave(self, branch: str, person: str, from_month: str) -> None:
        self.spans[person][-1][1] = from_month

    def count_in(self, month: str) -> int:
        return count_in(self.spans, month)


# -- commands ------------------------------------------------------------------------------
class EnrolMember(c.Command):
    """A party member enrolled in a branch and party group (党员登记); an employee already
    registered under the id is admitted (入党)."""
    op: Literal["enrol_member"] = "enrol_member"
    roles = ("registrar",)
    person: c.Code
    name: c.Text
    branch: c.Code
    group: c.Code | None = None
    member_class: MemberClass = Field(alias="class")
    from_month: c.Month = Field(alias="from")
    actor: c.Text


class RegisterEmployee(c.Command):
    """A non-member employee (职工): visits, 1+N links and proposals concern them."""
    op: Literal["register_employee"] = "register_employee"
    roles = ("registrar",)
    person: c.Code
    name: c.Text
    branch: c.Code
    group: c.Code | None = None
    from_month: c.Month = Field(alias="from")
    actor: c.Text


class ChangeMemberClass(c.Command):
    op: Literal["change_member_class"] = "change_member_class"
    roles = ("registrar",)
    person: c.Code
    member_class: MemberClass = Field(alias="class")
    from_month: c.Month = Field(alias="from")
    actor: c.Text


class TransferPerson(c.Command):
    """To another branch or party group (组织关系转接 within the company)."""
    op: Literal["transfer_person"] = "transfer_person"
    roles = ("registrar",)
    person: c.Code
    branch: c.Code
    group: c.Code | None = None
    from_month: c.Month = Field(alias="from")
    actor: c.Text


class RecordDeparture(c.Command):
    """Membership or employment ends (调出、退休转出、去世…); ``from`` is the first month
    the person no longer counts."""
    op: Literal["record_departure"] = "record_departure"
    roles = ("registrar",)
    person: c.Code
    reason: c.Text
    from_month: c.Month = Field(alias="from")
    actor: c.Text
