"""HTTP 读取：用户 (directory reads): users, their roles and tokens, and the security log
(refused operations) — for an admin or the auditor.

Shared helpers: ``adapters/http/reads.py``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from adapters.http.deps import Caller, LedgerJSON, authenticated, reply, service_of
from adapters.http.reads import allow, iso
from domain.errors import PermissionDenied
from domain.service.permissions import may_read_directory

router = APIRouter(tags=["读取"])


def directory(request: Request, caller: Caller) -> None:
    def check() -> None:
        if not may_read_directory(caller.roles):
            raise PermissionDenied("无权查看用户与角色：需要 admin 或 auditor", None)
    allow(request, caller, check)


@router.get("/users", tags=["用户"], summary="用户、角色与令牌（不含令牌本身与其哈希）")
def users(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from domain.access.users import now_us
    from domain.ids import organization_id
    from domain.service.application import UnitOfWork
    from domain.service.permissions import roles_of
    directory(request, caller)
    service = service_of(request)

    def read() -> list[dict[str, Any]]:
        uow = UnitOfWork(service.ledger)
        access, org = uow.access(), uow.find(organization_id(), for_update=False)
        at = now_us()
        tokens: dict[str, list[dict[str, Any]]] = {}
        for t in access.tokens.values():
            tokens.setdefault(t["user"], []).append({"token_id": t["token_id"], "revoked": t["revoked"]})
        return [{"user": u, "name": d["name"], "roles": sorted(roles_of(access, org, u, at)),
                 "grants": {r: [{"from": iso(a), "until": None if b is None else iso(b)} for a, b in spans]
                            for r, spans in sorted(d["grants"].items())},
                 "tokens": tokens.get(u, [])} for u, d in sorted(access.users.items())]
    return reply({"users": service.locked(read)})


@router.get("/security-log", tags=["用户"], summary="安全日志：被拒绝的操作（ledger user refusals）")
def security_log(request: Request, user: str | None = None, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    directory(request, caller)
    rows = service_of(request).ledger.security_log.rows(user)  # type: ignore[union-attr]
    return reply({"refusals": [{**r, "at": iso(r["at_us"])} for r in rows]})

