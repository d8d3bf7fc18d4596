"""网页：系统管理员 (web pages: the admin): users, their roles and tokens (``GET /users``),
creating a user, granting and revoking roles, issuing a token (shown once, on the page that
issued it — never kept), revoking one, setting a log-in password (outside the log, as
``ledger user password``), and the security log (``GET /security-log``). The auditor reads
these pages too; only the admin's forms write.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.credentials import check_password
from adapters.web.base import back, flash, form_of, page, read, render, web_of
from adapters.web.forms import Field, Form, register
from adapters.web.support import Visitor
from domain import vocabulary
from domain.errors import InvalidInput, LedgerError

router = APIRouter(include_in_schema=False)

register(
    Form("create_user", (Field("user", label="用户名（字母、数字、_ . @ -）"), Field("name", label="姓名")), "用户 {} 已创建"),
    Form("grant_role", (Field("user", kind="select", options="users"), Field("role", kind="select", options="roles")),
         "已授予角色"),
    Form("revoke_role", (Field("user", kind="select", options="users"), Field("role", kind="select", options="roles")),
         "已撤销角色", confirm="撤销后该用户立即失去此角色，确定撤销？"),
    Form("revoke_token", (Field("token_id"),), "令牌已吊销", confirm="吊销后使用此令牌的程序将无法访问，确定吊销？"),
)


def role_options() -> tuple[tuple[str, str], ...]:
    """Every role an admin may grant (secretaries follow appointments, never a grant)."""
    fixed = [(r, vocabulary.role_name(r)) for r in vocabulary.ROLES]
    scorers = [(f"scorer:{d}", vocabulary.role_name(f"scorer:{d}")) for d in vocabulary.DEPARTMENTS]
    return tuple(scorers + fixed)


@router.get("/web/admin")
def admin(request: Request) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        users = read("/users", request, v)["users"]
        return {"users": users, "issued": None,
                "options": {"users": tuple((u["user"], f"{u['user']} {u['name']}") for u in users),
                            "roles": role_options()}}
    return page(request, "admin.html", build)


@router.get("/web/admin/security")
def security(request: Request, user: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        rows = read("/security-log", request, v, user=user or None)["refusals"]
        return {"rows": list(reversed(rows))[:500], "total": len(rows), "user": user}
    return page(request, "admin_security.html", build)


@router.post("/web/admin/token")
async def issue_token(request: Request) -> Response:
    """Issue a token and show it once, on this page (it is not kept anywhere but as its hash)."""
    visitor, form = await form_of(request)
    user = str(form.get("user") or "").strip()
    from adapters.http.deps import command_of  # as adapters.web.base.send, but the result is shown here
    try:
        command = command_of("issue_token", {"user": user, "actor": visitor.name}, visitor.caller, None)
        issued = await run_in_threadpool(web_of(request).service.execute, command, visitor.user)
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field)
        return back(form, "/web/admin")

    def build() -> Response:
        users = read("/users", request, visitor)["users"]
        return render(request, visitor, "admin.html", users=users, issued={"user": user, **issued},
                      options={"users": tuple((u["user"], f"{u['user']} {u['name']}") for u in users),
                               "roles": role_options()})
    return await run_in_threadpool(build)


@router.post("/web/admin/password")
async def set_password(request: Request) -> Response:
    """Set a user's log-in password (admin only; a refusal is in the security log). The
    password's hash is kept outside the log; the user's sessions end."""
    visitor, form = await form_of(request)
    web = web_of(request)
    user, new, again = (str(form.get(k) or "") for k in ("user", "new", "again"))

    def run() -> None:
        web.service.locked(lambda: web.service.ledger.require_role(visitor.user, "admin", "设置登录密码"))
        if user not in {u["user"] for u in read("/users", request, visitor)["users"]}:
            raise InvalidInput(f"用户 {user!r} 未登记", "user")
        if new != again:
            raise InvalidInput("两次输入的新密码不一致", "again")
        check_password(new)
        web.credentials.set_password(user, new)
    try:
        await run_in_threadpool(run)
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field,
                                {"form": "form-password", "values": {"user": user}})
        return back(form, "/web/admin")
    await run_in_threadpool(flash, request, visitor, "ok", f"用户 {user} 的登录密码已设置（其已登录的网页会话已结束）")
    return back(form, "/web/admin")
