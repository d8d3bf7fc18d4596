"""Who may do what: the one permission check every entry point goes through.

Each command class names the roles that may send it (``Command.roles``). Two are scoped by
the command itself: ``secretary`` means ``secretary:<the command's branch>`` and
``scorer`` means ``scorer:<the command's department>`` (any scorer where the command names
no department; the handler then checks the entry's department); ``party_mass`` (the
Party-Mass Work Dept's clerk, 党群工作部) means ``scorer:party_mass``. A ``migrator`` may send
every op except the directory's (users, roles, tokens: ``admin`` only): its events are
marked migrated and exempt from separation of duties.

``secretary:<branch>`` is never granted: a user holds it while an appointment of that
branch naming them (``appoint_secretary``'s ``user``) is in force in the current month
(Asia/Shanghai) — from the appointment's month until the next appointment replaces it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from domain import vocabulary
from domain.access.users import Access
from domain.asof import SHANGHAI
from domain.assessment.organization import Organization
from domain.errors import PermissionDenied

MIGRATOR = "migrator"


@dataclass(frozen=True)
class Authorization:
    """The acting user of one command, the roles they held, and how the events are marked."""

    user: str
    roles: frozenset[str]
    migrated: bool = False
    occurred_at: str | None = None


def month_of(at_us: int) -> str:
    return datetime.fromtimestamp(at_us / 1_000_000, timezone.utc).astimezone(SHANGHAI).strftime("%Y-%m")


def roles_of(access: Access, org: Organization | None, user: str, at_us: int,
             branches: Iterable[str] | None = None) -> frozenset[str]:
    """Granted roles in force at ``at_us`` plus the secretary roles of current appointments
    (of ``branches`` only, if given: a command needs only its own branch's)."""
    roles = set(access.roles_at(user, at_us))
    if org is not None:
        month = month_of(at_us)
        for code in (org.branches if branches is None else [b for b in branches if b in org.branches]):
            secretary = org.secretary_in(code, month)
            if secretary is not None and secretary.user == user:
                roles.add(f"secretary:{code}")
    return frozenset(roles)


def required(command: Any) -> list[str]:
    """The concrete roles any one of which allows ``command`` (``scorer:*``: any scorer)."""
    out = []
    for spec in type(command).roles:
        if spec == "secretary":
            out.append(f"secretary:{command.branch}")
        elif spec == "scorer":
            out.append(f"scorer:{getattr(command, 'department', '*')}")
        elif spec == "party_mass":  # the Party-Mass Work Dept's clerk: its scorers
            out.append("scorer:party_mass")
        else:
            out.append(spec)
    return out


def allowed(roles: Iterable[str], needed: list[str]) -> bool:
    held = set(roles)
    return any(n in held or (n == "scorer:*" and any(r.startswith("scorer:") for r in held)) for n in needed)


def authorize(access: Access, org: Organization | None, user: str | None, command: Any,
              at_us: int) -> Authorization:
    """The authorization of ``user`` for ``command`` at ``at_us``, or :class:`PermissionDenied`."""
    if user is None:
        raise PermissionDenied("未指定操作用户（命令行用 --as 或 LEDGER_USER，接口用令牌）", "user")
    if user not in access.users:
        raise PermissionDenied(f"用户 {user!r} 未登记", "user")
    branch = getattr(command, "branch", None)
    roles = roles_of(access, org, user, at_us, branches=[branch] if isinstance(branch, str) else [])
    occurred_at = getattr(command, "occurred_at", None)
    needed = required(command)
    if MIGRATOR in roles and "admin" not in needed:  # history of every kind, never users and roles
        return Authorization(user, roles, migrated=True, occurred_at=occurred_at)
    if occurred_at is not None:
        raise PermissionDenied("只有迁移角色（migrator）可以填写原始单据日期 occurred_at", "occurred_at")
    if not allowed(roles, needed):
        want = (" 或 ".join(f"{r}（{vocabulary.role_name(r)}）" for r in needed) if needed
                else "（该操作未分配角色，仅迁移角色可用）")
        raise PermissionDenied(f"用户 {user} 无权{vocabulary.op_name(command.op)}：需要角色 {want}", None)
    return Authorization(user, roles)


def check_scorer_of(auth: Authorization | None, department: str) -> None:
    """A handler's finer check: ``auth`` must hold ``scorer:<department>`` (or be a migration)."""
    if auth is None or auth.migrated:
        return
    if f"scorer:{department}" not in auth.roles:
        raise PermissionDenied(f"该条目由 {department} 录入，只有该部门的考核员可以作废", None)


# -- reading ---------------------------------------------------------------------------------
ALL_BRANCHES = "*"


def readable_branches(roles: Iterable[str]) -> str | set[str]:
    """Which branches' entries, appeals and history a user may read: ``ALL_BRANCHES`` or a
    set of codes (a secretary: their own). Rankings (quarter, year) are published to all
    users with any role; an admin with no other role reads only the directory."""
    held = set(roles)
    if held - {"admin"} - {r for r in held if r.startswith("secretary:")}:
        return ALL_BRANCHES
    return {r.partition(":")[2] for r in held if r.startswith("secretary:")}


# Aggregates opened for one branch whose later events need not name it: an entry's appeals
# (``EntryAppeals.Opened`` names the entry's branch; ``Decided`` names only the appeal), and
# the member-level aggregates kept per branch (its member points of a year, its "1+N" links,
# its mentoring of a year, its roster), whose entries name a person, not the branch.
BRANCH_OWNED = ("EntryAppeals.", "MemberPoints.", "BranchLinks.", "BranchMentoring.", "BranchRoster.")


def event_concerns(payload: Mapping[str, Any], branch: str) -> bool:
    """An event's payload concerns ``branch`` if it names it (``branch`` or ``code``) or an
    approval's results or ranking list it."""
    if payload.get("branch") == branch or payload.get("code") == branch:
        return True
    rows = payload.get("results") or payload.get("ranking") or ()
    return any(isinstance(r, dict) and r.get("branch") == branch for r in rows)


def may_read_event(roles: Iterable[str], name: str, payload: Mapping[str, Any],
                   opening: Callable[[], Mapping[str, Any] | None]) -> bool:
    """Whether ``roles`` may read one logged event (its proof, page and receipt). Readers of
    every branch: any event. A secretary: events that concern their branch — by the payload
    (:func:`event_concerns`; a correction or void caused by an appeal names the entry's
    branch), or, for an aggregate in ``BRANCH_OWNED`` (``name`` is ``Aggregate.Event``), by
    the aggregate's opening payload (``opening()``, called only then): the decision on an
    appeal belongs to the appealed entry's branch, so its filer's secretary reads the answer."""
    scope = readable_branches(roles)
    if scope == ALL_BRANCHES:
        return True
    if any(event_concerns(payload, b) for b in scope):
        return True
    if name.startswith(BRANCH_OWNED):
        first = opening()
        return first is not None and any(event_concerns(first, b) for b in scope)
    return False


def may_read_summaries(roles: Iterable[str], branch: str) -> bool:
    """Talk and visit summaries: the person's branch secretary and the committee only."""
    held = set(roles)
    return "committee" in held or f"secretary:{branch}" in held


def may_read_branch(roles: Iterable[str], branch: str) -> bool:
    """A branch's entries, appeals, history, people, points and talks (not the summaries'
    text: :func:`may_read_summaries`)."""
    scope = readable_branches(roles)
    return scope == ALL_BRANCHES or branch in scope


def may_read_rankings(roles: Iterable[str]) -> bool:
    """Published results (approved quarter and year rankings, the rulebook, checkpoints):
    every user holding a role, except an admin who holds nothing else."""
    return bool(set(roles) - {"admin"})


def may_read_directory(roles: Iterable[str]) -> bool:
    """Users, their roles and the security log: the admin, and the auditor (who reads all)."""
    return bool({"admin", "auditor"} & set(roles))


def check_read_branch(roles: Iterable[str], branch: str) -> None:
    """:class:`PermissionDenied` (field ``branch``) unless ``roles`` may read ``branch``."""
    if not may_read_branch(roles, branch):
        raise PermissionDenied(f"无权查看支部 {branch} 的记录：支部书记只能查看本支部", "branch")


def check_read_all(roles: Iterable[str], what: str) -> None:
    """For reads that span every branch (diffs, what-ifs, verification, audit exports)."""
    if readable_branches(roles) != ALL_BRANCHES:
        raise PermissionDenied(f"无权查看{what}：需要可查看全部支部的角色（如 auditor、committee）", None)


def branch_in_scope(roles: Iterable[str], branch: str | None) -> str | None:
    """The branch a branch-scoped read covers. ``branch`` named: it, if readable. None: all
    branches (``None``) for readers of every branch; a secretary of exactly one branch reads
    theirs; anyone else must name one (:class:`PermissionDenied`)."""
    if branch is not None:
        check_read_branch(roles, branch)
        return branch
    scope = readable_branches(roles)
    if scope == ALL_BRANCHES:
        return None
    if len(scope) == 1:
        return next(iter(scope))
    raise PermissionDenied("请指定支部（branch）：只能查看本人任书记的支部", "branch")
