"""Who stood where in a month (人员所在支部), asked of the ``Person`` aggregates in a unit of
work: the guards of 1+N links, one-thing-a-year projects and innovation proposals share them.

A person is *in* a branch in a month when their record places them there that month and
they have not left (``left`` is the first month they no longer count). A member is a person
whose placement that month carries a member class; an employee one whose placement does not.
"""
from __future__ import annotations

from typing import Callable

from domain.errors import LedgerError
from domain.ids import person_id, roster_id
from domain.members.people import EMPLOYEE, MEMBER, Person
from domain.service.handlers.people import find_person
from domain.service.unit_of_work import UnitOfWork

Refusal = Callable[[str, str], LedgerError]


def placed(person: Person, month: str) -> tuple[str, str | None, str] | None:
    """``(branch, group, kind)`` of ``person`` in ``month``; None before the first record or
    from the month they left."""
    row = person.standing_in(month)
    if row is None:
        return None
    return row[0], row[1], MEMBER if row[2] is not None else EMPLOYEE


def require_in_branch(uow: UnitOfWork, code: str, branch: str, kind: str | None, months: list[str],
                      field: str, refuse: Refusal) -> tuple[Person, str | None]:
    """The person ``code`` and their group, if in some month of ``months`` (tried in order) they
    are in ``branch`` and of ``kind`` (None: either). Raises :class:`PersonNotFound` naming
    ``field`` if unregistered, else ``refuse(reason, field)``."""
    try:
        person = find_person(uow, code)
    except LedgerError as e:
        e.field = field
        raise
    for month in months:
        where = placed(person, month)
        if where is not None and where[0] == branch and (kind is None or where[2] == kind):
            return person, where[1]
    what = {MEMBER: "党员", EMPLOYEE: "非党员职工", None: "人员"}[kind]
    span = months[0] if len(months) == 1 else f"{months[0]} 至 {months[-1]}"
    raise refuse(f"{code} 在 {span} 不是支部 {branch} 的{what}", field)


def member_groups(uow: UnitOfWork, branch: str, months: list[str]) -> set[str]:
    """The party groups of the branch's members in any of ``months`` (from the branch roster
    and each member's record)."""
    roster = uow.find(roster_id(branch), for_update=False)
    groups: set[str] = set()
    if roster is None:
        return groups
    for code in roster.spans:
        person = uow.find(person_id(code), for_update=False)
        if person is None:
            continue
        for month in months:
            where = placed(person, month)
            if where is not None and where[0] == branch and where[2] == MEMBER and where[1] is not None:
                groups.add(where[1])
    return groups
