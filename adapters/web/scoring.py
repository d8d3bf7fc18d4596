"""网页：考核录入与汇总 (web pages: scorers and the aggregator): the month's scoring sheet,
recording and voiding entries, submitting, approving or returning a month, approving a
quarter's ranking or a year's assessment.

Shared helpers: ``adapters/web/base.py``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.web.base import Refused, back, form_of, page, read, send, shift, web_of
from adapters.web.forms import typed
from adapters.web.support import Visitor, latest_month
from domain import vocabulary
from domain.assessment.organization import version_in_force
from domain.errors import InvalidInput
from domain.periods import check_month

router = APIRouter(include_in_schema=False)
KIND_NAMES = vocabulary.AMOUNT_KINDS


def _reapproved(request: Request, kind: str, period: str, approval_id: Any) -> str:
    """The flash after a re-approval: what it recorded (branch, kind, previous → new, delta)."""
    from adapters.store.logreader import LogReader
    from domain.ids import quarter_id, year_id
    from projections.compare import adjustments
    aggregate = quarter_id(period) if kind == "quarter" else year_id(period)
    found = adjustments(LogReader(web_of(request).service.engine).read(aggregate_id=aggregate), str(approval_id))
    name = "季度排名" if kind == "quarter" else "年度总评"
    if not found:
        return f"{period} {name}已重新审批；奖罚与指标均无变化，未记录调整"
    items = "；".join(f"{a['branch']} {KIND_NAMES.get(a['kind'], a['kind'])} {a['previous']} → {a['new']}"
                     f"（{'' if a['delta'].startswith('-') else '+'}{a['delta']}）" for a in found)
    return f"{period} {name}已重新审批；记录调整 {len(found)} 项：{items}"
MONTH_ACTIONS = {"submit": ("submit_month", "已提交"), "approve": ("approve_month", "已审批封存"),
                 "return": ("return_month", "已退回草稿")}


def _rulebook_for(versions: list[dict[str, Any]], month: str) -> dict[str, Any]:
    """The rulebook version in force in ``month`` (``domain.assessment.organization.version_in_force``);
    for a month before every version, the latest."""
    by_number = {v["version"]: v for v in versions}
    try:
        return by_number[version_in_force(((n, v["from"] or None) for n, v in by_number.items()), month)]
    except ValueError:  # no version in force yet
        return by_number[max(by_number)]


# -- scorers and the aggregator ------------------------------------------------------------------------------
@router.get("/web/scoring")
def scoring(request: Request, month: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        m = check_month(month, "month") if month else latest_month(web_of(request).service.engine)
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
                "prev": shift(m, -1), "next_month": shift(m, 1)}
    return page(request, "scoring.html", build)


@router.post("/web/score")
async def record_score(request: Request) -> Response:
    visitor, form = await form_of(request)
    department, _, category = str(form.get("category", "")).partition("/")
    await send(request, visitor, "record_score", {
        "branch": form.get("branch"), "period": form.get("period"), "category": category,
        "department": department, "points": form.get("points"), "reason": form.get("reason"),
        "key": form.get("key")}, lambda e: f"已录入（条目编号 {str(e)[:8]}…）",
        {"form": "score-form", "values": typed(form)})  # a refusal keeps what was typed
    return back(form)


@router.post("/web/void")
async def void_entry(request: Request) -> Response:
    visitor, form = await form_of(request)
    await send(request, visitor, "void_entry", {"entry_id": form.get("entry_id"), "reason": form.get("reason")},
               lambda e: "条目已作废")
    return back(form)


@router.post("/web/month/{period}/{action}")
async def month_action(period: str, action: str, request: Request) -> Response:
    visitor, form = await form_of(request)
    op, done = MONTH_ACTIONS.get(action, ("", ""))
    if not op:
        raise Refused(InvalidInput(f"未知操作 {action!r}", "action"))
    await send(request, visitor, op, {"period": period, "reason": form.get("reason")}, lambda _: f"{period} {done}")
    return back(form)


@router.post("/web/quarter/{period}/{action}")
async def quarter_action(period: str, action: str, request: Request) -> Response:
    visitor, form = await form_of(request)
    if action not in ("approve", "reapprove"):
        raise Refused(InvalidInput(f"未知操作 {action!r}", "action"))
    await send(request, visitor, f"{action}_quarter", {"period": period, "reason": form.get("reason")},
               lambda a: _reapproved(request, "quarter", period, a) if action == "reapprove" else f"{period} 季度排名已审批")
    return back(form)


@router.post("/web/year/{period}/{action}")
async def year_action(period: str, action: str, request: Request) -> Response:
    visitor, form = await form_of(request)
    if action not in ("approve", "reapprove"):
        raise Refused(InvalidInput(f"未知操作 {action!r}", "action"))
    fields = {"year": period, **({"reason": form.get("reason")} if action == "reapprove" else {})}
    await send(request, visitor, f"{action}_year", fields,
               lambda a: _reapproved(request, "year", period, a) if action == "reapprove" else f"{period} 年度总评已审批")
    return back(form)
