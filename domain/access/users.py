"""Identities and roles (用户与角色): users, role grants and revocations, API tokens.

One ``Access`` aggregate is the directory: it guards that a user id is created once, that a
role is granted only if not already held and revoked only if held, and that a token is
issued once and revoked once. Grants and revocations carry an effective time (UTC µs).
Branch secretaries are not granted here: ``secretary:<branch>`` follows the organization's
appointments (``appoint_secretary``'s ``user``), see ``domain/service/permissions.py``.

Tokens are stored as SHA-256 hashes (a token is 32 random bytes, so its hash reveals
nothing); the token itself is shown once, to the admin who issued it.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import BeforeValidator, Field

from domain import commands as c
from domain import vocabulary
from domain.errors import InvalidInput, UserRefused
from domain.ids import access_id

FIXED_ROLES = vocabulary.ROLE_DUTIES  # role → who holds it (Chinese; domain/vocabulary.py)
SCORER_DEPARTMENTS = tuple(vocabulary.DEPARTMENTS)  # party_mass, discipline_inspection, office


USER_ID = r"^[A-Za-z0-9_.@-]{1,64}$"


def check_role(role: str) -> str:
    """A valid role name: a fixed role, ``scorer:<department>`` or ``secretary:<branch>``
    (the last is derived from appointments, never granted)."""
    kind, _, arg = role.partition(":")
    if role in FIXED_ROLES or (kind == "scorer" and arg in SCORER_DEPARTMENTS):
        return role
    if kind == "secretary":
        raise InvalidInput("支部书记角色随任命（appoint_secretary 的 user）自动授予，不能单独授予", "role")
    raise InvalidInput(f"未知角色 {role!r}，应为 {', '.join(FIXED_ROLES)} 或 scorer:<部门>", "role")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Access(Aggregate):
    """``users[id] = {"name", "grants": {role: [[from_us, until_us | None], …]}}``;
    ``tokens[hash] = {"user", "token_id", "revoked"}``."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return access_id()

    @event("Opened")
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}

    def user(self, user: str) -> dict[str, Any]:
        try:
            return self.users[user]
        except KeyError:
            raise UserRefused(f"用户 {user!r} 未登记", "user") from None

    def create_user(self, user: str, name: str, actor: str, key: str | None) -> None:
        if user in self.users:
            raise UserRefused(f"用户 {user!r} 已存在", "user")
        self._add_user(user=user, name=name, actor=actor, key=key)

    @event("UserCreated")
    def _add_user(self, user: str, name: str, actor: str, key: str | None) -> None:
        self.users[user] = {"name": name, "grants": {}}

    def holds(self, user: str, role: str, at_us: int) -> bool:
        spans = self.users.get(user, {}).get("grants", {}).get(role, [])
        return any(start <= at_us and (end is None or at_us < end) for start, end in spans)

    def roles_at(self, user: str, at_us: int) -> set[str]:
        return {r for r in self.users.get(user, {}).get("grants", {}) if self.holds(user, r, at_us)}

    def grant(self, user: str, role: str, effective_us: int, actor: str, key: str | None) -> None:
        self.user(user)
        spans = self.users[user]["grants"].get(role, [])
        if spans and spans[-1][1] is None:
            raise UserRefused(f"用户 {user!r} 已有角色 {role}", "role")
        if spans and effective_us < spans[-1][1]:
            raise UserRefused("授予时间不能早于上次撤销时间", "effective")
        self._grant(user=user, role=role, effective_us=effective_us, actor=actor, key=key)

    @event("RoleGranted")
    def _grant(self, user: str, role: str, effective_us: int, actor: str, key: str | None) -> None:
        self.users[user]["grants"].setdefault(role, []).append([effective_us, None])

    def revoke(self, user: str, role: str, effective_us: int, actor: str, key: str | None) -> None:
        spans = self.user(user)["grants"].get(role, [])
        if not spans or spans[-1][1] is not None:
            raise UserRefused(f"用户 {user!r} 没有角色 {role}", "role")
        if effective_us < spans[-1][0]:
            raise UserRefused("撤销时间不能早于授予时间", "effective")
        self._revoke(user=user, role=role, effective_us=effective_us, actor=actor, key=key)

    @event("RoleRevoked")
    def _revoke(self, user: str, role: str, effective_us: int, actor: str, key: str | None) -> None:
        self.users[user]["grants"][role][-1][1] = effective_us

    def issue_token(self, user: str, hashed: str, token_id: str, actor: str) -> None:
        self.user(user)
        if hashed in self.tokens:
            raise UserRefused("令牌重复", "token")
        self._issue(user=user, token_hash=hashed, token_id=token_id, actor=actor)

    @event("TokenIssued")
    def _issue(self, user: str, token_hash: str, token_id: str, actor: str) -> None:
        self.tokens[token_hash] = {"user": user, "token_id": token_id, "revoked": False}

    def revoke_token(self, token_id: str, actor: str, key: str | None) -> None:
        found = [h for h, t in self.tokens.items() if t["token_id"] == token_id and not t["revoked"]]
        if not found:
            raise UserRefused(f"没有有效的令牌 {token_id!r}", "token_id")
        self._revoke_token(token_hash=found[0], token_id=token_id, actor=actor, key=key)

    @event("TokenRevoked")
    def _revoke_token(self, token_hash: str, token_id: str, actor: str, key: str | None) -> None:
        self.tokens[token_hash]["revoked"] = True

    def user_of_token(self, token: str) -> str | None:
        found = self.tokens.get(token_hash(token))
        return None if found is None or found["revoked"] else found["user"]


def _effective(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("应为 ISO 8601 时间（带时区）")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"不是有效的时间：{value!r}") from None
    if moment.tzinfo is None:
        raise ValueError("时间须带时区（如 Z 或 +08:00）")
    return int(moment.astimezone(timezone.utc).timestamp() * 1_000_000)


def now_us() -> int:
    return int(datetime.now(timezone.utc).timestamp() * 1_000_000)


Effective = Annotated[int | None, BeforeValidator(_effective)]


# -- commands ------------------------------------------------------------------------------
class CreateUser(c.Command):
    op: Literal["create_user"] = "create_user"
    roles = ("admin",)
    user: Annotated[str, Field(pattern=USER_ID)]  # letters, digits, _ . @ -; at most 64
    name: c.Text
    actor: c.Text


class GrantRole(c.Command):
    op: Literal["grant_role"] = "grant_role"
    roles = ("admin",)
    user: c.Text
    role: c.Text
    effective: Effective = None  # ISO 8601 with zone; None: now
    actor: c.Text


class RevokeRole(c.Command):
    op: Literal["revoke_role"] = "revoke_role"
    roles = ("admin",)
    user: c.Text
    role: c.Text
    effective: Effective = None
    actor: c.Text


class IssueToken(c.Command):
    """An API token for ``user``; the handler returns ``{"token_id", "token"}`` (shown once)."""
    op: Literal["issue_token"] = "issue_token"
    roles = ("admin",)
    user: c.Text
    actor: c.Text


class RevokeToken(c.Command):
    op: Literal["revoke_token"] = "revoke_token"
    roles = ("admin",)
    token_id: c.Text
    actor: c.Text
