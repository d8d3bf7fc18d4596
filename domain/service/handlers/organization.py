"""The organization's commands (组织): branches, their member counts and secretaries, rulebook
versions. Plain functions ``(uow, cmd)`` registered with :func:`~domain.service.handlers.handles`.
"""
from __future__ import annotations

from domain import commands as c
from domain.access.users import now_us
from domain.errors import SeparationOfDuties, UserRefused
from domain.service.handlers import handles
from domain.service.unit_of_work import UnitOfWork


@handles(c.RegisterBranch)
def register_branch(uow: UnitOfWork, cmd: c.RegisterBranch) -> str:
    uow.organization(for_update=True).register_branch(
        code=cmd.code, name=cmd.name, members=cmd.members, from_month=cmd.from_month,
        actor=cmd.actor, key=cmd.key)
    return cmd.code


@handles(c.SetMembers)
def set_members(uow: UnitOfWork, cmd: c.SetMembers) -> str:
    uow.organization(for_update=True).set_members(
        branch=cmd.branch, members=cmd.members, from_month=cmd.from_month,
        actor=cmd.actor, key=cmd.key)
    return cmd.branch


@handles(c.AppointSecretary)
def appoint_secretary(uow: UnitOfWork, cmd: c.AppointSecretary) -> str:
    auth = uow.auth
    if cmd.user is not None and auth is not None and not auth.migrated:
        access = uow.access()
        if cmd.user not in access.users:
            raise UserRefused(f"用户 {cmd.user!r} 未登记：请先由系统管理员创建", "user")
        if cmd.user == auth.user:
            raise SeparationOfDuties("登记员不能任命自己为支部书记", "user")
        if access.holds(cmd.user, "admin", now_us()):
            raise SeparationOfDuties("系统管理员不能兼任支部书记", "user")
    uow.organization(for_update=True).appoint_secretary(
        branch=cmd.branch, name=cmd.name, user=cmd.user, mode=cmd.mode,
        allowance=cmd.allowance, from_month=cmd.from_month, actor=cmd.actor, key=cmd.key)
    return cmd.branch


@handles(c.AdoptRulebook)
def adopt_rulebook(uow: UnitOfWork, cmd: c.AdoptRulebook) -> int:
    uow.organization(for_update=True).adopt_version(
        cmd.version, cmd.from_month, cmd.parameters, cmd.actor, cmd.key)
    return cmd.version
