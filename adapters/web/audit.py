"""网页：审计 (web pages: the auditor): a branch's history with filters, the latest
checkpoint, a full verification on demand, a checkpoint made now, and the Excel exports.

Shared helpers: ``adapters/web/base.py``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.exports.workbooks import EXPORTS, filter_history, history_workbook, workbook_bytes
from adapters.web.base import back, error_page, flash, form_of, page, read, replay_of, require, web_of, xlsx
from adapters.web.support import Visitor, latest_month
from domain.assessment.rulebook import CATEGORY_NAMES
from domain.errors import InvalidInput, LedgerError

router = APIRouter(include_in_schema=False)
QUERY = ("branch", "period", "actor", "category", "from", "to")


# -- auditor: history, checkpoint, verification -------------------------------------------------------------------------
def audit_context(request: Request, v: Visitor, q: dict[str, str | None]) -> dict[str, Any]:
    month = latest_month(web_of(request).service.engine)
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
    return {k: (p.get(k) or "").strip() or None for k in QUERY}


@router.get("/web/audit")
def audit(request: Request) -> Response:
    return page(request, "audit.html", lambda v: {**audit_context(request, v, audit_query(request)),
                                                  "verified": None})


@router.post("/web/audit/verify")
async def verify_now(request: Request) -> Response:
    visitor, form = await form_of(request)
    q = {k: (str(form.get(k) or "").strip() or None) for k in QUERY}

    def build(v: Visitor) -> dict[str, Any]:
        from adapters.integrity.verify import PROBLEMS_SHOWN, problem_text
        report = read("/verify", request, v)
        return {**audit_context(request, v, q), "verified": report,
                "problem_lines": [problem_text(p) for p in report["problems"][:PROBLEMS_SHOWN]],
                "unlisted": max(0, len(report["problems"]) - PROBLEMS_SHOWN)}
    return await run_in_threadpool(page, request, "audit.html", build)


@router.post("/web/checkpoint")
async def checkpoint_now(request: Request) -> Response:
    visitor, form = await form_of(request)
    try:
        row = await run_in_threadpool(web_of(request).api.call, "POST", "/checkpoints", request, visitor.caller,
                                      body={"reason": f"web {visitor.user}"})
        said = (f"已生成第 {row['number']} 个检查点（树大小 {row['size']}）" if row.get("made", True) else
                f"第 {row['number']} 个检查点已覆盖全部 {row['size']} 个事件，未签发新检查点")
        await run_in_threadpool(flash, request, visitor, "ok", said)
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field)
    return back(form, "/web/audit")


# -- Excel --------------------------------------------------------------------------------------------------------
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
        return error_page(request, visitor, e)
    filters = {"期间": q["period"], "操作人": q["actor"], "类别": CATEGORY_NAMES.get(q["category"] or "", q["category"]),
               "自": q["from"], "至": q["to"]}
    return xlsx(workbook_bytes(history_workbook(found, filters)), f"history-{q['branch']}.xlsx")


@router.get("/web/export/{kind}/{name}")
def export(kind: str, name: str, request: Request, as_of: str | None = None,
           documented_by: str | None = None) -> Response:
    visitor = require(request)
    period = name.removesuffix(".xlsx")
    try:
        if kind not in EXPORTS or not name.endswith(".xlsx"):
            raise InvalidInput("可导出 month、quarter、year 的 .xlsx", "kind")
        data = read(f"/{kind}/{{period}}", request, visitor, period=period,
                    point=replay_of(as_of, documented_by))
    except LedgerError as e:
        return error_page(request, visitor, e)
    return xlsx(workbook_bytes(EXPORTS[kind](data)), f"{kind}-{period}.xlsx")
