"""网页：本支部 (web pages: a branch secretary's branch): the month's explained score with
its trend and deduction sources, the branch's appeals, filing an appeal, a receipt.

Shared helpers: ``adapters/web/base.py``.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from adapters.http.attachments import UPLOAD_LIMIT, appeal_attachment, attachment_response, stored_attachment
from adapters.web.base import back, error_page, flash, form_of, page, read, require, secure, send, shift, web_of
from adapters.web.charts import bar_chart, line_chart
from adapters.web.support import Visitor, latest_month
from domain.assessment.appeal import MAX_ATTACHMENT_BYTES
from domain.assessment.rulebook import CATEGORY_NAMES
from domain.errors import LedgerError
from domain.periods import check_month, month_range, quarter_of
from domain.vocabulary import ATTACHMENT_TYPES

router = APIRouter(include_in_schema=False)


def _explained(request: Request, v: Visitor, code: str, m: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The branch's quarter explained (None where the quarter does not rank it) and month ``m``'s."""
    try:
        quarter = read("/explain/quarter/{period}", request, v, period=quarter_of(m), branch=code)
        return quarter, next(x for x in quarter["months"] if x["period"] == m)
    except LedgerError as e:
        if type(e).__name__ != "BranchNotFound":
            raise
        return None, read("/explain/month/{period}", request, v, period=m, branch=code)


def _trend(request: Request, v: Visitor, code: str, m: str) -> str:
    """The branch's monthly scores of the year so far: months submitted or approved, and the
    month shown (a draft one: as it stands)."""
    months = month_range(f"{m[:4]}-01", int(m[5:]))
    scores = []
    for mm in months:
        data = read("/month/{period}", request, v, period=mm)
        row = next((r for r in data["branches"] if r["branch"] == code), None)
        scores.append(row["score"] if row and (data["status"] != "draft" or mm == m) else None)
    return line_chart(f"{code} {m[:4]} 年月度得分", [f"{int(x[5:])}月" for x in months], scores,
                      [f"/web/explain/month/{x}?branch={quote(code)}" for x in months], 100, "基础分 100")


def _deductions(code: str, m: str, quarter: dict[str, Any] | None, explained: dict[str, Any]) -> str:
    """Where the quarter's (else the month's) counted deductions came from, by category."""
    q = quarter_of(m)
    by_category: dict[str, Any] = {}
    source = quarter["months"] if quarter else [explained]
    for mon in source:
        for e in mon["entries"]:
            if e["counted_points"].startswith("-"):
                by_category[e["category"]] = by_category.get(e["category"], Decimal(0)) + Decimal(
                    e["counted_points"])
    return bar_chart(f"{q if quarter else m} 扣分来源（按类别，计入分值）",
                     [(CATEGORY_NAMES.get(k, k), v_, f"/web/explain/quarter/{q}?branch={quote(code)}")
                      for k, v_ in sorted(by_category.items(), key=lambda kv: kv[1])])


# -- branch secretary: my branch -------------------------------------------------------------------------
@router.get("/web/branch/{code}")
def branch_page(code: str, request: Request, month: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        m = check_month(month, "month") if month else latest_month(web_of(request).service.engine)
        quarter, explained = _explained(request, v, code, m)
        appeals = read("/appeals", request, v, branch=code)["appeals"]
        by_entry: dict[str, list[dict[str, Any]]] = {}
        for a in appeals:
            by_entry.setdefault(a["entry_id"], []).append(a)
        trend = _trend(request, v, code, m)
        bars = _deductions(code, m, quarter, explained)
        return {"code": code, "month": m, "quarter_period": quarter_of(m), "quarter": quarter,
                "explained": explained, "appeals": appeals, "by_entry": by_entry,
                "may_appeal": v.may_send("file_appeal", branch=code), "trend": trend, "bars": bars,
                "attachment_types": "、".join(ATTACHMENT_TYPES.values()), "attachment_mb": MAX_ATTACHMENT_BYTES >> 20,
                "attachment_accept": ",".join([*ATTACHMENT_TYPES, ".pdf", ".jpg", ".jpeg", ".png"]),
                "prev": shift(m, -1), "next_month": shift(m, 1)}
    return page(request, "branch.html", build)


@router.post("/web/appeal")
async def file_appeal(request: Request) -> Response:
    """File an appeal; an attached file (the form's ``attachment``) is stored first
    (``adapters/http/attachments.py``) and the appeal names its SHA-256."""
    visitor, form = await form_of(request)
    fields: dict[str, Any] = {"entry_id": form.get("entry_id"), "branch": form.get("branch"),
                              "reason": form.get("reason"), "key": form.get("key")}
    upload = form.get("attachment")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(UPLOAD_LIMIT + 1)
        try:
            fields["attachment"] = await run_in_threadpool(stored_attachment, request, visitor.caller, data,
                                                           upload.filename)
        except LedgerError as e:
            await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field)
            return back(form)
    await send(request, visitor, "file_appeal", fields,
               lambda a: f"申诉已提交（申诉编号 {str(a)[:8]}…），可在“本支部申诉”中下载回执"
                         + ("，附件已存档" if "attachment" in fields else ""))
    return back(form)


@router.get("/web/appeal/{appeal_id}/attachment")
def attachment(appeal_id: str, request: Request) -> Response:
    """The appeal's attached file, to readers of its branch, while it matches the log's hash."""
    visitor = require(request)
    try:
        found, data = appeal_attachment(request, visitor.caller, appeal_id)
    except LedgerError as e:
        return error_page(request, visitor, e)
    return secure(attachment_response(found, data))


@router.post("/web/receipt/{position}")
async def receipt(position: int, request: Request) -> Response:
    visitor, form = await form_of(request)
    try:
        bundle = await run_in_threadpool(web_of(request).api.call, "POST", "/receipts/{event}", request,
                                         visitor.caller, event=str(position))
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field)
        return back(form)
    body = json.dumps(bundle, ensure_ascii=False, indent=2).encode("utf-8")
    return secure(Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="receipt-{position}.json"'}))
