"""网页界面 (web pages): server-rendered Chinese pages on the HTTP API's own application.

``mount_web(app, service)`` (called by ``adapters.http.create_app``) adds ``/web/…`` to the
API's FastAPI app: the same process, the same ``Service`` (one ledger, one lock), the
same permission check. Pages read by calling the API's endpoint functions in-process as
the logged-in user (``adapters.web_support.Api``) and write with ``command_of`` +
``Service.execute`` as ``POST /commands/{op}`` does — there is no second path to the data.

Log-in: a password per user (argon2 hash outside the log, ``adapters/credentials.py``),
a server-side session in an HttpOnly, SameSite=Lax cookie, a CSRF token per session in
every form. Every form is post-redirect-get: the page after it shows what happened — or
the refusal's Chinese reason (``LedgerError.reason``); a command is one transaction, so a
refused one wrote nothing. Templates: ``adapters/templates``; CSS and a small script:
``adapters/static`` (nothing is fetched from elsewhere; the pages work without the script).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.charts import bar_chart, line_chart, rank_chart
from adapters.credentials import SESSION_SECONDS, Credentials, LoginLocked, check_password
from adapters.exports import EXPORTS, XLSX, filter_history, history_workbook, workbook_bytes
from adapters.http import Caller, Service, command_of, status_of
from adapters.web_support import FILTERS, Api, Visitor, latest_month, quarters_of
from domain.access import now_us
from domain.application import UnitOfWork
from domain.asof import parse_as_of
from domain.errors import InvalidInput, LedgerError, PermissionDenied
from domain.ids import organization_id
from domain.periods import check_month, check_quarter, check_year, month_range, quarter_months, quarter_of
from domain.permissions import roles_of
from domain.rulebook import CATEGORY_NAMES, DEPARTMENT_NAMES

HERE = Path(__file__).resolve().parent
COOKIE, LOGIN_COOKIE = "ledger_session", "ledger_login"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class LoginRequired(Exception):
    """No live session: the visitor goes to the log-in page (and back after it)."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


def _safe_next(value: Any, default: str = "/web/") -> str:
    """A local page to return to (never another site: no scheme, no ``//``)."""
    text = str(value or "")
    if text.startswith("/web/") and "//" not in text and "\\" not in text and "\n" not in text:
        return text
    return default


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def mount_web(app: FastAPI, service: Service) -> None:
    """Add the pages (``/web/…``), their static files and ``/`` → ``/web/``."""
    credentials = Credentials(service.engine)
    api = Api(app)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(FILTERS)
    templates.env.globals.update(CATEGORY_NAMES=CATEGORY_NAMES, DEPARTMENT_NAMES=DEPARTMENT_NAMES,
                                 quote=quote, urlencode=urlencode)
    secure_cookie = os.environ.get("LEDGER_WEB_SECURE_COOKIE") == "1"
    app.mount("/web/static", StaticFiles(directory=str(HERE / "static")), name="web-static")
    router = APIRouter(include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/web/login?" + urlencode({"next": exc.back}), status_code=303)

    # -- who is visiting ---------------------------------------------------------------------------
    def visitor_of(request: Request) -> Visitor | None:
        session = credentials.session(request.cookies.get(COOKIE))
        if session is None:
            return None

        def look() -> Visitor | None:
            uow = UnitOfWork(service.ledger)
            access = uow.access()
            if session.user not in access.users:
                return None
            org = uow.find(organization_id(), for_update=False)
            caller = Caller(session.user, roles_of(access, org, session.user, now_us()))
            return Visitor(caller, access.users[session.user]["name"], session)
        return service.locked(look)

    def require(request: Request) -> Visitor:
        visitor = visitor_of(request)
        if visitor is None:
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(_safe_next(back))
        return visitor

    def flash(visitor: Visitor, kind: str, text: str, field: str | None = None) -> None:
        credentials.set_flash(visitor.session, json.dumps({"kind": kind, "text": text, "field": field},
                                                          ensure_ascii=False))

    def render(request: Request, visitor: Visitor | None, template: str, status: int = 200,
               **context: Any) -> HTMLResponse:
        message = credentials.pop_flash(visitor.session) if visitor is not None else None
        response = templates.TemplateResponse(request, template, {
            "v": visitor, "flash": json.loads(message) if message else None,
            "csrf": visitor.session.csrf if visitor is not None else None,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "new_key": lambda: f"web/{uuid.uuid4()}",
            "nav_month": latest_month(service.engine) if visitor is not None else None, **context}, status_code=status)
        return _secure(response)  # type: ignore[return-value]

    def page(request: Request, template: str, build: Callable[[Visitor], dict[str, Any]]) -> Response:
        """Render ``template`` with what ``build`` reads; a refusal or bad input becomes the
        error page with the API's status code and the Chinese reason."""
        visitor = require(request)
        try:
            context = build(visitor)
        except LedgerError as e:
            return render(request, visitor, "error.html", status_of(e), error=e, kind=type(e).__name__)
        return render(request, visitor, template, **context)

    def read(path: str, request: Request, visitor: Visitor, **params: Any) -> Any:
        return api.get(path, request, visitor.caller, **params)

    def as_of_param(value: str | None) -> str | None:
        if not value:
            return None
        parse_as_of(value)  # InvalidInput names the field
        return value

    async def form_of(request: Request) -> tuple[Visitor, FormData]:
        """The visitor and their form, after the CSRF check (a mismatch: 403, logged)."""
        visitor = await run_in_threadpool(require, request)
        form = await request.form()
        if not secrets.compare_digest(str(form.get("csrf", "")), visitor.session.csrf):
            error = PermissionDenied("表单已过期或来源不明（CSRF 校验失败）：请刷新页面后重试", "csrf")
            await run_in_threadpool(service.ledger._refused, visitor.user, f"POST {request.url.path}", error)
            raise _Refused(error)
        return visitor, form

    async def send(visitor: Visitor, op: str, fields: dict[str, Any], success: Callable[[Any], str]) -> bool:
        """Validate and execute one command as the visitor (as ``POST /commands/{op}``);
        leave the outcome — or the refusal's reason — for the next page."""
        try:
            data = {k: v for k, v in fields.items() if v not in (None, "")}
            data.setdefault("actor", visitor.name)
            command = command_of(op, data, visitor.caller, None)
            result = await run_in_threadpool(service.execute, command, visitor.user)
        except LedgerError as e:
            await run_in_threadpool(flash, visitor, "error", e.reason, e.field)
            return False
        text = "此表单已提交过，未重复记录" if result is None and command.key else success(result)
        await run_in_threadpool(flash, visitor, "ok", text)
        return True

    def back(form: FormData, default: str = "/web/") -> RedirectResponse:
        return RedirectResponse(_safe_next(form.get("next"), default), status_code=303)

    class _Refused(Exception):
        def __init__(self, error: LedgerError) -> None:
            super().__init__(error.reason)
            self.error = error

    @app.exception_handler(_Refused)
    async def _refused(request: Request, exc: _Refused) -> Response:
        visitor = await run_in_threadpool(visitor_of, request)
        return render(request, visitor, "error.html", status_of(exc.error), error=exc.error,
                      kind=type(exc.error).__name__)

    # -- log-in, log-out, password -------------------------------------------------------------------
    @router.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse("/web/", status_code=303)

    def login_page(request: Request, status: int = 200, error: str | None = None, user: str = "") -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = render(request, None, "login.html", status, login_csrf=token, error=error, user=user,
                          next=_safe_next(request.query_params.get("next")))
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie,
                            path="/web/login", max_age=3600)
        return response

    @router.get("/web/login")
    def login_form(request: Request) -> HTMLResponse:
        return login_page(request)

    @router.post("/web/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        user, password = str(form.get("user", "")).strip(), str(form.get("password", ""))
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(str(form.get("login_csrf", "")), expected):
            return login_page(request, 403, "登录表单已过期，请重新输入", user)
        try:
            ok = await run_in_threadpool(credentials.verify, user, password)
        except LoginLocked as e:
            error = PermissionDenied(f"连续输错密码次数过多，请 {e.seconds} 秒后再试", "password")
            await run_in_threadpool(service.ledger._refused, user[:100] or None, "web login", error)
            return login_page(request, 429, error.reason, user)
        known = ok and await run_in_threadpool(lambda: user in UnitOfWork(service.ledger).access().users)
        if not known:
            error = PermissionDenied("用户名或密码错误", "password")
            await run_in_threadpool(service.ledger._refused, user[:100] or None, "web login", error)
            return login_page(request, 401, error.reason, user)
        token = await run_in_threadpool(credentials.open_session, user)
        response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure_cookie, path="/",
                            max_age=SESSION_SECONDS)
        response.delete_cookie(LOGIN_COOKIE, path="/web/login")
        return response

    @router.post("/web/logout")
    async def logout(request: Request) -> Response:
        visitor, _ = await form_of(request)
        await run_in_threadpool(credentials.close_session, visitor.session)
        response = RedirectResponse("/web/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/web/password")
    def password_form(request: Request) -> Response:
        return page(request, "password.html", lambda v: {})

    @router.post("/web/password")
    async def password_change(request: Request) -> Response:
        visitor, form = await form_of(request)
        old, new, again = (str(form.get(k, "")) for k in ("old", "new", "again"))
        try:
            if new != again:
                raise InvalidInput("两次输入的新密码不一致", "again")
            check_password(new)
            if not await run_in_threadpool(credentials.verify, visitor.user, old):
                raise PermissionDenied("原密码不正确", "old")
        except LoginLocked as e:
            await run_in_threadpool(flash, visitor, "error", f"连续输错密码次数过多，请 {e.seconds} 秒后再试")
            return back(form, "/web/password")
        except LedgerError as e:
            await run_in_threadpool(flash, visitor, "error", e.reason, e.field)
            return back(form, "/web/password")
        await run_in_threadpool(credentials.set_password, visitor.user, new)  # ends every session
        response = RedirectResponse("/web/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- home -------------------------------------------------------------------------------------------
    @router.get("/web/")
    def home(request: Request) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            month = latest_month(service.engine)
            return {"month": month, "quarter": quarter_of(month), "year": month[:4]}
        return page(request, "home.html", build)

    # -- branch secretary: my branch -------------------------------------------------------------------------
    @router.get("/web/branch/{code}")
    def branch_page(code: str, request: Request, month: str | None = None) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            m = check_month(month, "month") if month else latest_month(service.engine)
            q = quarter_of(m)
            try:
                quarter = read("/explain/quarter/{period}", request, v, period=q, branch=code)
                explained = next(x for x in quarter["months"] if x["period"] == m)
            except LedgerError as e:
                if type(e).__name__ != "BranchNotFound":
                    raise
                quarter, explained = None, read("/explain/month/{period}", request, v, period=m, branch=code)
            appeals = read("/appeals", request, v, branch=code)["appeals"]
            by_entry: dict[str, list[dict[str, Any]]] = {}
            for a in appeals:
                by_entry.setdefault(a["entry_id"], []).append(a)
            months = month_range(f"{m[:4]}-01", int(m[5:]))
            scores = []  # months submitted or approved, and the month shown (a draft one: as it stands)
            for mm in months:
                data = read("/month/{period}", request, v, period=mm)
                row = next((r for r in data["branches"] if r["branch"] == code), None)
                scores.append(row["score"] if row and (data["status"] != "draft" or mm == m) else None)
            trend = line_chart(f"{code} {m[:4]} 年月度得分", [f"{int(x[5:])}月" for x in months], scores,
                               [f"/web/explain/month/{x}?branch={quote(code)}" for x in months], 100, "基础分 100")
            by_category: dict[str, Any] = {}
            source = quarter["months"] if quarter else [explained]
            for mon in source:
                for e in mon["entries"]:
                    if e["counted_points"].startswith("-"):
                        by_category[e["category"]] = by_category.get(e["category"], Decimal(0)) + Decimal(
                            e["counted_points"])
            bars = bar_chart(f"{q if quarter else m} 扣分来源（按类别，计入分值）",
                             [(CATEGORY_NAMES.get(k, k), v_, f"/web/explain/quarter/{q}?branch={quote(code)}")
                              for k, v_ in sorted(by_category.items(), key=lambda kv: kv[1])])
            return {"code": code, "month": m, "quarter_period": q, "quarter": quarter, "explained": explained,
                    "appeals": appeals, "by_entry": by_entry, "may_appeal": v.may_send("file_appeal", branch=code),
                    "trend": trend, "bars": bars, "prev": _shift(m, -1),
                    "next_month": _shift(m, 1)}
        return page(request, "branch.html", build)

    @router.post("/web/appeal")
    async def file_appeal(request: Request) -> Response:
        visitor, form = await form_of(request)
        await send(visitor, "file_appeal", {"entry_id": form.get("entry_id"), "branch": form.get("branch"),
                                            "reason": form.get("reason"), "key": form.get("key")},
                   lambda a: f"申诉已提交（申诉编号 {str(a)[:8]}…），可在“本支部申诉”中下载回执")
        return back(form)

    @router.post("/web/receipt/{position}")
    async def receipt(position: int, request: Request) -> Response:
        visitor, form = await form_of(request)
        try:
            bundle = await run_in_threadpool(api.call, "POST", "/receipts/{event}", request, visitor.caller,
                                             event=str(position))
        except LedgerError as e:
            await run_in_threadpool(flash, visitor, "error", e.reason, e.field)
            return back(form)
        body = json.dumps(bundle, ensure_ascii=False, indent=2).encode("utf-8")
        return _secure(Response(body, media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="receipt-{position}.json"'}))

    # -- scorers and the aggregator ------------------------------------------------------------------------------
    @router.get("/web/scoring")
    def scoring(request: Request, month: str | None = None) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            m = check_month(month, "month") if month else latest_month(service.engine)
            data = read("/month/{period}", request, v, period=m)
            entries = read("/entries", request, v, period=m)["entries"]
            rulebook = _rulebook_for(read("/rulebook", request, v)["versions"], m)
            departments = rulebook["parameters"]["departments"]
            mine = v.departments() if "migrator" not in v.roles else sorted(departments)
            counts: dict[str, dict[str, int]] = {}
            for e in entries:
                per = counts.setdefault(e["branch"], {})
                per[e["department"]] = per.get(e["department"], 0) + 1
            return {"month": m, "data": data, "entries": entries, "counts": counts, "departments": departments,
                    "mine": mine, "choices": [(d, cat) for d in mine for cat in departments.get(d, [])],
                    "done": sum(1 for b in data["branches"] if counts.get(b["branch"])),
                    "prev": _shift(m, -1), "next_month": _shift(m, 1)}
        return page(request, "scoring.html", build)

    @router.post("/web/score")
    async def record_score(request: Request) -> Response:
        visitor, form = await form_of(request)
        department, _, category = str(form.get("category", "")).partition("/")
        await send(visitor, "record_score", {
            "branch": form.get("branch"), "period": form.get("period"), "category": category,
            "department": department, "points": form.get("points"), "reason": form.get("reason"),
            "key": form.get("key")}, lambda e: f"已录入（条目编号 {str(e)[:8]}…）")
        return back(form)

    @router.post("/web/void")
    async def void_entry(request: Request) -> Response:
        visitor, form = await form_of(request)
        await send(visitor, "void_entry", {"entry_id": form.get("entry_id"), "reason": form.get("reason")},
                   lambda e: "条目已作废")
        return back(form)

    MONTH_ACTIONS = {"submit": ("submit_month", "已提交"), "approve": ("approve_month", "已审批封存"),
                     "return": ("return_month", "已退回草稿")}

    @router.post("/web/month/{period}/{action}")
    async def month_action(period: str, action: str, request: Request) -> Response:
        visitor, form = await form_of(request)
        op, done = MONTH_ACTIONS.get(action, ("", ""))
        if not op:
            raise _Refused(InvalidInput(f"未知操作 {action!r}", "action"))
        await send(visitor, op, {"period": period, "reason": form.get("reason")}, lambda _: f"{period} {done}")
        return back(form)

    @router.post("/web/quarter/{period}/{action}")
    async def quarter_action(period: str, action: str, request: Request) -> Response:
        visitor, form = await form_of(request)
        if action not in ("approve", "reapprove"):
            raise _Refused(InvalidInput(f"未知操作 {action!r}", "action"))
        await send(visitor, f"{action}_quarter", {"period": period, "reason": form.get("reason")},
                   lambda a: f"{period} 季度排名已{'重新' if action == 'reapprove' else ''}审批")
        return back(form)

    @router.post("/web/year/{period}/approve")
    async def year_approve(period: str, request: Request) -> Response:
        visitor, form = await form_of(request)
        await send(visitor, "approve_year", {"year": period}, lambda a: f"{period} 年度总评已审批")
        return back(form)

    # -- committee: approvals and appeals ----------------------------------------------------------------------------
    @router.get("/web/committee")
    def committee(request: Request, year: str | None = None) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            y = check_year(year) if year else latest_month(service.engine)[:4]
            months = [read("/month/{period}", request, v, period=m) for m in month_range(f"{y}-01", 12)]
            quarters = [read("/quarter/{period}", request, v, period=q) for q in quarters_of(y)]
            annual = read("/year/{period}", request, v, period=y)
            status = {m["period"]: m["status"] for m in months}
            appeals = read("/appeals", request, v)["appeals"]
            pending = []
            for a in (a for a in appeals if a["status"] == "open"):
                entry = next((e for e in read("/entries", request, v, period=a["period"], branch=a["branch"])["entries"]
                              if e["entry_id"] == a["entry_id"]), None)
                whatif = read("/quarter/{period}/whatif", request, v, period=quarter_of(a["period"]),
                              set_=[f"{a['entry_id']}=0"])
                pending.append({"appeal": a, "entry": entry, "quarter": quarter_of(a["period"]),
                                "moves": [b for b in whatif["branches"] if b["moves"]]})
            decided = [a for a in appeals if a["status"] != "open"][-20:]
            return {"year": y, "months": months, "quarters": quarters, "annual": annual, "pending": pending,
                    "decided": decided, "months_status": status,
                    "ready": {q["period"]: all(status.get(m) == "approved" for m in quarter_months(q["period"]))
                              for q in quarters},
                    "changed": {q["period"]: any(b.get("changed_since_approval") for b in q["branches"])
                                for q in quarters}}
        return page(request, "committee.html", build)

    @router.post("/web/decide")
    async def decide(request: Request) -> Response:
        visitor, form = await form_of(request)
        decision = str(form.get("decision", ""))
        await send(visitor, "decide_appeal", {
            "appeal_id": form.get("appeal_id"), "decision": decision, "reason": form.get("reason"),
            "points": form.get("points") if decision == "upheld" else None, "key": form.get("key")},
            lambda a: "已决定：申诉成立，已更正该条目" if decision == "upheld" else "已决定：申诉驳回")
        return back(form)

    # -- results: month, quarter, year (and print) --------------------------------------------------------------------
    @router.get("/web/month/{period}")
    def month_page(period: str, request: Request, as_of: str | None = None) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            data = read("/month/{period}", request, v, period=period, as_of=as_of_param(as_of))
            return {"data": data, "as_of": as_of or "", "prev": _shift(period, -1), "next_month": _shift(period, 1)}
        return page(request, "month.html", build)

    def checkpoint_block(request: Request, v: Visitor, approval: dict[str, Any] | None) -> dict[str, Any] | None:
        """The approval event's inclusion proof in the latest signed checkpoint, or None."""
        if not approval or approval.get("position") is None:
            return None
        try:
            bundle = read("/proofs/{event}", request, v, event=str(approval["position"]))
        except LedgerError:
            return None
        return {"position": approval["position"], "leaf_index": bundle["leaf_index"],
                "checkpoint": bundle["checkpoint"], "proof": bundle["proof"]}

    def quarter_context(period: str, request: Request, v: Visitor, as_of: str | None) -> dict[str, Any]:
        check_quarter(period)
        data = read("/quarter/{period}", request, v, period=period, as_of=as_of_param(as_of))
        diff = None
        if v.reads_all() and data["status"] == "approved" and not as_of:
            diff = read("/quarter/{period}/diff", request, v, period=period)
        return {"data": data, "diff": diff, "as_of": as_of or "",
                "checkpoint": None if as_of else checkpoint_block(request, v, data.get("approval"))}

    @router.get("/web/quarter/{period}")
    def quarter_page(period: str, request: Request, as_of: str | None = None) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            context = quarter_context(period, request, v, as_of)
            year = period[:4]
            shown = {q: context["data"] if q == period and not as_of else read("/quarter/{period}", request, v, period=q)
                     for q in quarters_of(year) if q <= period}
            columns = [q for q, d in shown.items() if d["status"] == "approved" or q == period]  # ranked ones
            ranks: dict[str, list[int | None]] = {}
            links: dict[str, list[str | None]] = {}
            for i, q in enumerate(columns):
                for b in shown[q]["branches"]:
                    ranks.setdefault(b["branch"], [None] * len(columns))[i] = b["rank"]
                    links.setdefault(b["branch"], [None] * len(columns))[i] = (
                        f"/web/explain/quarter/{q}?branch={quote(b['branch'])}" if v.may_read(b["branch"]) else None)
            mine = v.secretary_of()
            chart = rank_chart(f"{year} 年各支部季度名次变化", columns, ranks, links, mine[0] if mine else None)
            return {**context, "chart": chart, "prev": _shift_quarter(period, -1), "next_q": _shift_quarter(period, 1)}
        return page(request, "quarter.html", build)

    @router.get("/web/year/{period}")
    def year_page(period: str, request: Request, as_of: str | None = None) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            data = read("/year/{period}", request, v, period=check_year(period), as_of=as_of_param(as_of))
            return {"data": data, "as_of": as_of or "",
                    "checkpoint": None if as_of else checkpoint_block(request, v, data.get("approval"))}
        return page(request, "year.html", build)

    @router.get("/web/print/{kind}/{period}")
    def print_page(kind: str, period: str, request: Request) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            if kind == "quarter":
                return {"kind": kind, **quarter_context(period, request, v, None)}
            if kind == "year":
                data = read("/year/{period}", request, v, period=check_year(period))
                return {"kind": kind, "data": data, "checkpoint": checkpoint_block(request, v, data.get("approval"))}
            raise InvalidInput("只能打印季度排名或年度总评", "kind")
        return page(request, "print.html", build)

    # -- explanations and single events -----------------------------------------------------------------------------------
    @router.get("/web/explain/{kind}/{period}")
    def explain(kind: str, period: str, request: Request, branch: str, as_of: str | None = None) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            if kind not in ("month", "quarter", "year"):
                raise InvalidInput("说明只有 month、quarter、year 三种", "kind")
            data = read(f"/explain/{kind}/{{period}}", request, v, period=period, branch=branch,
                        as_of=as_of_param(as_of))
            return {"kind": kind, "d": data, "as_of": as_of or ""}
        return page(request, f"explain_{kind}.html" if kind in ("month", "quarter", "year") else "error.html", build)

    @router.get("/web/event/{position}")
    def event_page(position: int, request: Request) -> Response:
        def build(v: Visitor) -> dict[str, Any]:
            bundle = read("/proofs/{event}", request, v, event=str(position))
            payload = json.loads(base64.b64decode(bundle["event"]["payload"]))
            return {"bundle": bundle, "payload": json.dumps(payload, ensure_ascii=False, indent=2),
                    "position": position, "topic": bundle["event"]["topic"]}
        return page(request, "event.html", build)

    # -- auditor: history, checkpoint, verification -------------------------------------------------------------------------
    def audit_context(request: Request, v: Visitor, q: dict[str, str | None]) -> dict[str, Any]:
        month = latest_month(service.engine)
        branches = read("/month/{period}", request, v, period=month)["branches"]
        events = None
        if q["branch"]:
            found = read("/history", request, v, branch=q["branch"], from_=q["from"] or None, to=q["to"] or None)
            events = filter_history(found["events"], q["period"], q["actor"], q["category"])
        checkpoint = None
        try:
            checkpoint = read("/checkpoints/latest", request, v)
        except LedgerError:
            pass
        return {"q": q, "branches": branches, "events": events, "checkpoint": checkpoint,
                "export": "/web/export/history.xlsx?" + urlencode({k: x for k, x in q.items() if x})}

    def audit_query(request: Request) -> dict[str, str | None]:
        p = request.query_params
        return {k: (p.get(k) or "").strip() or None for k in ("branch", "period", "actor", "category", "from", "to")}

    @router.get("/web/audit")
    def audit(request: Request) -> Response:
        return page(request, "audit.html", lambda v: {**audit_context(request, v, audit_query(request)),
                                                      "verified": None})

    @router.post("/web/audit/verify")
    async def verify_now(request: Request) -> Response:
        visitor, form = await form_of(request)
        q = {k: (str(form.get(k) or "").strip() or None) for k in ("branch", "period", "actor", "category",
                                                                    "from", "to")}

        def build(v: Visitor) -> dict[str, Any]:
            report = read("/verify", request, v)
            return {**audit_context(request, v, q), "verified": report}
        return await run_in_threadpool(page, request, "audit.html", build)

    @router.post("/web/checkpoint")
    async def checkpoint_now(request: Request) -> Response:
        visitor, form = await form_of(request)
        try:
            row = await run_in_threadpool(api.call, "POST", "/checkpoints", request, visitor.caller,
                                          body={"reason": f"web {visitor.user}"})
            await run_in_threadpool(flash, visitor, "ok", f"已生成第 {row['number']} 个检查点（树大小 {row['size']}）")
        except LedgerError as e:
            await run_in_threadpool(flash, visitor, "error", e.reason, e.field)
        return back(form, "/web/audit")

    # -- Excel --------------------------------------------------------------------------------------------------------
    def xlsx(body: bytes, name: str) -> Response:
        return _secure(Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}))

    @router.get("/web/export/history.xlsx")
    def export_history(request: Request) -> Response:
        visitor = require(request)
        q = audit_query(request)
        try:
            if not q["branch"]:
                raise InvalidInput("请选择支部", "branch")
            found = read("/history", request, visitor, branch=q["branch"], from_=q["from"], to=q["to"])
            found = {**found, "events": filter_history(found["events"], q["period"], q["actor"], q["category"])}
        except LedgerError as e:
            return render(request, visitor, "error.html", status_of(e), error=e, kind=type(e).__name__)
        filters = {"期间": q["period"], "操作人": q["actor"], "类别": CATEGORY_NAMES.get(q["category"] or "", q["category"]),
                   "自": q["from"], "至": q["to"]}
        return xlsx(workbook_bytes(history_workbook(found, filters)), f"history-{q['branch']}.xlsx")

    @router.get("/web/export/{kind}/{name}")
    def export(kind: str, name: str, request: Request, as_of: str | None = None) -> Response:
        visitor = require(request)
        period = name.removesuffix(".xlsx")
        try:
            if kind not in EXPORTS or not name.endswith(".xlsx"):
                raise InvalidInput("可导出 month、quarter、year 的 .xlsx", "kind")
            data = read(f"/{kind}/{{period}}", request, visitor, period=period, as_of=as_of_param(as_of))
        except LedgerError as e:
            return render(request, visitor, "error.html", status_of(e), error=e, kind=type(e).__name__)
        return xlsx(workbook_bytes(EXPORTS[kind](data)), f"{kind}-{period}.xlsx")

    app.include_router(router)


def _shift(month: str, by: int) -> str:
    year, m = int(month[:4]), int(month[5:]) - 1 + by
    return f"{year + m // 12:04d}-{m % 12 + 1:02d}"


def _shift_quarter(quarter: str, by: int) -> str:
    year, q = int(quarter[:4]), int(quarter[5]) - 1 + by
    return f"{year + q // 4}Q{q % 4 + 1}"


def _rulebook_for(versions: list[dict[str, Any]], month: str) -> dict[str, Any]:
    """The rulebook version in force in ``month`` (the latest whose ``from`` is not after it)."""
    in_force = [v for v in versions if not v["from"] or v["from"] <= month]
    return max(in_force or versions, key=lambda v: v["version"])
