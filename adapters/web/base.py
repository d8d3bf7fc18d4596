"""What every web page module uses: the per-application state, who is visiting, rendering,
forms (CSRF) and sending a command as the visitor.

``mount_web`` (``adapters/web/app.py``) puts a :class:`WebState` on ``app.state.web``; the page
routers (``adapters/web/*.py``) reach it, and the API's ``Service``, through the request.
"""
from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.credentials import Credentials
from adapters.exports.workbooks import XLSX
from adapters.http.deps import Caller, Service, command_of
from adapters.http.errors import status_of
from adapters.web.support import Api, Visitor, latest_month
from domain.access.users import now_us
from domain.asof import AsOf, replay_point
from domain.errors import LedgerError, PermissionDenied
from domain.ids import organization_id
from domain.service.application import UnitOfWork
from domain.service.permissions import roles_of

COOKIE, LOGIN_COOKIE = "ledger_session", "ledger_login"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class WebState:
    """What the pages of one application share: the API's service (one ledger, one lock),
    the passwords and sessions, the in-process API, the templates, the cookie setting."""

    service: Service
    credentials: Credentials
    api: Api
    templates: Jinja2Templates
    secure_cookie: bool


def web_of(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


class LoginRequired(Exception):
    """No live session: the visitor goes to the log-in page (and back after it)."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


class Refused(Exception):
    """A refusal shown as the error page (a failed CSRF check, an unknown action)."""

    def __init__(self, error: LedgerError) -> None:
        super().__init__(error.reason)
        self.error = error


def safe_next(value: Any, default: str = "/web/") -> str:
    """A local page to return to (never another site: no scheme, no ``//``)."""
    text = str(value or "")
    if text.startswith("/web/") and "//" not in text and "\\" not in text and "\n" not in text:
        return text
    return default


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def xlsx(body: bytes, name: str) -> Response:
    """An Excel workbook to download as ``name``."""
    return secure(Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}))


def shift(month: str, by: int) -> str:
    year, m = int(month[:4]), int(month[5:]) - 1 + by
    return f"{year + m // 12:04d}-{m % 12 + 1:02d}"


def shift_quarter(quarter: str, by: int) -> str:
    year, q = int(quarter[:4]), int(quarter[5]) - 1 + by
    return f"{year + q // 4}Q{q % 4 + 1}"


# -- who is visiting ---------------------------------------------------------------------------
def visitor_of(request: Request) -> Visitor | None:
    """The logged-in user of the session cookie (None: no live session, or no such user)."""
    web = web_of(request)
    session = web.credentials.session(request.cookies.get(COOKIE))
    if session is None:
        return None

    def look() -> Visitor | None:
        uow = UnitOfWork(web.service.ledger)
        access = uow.access()
        if session.user not in access.users:
            return None
        org = uow.find(organization_id(), for_update=False)
        caller = Caller(session.user, roles_of(access, org, session.user, now_us()))
        return Visitor(caller, access.users[session.user]["name"], session)
    return web.service.locked(look)


def require(request: Request) -> Visitor:
    visitor = visitor_of(request)
    if visitor is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(safe_next(back))
    return visitor


def flash(request: Request, visitor: Visitor, kind: str, text: str, field: str | None = None,
          kept: dict[str, Any] | None = None) -> None:
    """Leave a message for the visitor's next page; ``kept``: a refused form's id and what
    was typed (``{"form": id, "values": {...}}``), dropped if too long to keep."""
    message = {"kind": kind, "text": text, "field": field}
    text_ = json.dumps({**message, **(kept or {})}, ensure_ascii=False)
    if len(text_) > 3900:  # the session row keeps 4,000 characters
        text_ = json.dumps(message, ensure_ascii=False)
    web_of(request).credentials.set_flash(visitor.session, text_)


# -- pages ---------------------------------------------------------------------------------------
def render(request: Request, visitor: Visitor | None, template: str, status: int = 200,
           **context: Any) -> HTMLResponse:
    web = web_of(request)
    message = web.credentials.pop_flash(visitor.session) if visitor is not None else None
    response = web.templates.TemplateResponse(request, template, {
        "v": visitor, "flash": json.loads(message) if message else None,
        "csrf": visitor.session.csrf if visitor is not None else None,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "new_key": lambda: f"web/{uuid.uuid4()}",
        "nav_month": latest_month(web.service.engine) if visitor is not None else None, **context},
        status_code=status)
    return secure(response)  # type: ignore[return-value]


def error_page(request: Request, visitor: Visitor | None, error: LedgerError) -> HTMLResponse:
    """The error page with the API's status code and the refusal's Chinese reason."""
    return render(request, visitor, "error.html", status_of(error), error=error, kind=type(error).__name__)


def page(request: Request, template: str, build: Callable[[Visitor], dict[str, Any]]) -> Response:
    """Render ``template`` with what ``build`` reads; a refusal or bad input becomes the
    error page with the API's status code and the Chinese reason."""
    visitor = require(request)
    try:
        context = build(visitor)
    except LedgerError as e:
        return error_page(request, visitor, e)
    return render(request, visitor, template, **context)


def read(path: str, request: Request, visitor: Visitor, **params: Any) -> Any:
    """``GET path`` of the API, run in-process as the visitor (``adapters.web.support.Api``)."""
    return web_of(request).api.get(path, request, visitor.caller, **params)


def replay_of(as_of: str | None, documented_by: str | None = None) -> AsOf | None:
    """The replay a page was asked for (an empty form field: not asked); both given, or a
    moment that does not parse, is :class:`InvalidInput` naming the field."""
    return replay_point(as_of or None, documented_by or None)


def replay_query(point: AsOf | None) -> str:
    """The query string that asks a linked page for the same replay ('' for now)."""
    if point is None:
        return ""
    return urlencode({"documented_by" if point.by_document else "as_of": point.text})


# -- forms ---------------------------------------------------------------------------------------
async def form_of(request: Request) -> tuple[Visitor, FormData]:
    """The visitor and their form, after the CSRF check (a mismatch: 403, logged)."""
    visitor = await run_in_threadpool(require, request)
    form = await request.form()
    if not secrets.compare_digest(str(form.get("csrf", "")), visitor.session.csrf):
        error = PermissionDenied("表单已过期或来源不明（CSRF 校验失败）：请刷新页面后重试", "csrf")
        await run_in_threadpool(web_of(request).service.ledger._refused, visitor.user, f"POST {request.url.path}",
                                error)
        raise Refused(error)
    return visitor, form


async def send(request: Request, visitor: Visitor, op: str, fields: dict[str, Any],
               success: Callable[[Any], str], kept: dict[str, Any] | None = None) -> bool:
    """Validate and execute one command as the visitor (as ``POST /commands/{op}``);
    leave the outcome — or the refusal's reason, with ``kept`` (the form as typed) — for the
    next page."""
    try:
        data = {k: v for k, v in fields.items() if v not in (None, "")}
        data.setdefault("actor", visitor.name)
        command = command_of(op, data, visitor.caller, None)
        result, warnings = await run_in_threadpool(web_of(request).service.execute_noting, command, visitor.user)
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field, kept)
        return False
    text = "此表单已提交过，未重复记录" if result is None and command.key else success(result)
    if warnings:
        text += "。注意：" + "；".join(w["message"] for w in warnings)
    await run_in_threadpool(flash, request, visitor, "ok", text)
    return True


def back(form: FormData, default: str = "/web/") -> RedirectResponse:
    return RedirectResponse(safe_next(form.get("next"), default), status_code=303)


# -- exception handlers (installed by mount_web) ----------------------------------------------------
async def login_required(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse("/web/login?" + urlencode({"next": exc.back}), status_code=303)


async def refused(request: Request, exc: Refused) -> Response:
    visitor = await run_in_threadpool(visitor_of, request)
    return error_page(request, visitor, exc.error)
