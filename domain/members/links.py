"""党员"1+N" (1+N links): each party member is linked to N non-member employees.

One aggregate per branch, ``BranchLinks``, holds every link of the branch and the N each
party group sets for itself, so the rules below are guarded by one aggregate:

- the member is a party member of the branch, the employee a registered non-member
  employee *of the same branch*, in the link's ``from`` month (the seed's 1+N is members
  looking after the workers around them; a cross-branch link would escape both branches'
  secretaries);
- an employee is linked to at most one member at a time (one contact person each, so no
  employee is counted twice towards the branch's coverage);
- a link already in force is not recorded twice; an unlink names a link in force;
- N is ``link_quota_default`` of the rulebook in force (seed: 1+5) unless the member's party
  group set its own from some month on (seed: 1+3 in groups with many members).

Over or under N is not refused: the view flags it (``projections/links.py``).
"""
from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import Field, StrictInt

from domain import commands as c
from domain.errors import LinkRefused
from domain.ids import links_id


class BranchLinks(Aggregate):
    """``links[employee] = [[member, from, until_or_None], …]`` (until exclusive, in order);
    ``quotas[group] = [[from, n], …]`` (in order)."""

    @staticmethod
    def create_id(branch: str, **_: Any) -> UUID:
        return links_id(branch)

    @event("Opened")
    def __init__(self, branch: str) -> None:
        self.branch = branch
        self.links: dict[str, list[list[str | None]]] = {}
        self.quotas: dict[str, list[list[Any]]] = {}

    def member_of(self, employee: str) -> str | None:
        """The member the employee is linked to now (latest link still open), if any."""
        spans = self.links.get(employee)
        return spans[-1][0] if spans and spans[-1][2] is None else None

    def link(self, member: str, employee: str, from_month: str, actor: str, key: str | None) -> None:
        spans = self.links.get(employee, [])
        current = self.member_of(employee)
        if current == member:
            raise LinkRefused(f"职工 {employee} 已与党员 {member} 结对（自 {spans[-1][1]}）", "employee")
        if current is not None:
            raise LinkRefused(f"职工 {employee} 已与党员 {current} 结对（自 {spans[-1][1]}），"
                              "一名职工同一时间只联系一名党员，请先解除", "employee")
        until = spans[-1][2] if spans else None  # set: the employee is linked to no one now
        if until is not None and from_month < until:
            raise LinkRefused(f"职工 {employee} 的上一次结对至 {spans[-1][2]} 才解除，新的结对不能早于该月", "from")
        self._link(member=member, employee=employee, from_month=from_month, actor=actor, key=key)

    @event("EmployeeLinked")
    def _link(self, member: str, employee: str, from_month: str, actor: str, key: str | None) -> None:
        self.links.setdefault(employee, []).append([member, from_month, None])

    def unlink(self, member: str, employee: str, from_month: str, reason: str | None, actor: str,
               key: str | None) -> None:
        """``from_month`` is the first month the link no longer counts."""
        if self.member_of(employee) != member:
            raise LinkRefused(f"职工 {employee} 当前未与党员 {member} 结对", "employee")
        start = self.links[employee][-1][1]
        if start is not None and from_month < start:  # always set: every link has its start
            raise LinkRefused(f"该结对自 {start} 起生效，解除不能早于该月", "from")
        self._unlink(member=member, employee=employee, from_month=from_month, reason=reason, actor=actor, key=key)

    @event("EmployeeUnlinked")
    def _unlink(self, member: str, employee: str, from_month: str, reason: str | None, actor: str,
                key: str | None) -> None:
        self.links[employee][-1][2] = from_month

    def set_quota(self, group: str, n: int, from_month: str, actor: str, key: str | None) -> None:
        rows = self.quotas.get(group, [])
        if rows and from_month < rows[-1][0]:
            raise LinkRefused(f"党小组 {group} 的 N 已自 {rows[-1][0]} 起设定，新设定不能早于该月", "from")
        self._set_quota(group=group, n=n, from_month=from_month, actor=actor, key=key)

    @event("QuotaSet")
    def _set_quota(self, group: str, n: int, from_month: str, actor: str, key: str | None) -> None:
        self.quotas.setdefault(group, []).append([from_month, n])


def quota_in(rows: list[list[Any]] | None, month: str, default: int) -> int:
    """The group's N in ``month``: its latest setting from that month or before, else ``default``."""
    n = default
    for start, value in rows or ():
        if start <= month:
            n = value
    return n


# -- commands ------------------------------------------------------------------------------
class LinkEmployee(c.Command):
    """A member takes on a non-member employee of the branch (党员联系职工) from a month."""
    op: Literal["link_employee"] = "link_employee"
    roles = ("secretary",)
    branch: c.Code
    member: c.Code
    employee: c.Code
    from_month: c.Month = Field(alias="from")
    actor: c.Text


class UnlinkEmployee(c.Command):
    """The link ends; ``from`` is the first month it no longer counts."""
    op: Literal["unlink_employee"] = "unlink_employee"
    roles = ("secretary",)
    branch: c.Code
    member: c.Code
    employee: c.Code
    from_month: c.Month = Field(alias="from")
    reason: c.Text | None = None
    actor: c.Text


class SetLinkQuota(c.Command):
    """A party group's own N (1+N) from a month on, instead of the rulebook's default."""
    op: Literal["set_link_quota"] = "set_link_quota"
    roles = ("secretary",)
    branch: c.Code
    group: c.Code
    n: StrictInt = Field(ge=0, le=50)
    from_month: c.Month = Field(alias="from")
    actor: c.Text
