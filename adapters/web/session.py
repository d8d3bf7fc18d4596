"""网页：登录与首页 (web pages: log-in, log-out, password, home).

Log-in: a password per user (argon2 hash outside the log, ``adapters/credentials.py``), a
server-side session in an HttpOnly, SameSite=Lax cookie; the log-in form itself carries a
one-off token in a SameSite=Strict cookie. Shared helpers: ``adapters/web/base.py``.
"""
from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters.credentials import SESSION_SECONDS, LoginThrottled, check_password
from adapters.web.base import COOKIE, LOGIN_COOKIE, back, flash, form_of, page, render, safe_next, web_of
from adapters.web.support import Visitor, latest_month
from domain.errors import InvalidInput, LedgerError, PermissionDenied
from domain.periods import quarter_of
from domain.service.application import UnitOfWork

router = APIRouter(include_in_schema=False)


# -- log-in, log-out, password -------------------------------------------------------------------
@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/web/", status_code=303)


def login_page(request: Request, status: int = 200, error: str | None = None, user: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, None, "login.html", status, login_csrf=token, error=error, user=user,
                      next=safe_next(request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=web_of(request).secure_cookie,
                        path="/web/login", max_age=3600)
    return response


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (``ledger serve`` behind a proxy on the
    same host: uvicorn takes it from ``X-Forwarded-For``)."""
    return None if request.client is None else request.client.host


@router.get("/web/login")
def login_form(request: Request) -> HTMLResponse:
    return login_page(request)


@router.post("/web/login")
async def login(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    user, password = str(form.get("user", "")).strip(), str(form.get("password", ""))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(str(form.get("login_csrf", "")), expected):
        return login_page(request, 403, "登录表单已过期，请重新输入", user)
    try:
        ok = await run_in_threadpool(web.credentials.verify, user, password, client_address(request))
    except LoginThrottled as e:
        error = PermissionDenied(f"登录失败次数过多，请 {e.seconds} 秒后再试", "password")
        await run_in_threadpool(web.service.ledger._refused, user[:100] or None, "web login", error)
        response = login_page(request, 429, error.reason, user)
        response.headers["Retry-After"] = str(e.seconds)
        return response
    known = ok and await run_in_threadpool(lambda: user in UnitOfWork(web.service.ledger).access().users)
    if not known:
        error = PermissionDenied("用户名或密码错误", "password")
        await run_in_threadpool(web.service.ledger._refused, user[:100] or None, "web login", error)
        return login_page(request, 401, error.reason, user)
    token = await run_in_threadpool(web.credentials.open_session, user)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=web.secure_cookie, path="/",
                        max_age=SESSION_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path="/web/login")
    return response


@router.post("/web/logout")
async def logout(request: Request) -> Response:
    visitor, _ = await form_of(request)
    await run_in_threadpool(web_of(request).credentials.close_session, visitor.session)
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/web/password")
def password_form(request: Request) -> Response:
    return page(request, "password.html", lambda v: {})


@router.post("/web/password")
async def password_change(request: Request) -> Response:
    credentials = web_of(request).credentials
    visitor, form = await form_of(request)
    old, new, again = (str(form.get(k, "")) for k in ("old", "new", "again"))
    try:
        if new != again:
            raise InvalidInput("两次输入的新密码不一致", "again")
        check_password(new)
        if not await run_in_threadpool(credentials.verify, visitor.user, old, client_address(request)):
            raise PermissionDenied("原密码不正确", "old")
    except LoginThrottled as e:
        await run_in_threadpool(flash, request, visitor, "error", f"输错密码次数过多，请 {e.seconds} 秒后再试")
        return back(form, "/web/password")
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field)
        return back(form, "/web/password")
    await run_in_threadpool(credentials.set_password, visitor.user, new)  # ends every session
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- home -------------------------------------------------------------------------------------------
@router.get("/web/")
def home(request: Request) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        month = latest_month(web_of(request).service.engine)
        return {"month": month, "quarter": quarter_of(month), "year": month[:4]}
    return page(request, "home.html", build)
