"""网页：PDF 公示 (printable PDFs): a month's results, a quarter's ranking, a year's
assessment and a branch's published dues statement, each with the signed checkpoint that
covers its approval (or publication) and a QR code of the receipt
(``adapters/exports/receipt_qr.py``: position, leaf hash, inclusion proof, signed note —
checkable offline with the ledger's public key).

Drawn by WeasyPrint from HTML and CSS (``templates/pdf/notice.html``, ``static/pdf.css``) with
the machine's CJK fonts (Noto Sans CJK, embedded as subsets), so the PDF is the page a person
would print. Reads through the API as every page does (``/month``, ``/quarter``, ``/year``,
``/proofs/{event}``, ``/dues/{half}/statement``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.exports.receipt_qr import qr_svg, receipt_text
from adapters.http.errors import STATUS
from adapters.web.base import error_page, read, require, secure, web_of
from adapters.web.support import Visitor
from domain.errors import InvalidInput, LedgerError
from domain.periods import check_half, check_month, check_quarter, check_year

router = APIRouter(include_in_schema=False)
CSS = Path(__file__).resolve().parent / "static" / "pdf.css"
NOTICES = {"month": "月度党建考核结果", "quarter": "季度党建考核排名", "year": "年度党建考核总评", "dues": "党费收缴情况"}


class PdfUnavailable(LedgerError):
    """WeasyPrint or its system libraries (Pango) are missing on this server (503)."""


STATUS[PdfUnavailable] = 503  # the server is not set up for it, like a missing key store


def _proof(request: Request, v: Visitor, position: int | None) -> dict[str, Any] | None:
    if position is None:
        return None
    try:
        return read("/proofs/{event}", request, v, event=str(position))  # type: ignore[no-any-return]
    except LedgerError:
        return None  # not yet covered by a checkpoint: the PDF says so


def context(request: Request, v: Visitor, kind: str, period: str, branch: str | None,
            number: int | None) -> dict[str, Any]:
    """What the notice shows: the data, the covering proof and its receipt's QR code."""
    if kind == "dues":
        if not branch:
            raise InvalidInput("请指定支部（branch）", "branch")
        bundle = read("/dues/{half}/statement", request, v, half=check_half(period, "period"), branch=branch,
                      number=number)
        proof = bundle["proof"]
        data = {"period": period, "statement": bundle["statement"], "publication": bundle["publication"]}
    else:
        checks = {"month": check_month, "quarter": check_quarter, "year": check_year}
        if kind not in checks:
            raise InvalidInput("可打印 month、quarter、year 或 dues", "kind")
        data = read(f"/{kind}/{{period}}", request, v, period=checks[kind](period))
        approval = data.get("approval") or {}
        proof = _proof(request, v, approval.get("position"))
    text = receipt_text(proof) if proof else None
    return {"kind": kind, "notice": NOTICES[kind], "data": data, "proof": proof, "receipt": text,
            "qr": qr_svg(text) if text else None, "css": CSS.read_text(encoding="utf-8"), "v": v}


def pdf_bytes(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:  # OSError: Pango missing
        raise PdfUnavailable(f"本服务器不能生成 PDF（缺少 WeasyPrint 或 Pango：{e}）", None) from None
    return bytes(HTML(string=html).write_pdf())


@router.get("/web/export/pdf/{kind}/{period}")
async def notice_pdf(kind: str, period: str, request: Request, branch: str | None = None,
                     number: int | None = None) -> Response:
    visitor = await run_in_threadpool(require, request)
    try:
        found = await run_in_threadpool(context, request, visitor, kind, period, branch, number)
        html = web_of(request).templates.get_template("pdf/notice.html").render(found)
        body = await run_in_threadpool(pdf_bytes, html)
    except LedgerError as e:
        return error_page(request, visitor, e)
    name = f"{kind}-{period}{'-' + branch if branch else ''}.pdf"
    return secure(Response(body, media_type="application/pdf",
                           headers={"Content-Disposition": f'attachment; filename="{name}"'}))
