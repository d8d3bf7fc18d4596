"""The handlers of ``domain/members/links.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from domain.errors import LinkRefused
from domain.ids import links_id
from domain.members.links import BranchLinks, LinkEmployee, SetLinkQuota, UnlinkEmployee
from domain.members.people import EMPLOYEE, MEMBER
from domain.service.handlers import handles
from domain.service.handlers.placement import member_groups, require_in_branch
from domain.service.unit_of_work import UnitOfWork


def branch_links(uow: UnitOfWork, branch: str) -> BranchLinks:
    """The branch's links, loaded for update (opened if new). Raises BranchNotFound."""
    uow.organization().branch(branch)
    return uow.find_or_open(links_id(branch), lambda: BranchLinks(branch=branch))


@handles(LinkEmployee)
def link_employee(uow: UnitOfWork, cmd: LinkEmployee) -> str:
    links = branch_links(uow, cmd.branch)
    require_in_branch(uow, cmd.member, cmd.branch, MEMBER, [cmd.from_month], "member", LinkRefused)
    require_in_branch(uow, cmd.employee, cmd.branch, EMPLOYEE, [cmd.from_month], "employee", LinkRefused)
    links.link(cmd.member, cmd.employee, cmd.from_month, cmd.actor, cmd.key)
    return cmd.employee


@handles(UnlinkEmployee)
def unlink_employee(uow: UnitOfWork, cmd: UnlinkEmployee) -> str:
    branch_links(uow, cmd.branch).unlink(cmd.member, cmd.employee, cmd.from_month, cmd.reason, cmd.actor, cmd.key)
    return cmd.employee


@handles(SetLinkQuota)
def set_link_quota(uow: UnitOfWork, cmd: SetLinkQuota) -> str:
    links = branch_links(uow, cmd.branch)
    if cmd.group not in member_groups(uow, cmd.branch, [cmd.from_month]):
        raise LinkRefused(f"{cmd.from_month} 支部 {cmd.branch} 没有党小组 {cmd.group} 的党员", "group")
    links.set_quota(cmd.group, cmd.n, cmd.from_month, cmd.actor, cmd.key)
    return cmd.group
