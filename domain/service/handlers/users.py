"""The handlers of ``domain/access/users.py`` (the user directory): plain functions ``(uow, cmd)``."""
from __future__ import annotations

from domain.access.users import (
    Access,
    CreateUser,
    GrantRole,
    IssueToken,
    RevokeRole,
    RevokeToken,
    check_role,
    new_token,
    now_us,
    token_hash,
)
from domain.errors import UserRefused
from domain.ids import access_id
from domain.service.handlers import handles
from domain.service.unit_of_work import UnitOfWork


def directory(uow: UnitOfWork, for_update: bool = False) -> Access:
    found = uow.find_as(Access, access_id(), for_update=for_update)
    if found is None:
        if not for_update:
            return Access()  # an empty directory, never saved from a read
        found = Access()
        uow.add(found)
    return found


def _not_self(uow: UnitOfWork, user: str) -> None:
    if uow.auth is not None and uow.auth.user == user:
        raise UserRefused("管理员不能给自己授予或撤销角色", "user")


@handles(CreateUser)
def create_user(uow: UnitOfWork, cmd: CreateUser) -> str:
    directory(uow, for_update=True).create_user(cmd.user, cmd.name, cmd.actor, cmd.key)
    return cmd.user


@handles(GrantRole)
def grant_role(uow: UnitOfWork, cmd: GrantRole) -> str:
    _not_self(uow, cmd.user)
    directory(uow, for_update=True).grant(cmd.user, check_role(cmd.role), cmd.effective or now_us(),
                                          cmd.actor, cmd.key)
    return cmd.user


@handles(RevokeRole)
def revoke_role(uow: UnitOfWork, cmd: RevokeRole) -> str:
    _not_self(uow, cmd.user)
    directory(uow, for_update=True).revoke(cmd.user, cmd.role, cmd.effective or now_us(), cmd.actor, cmd.key)
    return cmd.user


@handles(IssueToken)
def issue_token(uow: UnitOfWork, cmd: IssueToken) -> dict[str, str]:
    token = new_token()
    token_id = token_hash(token)[:12]
    directory(uow, for_update=True).issue_token(cmd.user, token_hash(token), token_id, cmd.actor)
    return {"token_id": token_id, "token": token}


@handles(RevokeToken)
def revoke_token(uow: UnitOfWork, cmd: RevokeToken) -> str:
    directory(uow, for_update=True).revoke_token(cmd.token_id, cmd.actor, cmd.key)
    return cmd.token_id
