"""网页：考核结果 (web pages: results): the month, the quarter's ranking with its chart and
its approval's proof, the year, the printable notices, explanations and single events.

Shared helpers: ``adapters/web/base.py``.
"""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.event_view import event_rows, from_us
from adapters.web.base import error_page, page, read, replay_of, replay_query, require, shift, shift_quarter, xlsx
from adapters.web.charts import rank_chart
from adapters.web.support import Visitor, quarters_of
from domain.asof import AsOf
from domain.errors import InvalidInput, LedgerError
from domain.periods import check_month, check_quarter, check_year

router = APIRouter(include_in_schema=False)


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


def quarter_context(period: str, request: Request, v: Visitor, point: AsOf | None) -> dict[str, Any]:
    check_quarter(period)
    data = read("/quarter/{period}", request, v, period=period, point=point)
    diff = None
    if v.reads_all() and data["status"] == "approved" and point is None:
        diff = read("/quarter/{period}/diff", request, v, period=period)
    return {"data": data, "diff": diff, "replay": replay_query(point),
            "checkpoint": None if point else checkpoint_block(request, v, data.get("approval"))}


def _rank_chart(request: Request, v: Visitor, period: str, shown_now: dict[str, Any] | None) -> str:
    """The year's quarters so far (approved ones and ``period``): each branch's rank, linked
    to its explanation where the visitor may read it. ``shown_now``: ``period``'s data."""
    year = period[:4]
    shown = {q: shown_now if q == period and shown_now is not None else read("/quarter/{period}", request, v, period=q)
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
    return rank_chart(f"{year} 年各支部季度名次变化", columns, ranks, links, mine[0] if mine else None)


# -- results: month, quarter, year (and print) --------------------------------------------------------------------
@router.get("/web/month/{period}")
def month_page(period: str, request: Request, as_of: str | None = None, documented_by: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        point = replay_of(as_of, documented_by)
        data = read("/month/{period}", request, v, period=period, point=point)
        return {"data": data, "replay": replay_query(point), "prev": shift(period, -1), "next_month": shift(period, 1)}
    return page(request, "month.html", build)


@router.get("/web/quarter/{period}")
def quarter_page(period: str, request: Request, as_of: str | None = None, documented_by: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        point = replay_of(as_of, documented_by)
        context = quarter_context(period, request, v, point)
        chart = _rank_chart(request, v, period, None if point else context["data"])
        return {**context, "chart": chart, "prev": shift_quarter(period, -1), "next_q": shift_quarter(period, 1)}
    return page(request, "quarter.html", build)


def year_context(period: str, request: Request, v: Visitor, point: AsOf | None) -> dict[str, Any]:
    data = read("/year/{period}", request, v, period=check_year(period), point=point)
    diff = None
    if v.reads_all() and data["status"] == "approved" and point is None:
        diff = read("/year/{period}/diff", request, v, period=period)
    return {"data": data, "diff": diff, "replay": replay_query(point),
            "checkpoint": None if point else checkpoint_block(request, v, data.get("approval"))}


@router.get("/web/year/{period}")
def year_page(period: str, request: Request, as_of: str | None = None, documented_by: str | None = None) -> Response:
    return page(request, "year.html", lambda v: year_context(period, request, v, replay_of(as_of, documented_by)))


@router.get("/web/print/{kind}/{period}")
def print_page(kind: str, period: str, request: Request) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        if kind == "quarter":
            return {"kind": kind, **quarter_context(period, request, v, None)}
        if kind == "year":
            data = read("/year/{period}", request, v, period=check_year(period))
            return {"kind": kind, "data": data, "checkpoint": checkpoint_block(request, v, data.get("approval"))}
        if kind == "month":
            data = read("/month/{period}", request, v, period=check_month(period))
            return {"kind": kind, "data": data, "checkpoint": checkpoint_block(request, v, data.get("approval"))}
        raise InvalidInput("只能打印月度考核结果、季度排名或年度总评", "kind")
    return page(request, "print.html", build)


# -- explanations and single events -----------------------------------------------------------------------------------
@router.get("/web/explain/{kind}/{period}")
def explain(kind: str, period: str, request: Request, branch: str, as_of: str | None = None,
            documented_by: str | None = None) -> Response:
    if period.endswith(".xlsx"):
        return _explain_xlsx(kind, period.removesuffix(".xlsx"), request, branch, as_of, documented_by)

    def build(v: Visitor) -> dict[str, Any]:
        if kind not in ("month", "quarter", "year"):
            raise InvalidInput("说明只有 month、quarter、year 三种", "kind")
        point = replay_of(as_of, documented_by)
        data = read(f"/explain/{kind}/{{period}}", request, v, period=period, branch=branch, point=point)
        return {"kind": kind, "d": data, "replay": replay_query(point)}
    return page(request, f"explain_{kind}.html" if kind in ("month", "quarter", "year") else "error.html", build)


def _explain_xlsx(kind: str, period: str, request: Request, branch: str, as_of: str | None,
                  documented_by: str | None) -> Response:
    """The explanation page's Excel: the same API read, the same model, as a workbook."""
    from adapters.exports.workbooks import explain_month_workbook, explain_quarter_workbook, workbook_bytes
    visitor = require(request)
    builders = {"month": explain_month_workbook, "quarter": explain_quarter_workbook}
    try:
        if kind not in builders:
            raise InvalidInput("可导出 month、quarter 的说明", "kind")
        data = read(f"/explain/{kind}/{{period}}", request, visitor, period=period, branch=branch,
                    point=replay_of(as_of, documented_by))
    except LedgerError as e:
        return error_page(request, visitor, e)
    return xlsx(workbook_bytes(builders[kind](data)), f"explain-{kind}-{period}-{branch}.xlsx")


@router.get("/web/event/{position}")
def event_page(position: int, request: Request) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        found = read("/events/{position}", request, v, position=position)  # the proof: None if not yet covered
        bundle = found["proof"] or {"event": found["event"], "leaf_index": found["event"]["leaf_index"]}
        payload = json.loads(base64.b64decode(bundle["event"]["payload"]))
        return {"bundle": bundle, "covered": found["proof"] is not None,
                "payload": json.dumps(payload, ensure_ascii=False, indent=2),
                "position": position, "topic": bundle["event"]["topic"], "rows": event_rows(payload),
                "recorded_at": from_us(bundle["event"]["recorded_at_us"])}
    return page(request, "event.html", build)
