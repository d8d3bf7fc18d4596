"""网页：党委 (web pages: the committee): the year at a glance (months, quarters, the annual
assessment, what is ready to approve or changed since approval), open appeals with what
upholding each would move, and deciding an appeal.

Shared helpers: ``adapters/web/base.py``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.web.base import back, form_of, page, read, send, web_of
from adapters.web.support import Visitor, latest_month, quarters_of
from domain.periods import check_year, month_range, quarter_months, quarter_of

router = APIRouter(include_in_schema=False)


def _pending(request: Request, v: Visitor, appeals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each open appeal with its entry and the branches whose rank would move were it upheld
    (the entry counted as 0)."""
    pending = []
    for a in (a for a in appeals if a["status"] == "open"):
        entry = next((e for e in read("/entries", request, v, period=a["period"], branch=a["branch"])["entries"]
                      if e["entry_id"] == a["entry_id"]), None)
        whatif = read("/quarter/{period}/whatif", request, v, period=quarter_of(a["period"]),
                      set_=[f"{a['entry_id']}=0"])
        pending.append({"appeal": a, "entry": entry, "quarter": quarter_of(a["period"]),
                        "moves": [b for b in whatif["branches"] if b["moves"]]})
    return pending


# -- committee: approvals and appeals ----------------------------------------------------------------------------
@router.get("/web/committee")
def committee(request: Request, year: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        y = check_year(year) if year else latest_month(web_of(request).service.engine)[:4]
        months = [read("/month/{period}", request, v, period=m) for m in month_range(f"{y}-01", 12)]
        quarters = [read("/quarter/{period}", request, v, period=q) for q in quarters_of(y)]
        annual = read("/year/{period}", request, v, period=y)
        status = {m["period"]: m["status"] for m in months}
        appeals = read("/appeals", request, v)["appeals"]
        pending = _pending(request, v, appeals)
        decided = [a for a in appeals if a["status"] != "open"][-20:]
        return {"year": y, "months": months, "quarters": quarters, "annual": annual, "pending": pending,
                "decided": decided, "months_status": status,
                "ready": {q["period"]: all(status.get(m) == "approved" for m in quarter_months(q["period"]))
                          for q in quarters},
                "changed": {q["period"]: any(b.get("changed_since_approval") for b in q["branches"])
                            for q in quarters},
                "annual_changed": any(b.get("changed_since_approval") for b in annual["branches"])}
    return page(request, "committee.html", build)


@router.post("/web/decide")
async def decide(request: Request) -> Response:
    visitor, form = await form_of(request)
    decision = str(form.get("decision", ""))
    await send(request, visitor, "decide_appeal", {
        "appeal_id": form.get("appeal_id"), "decision": decision, "reason": form.get("reason"),
        "points": form.get("points") if decision == "upheld" else None, "key": form.get("key")},
        lambda a: "已决定：申诉成立，已更正该条目" if decision == "upheld" else "已决定：申诉驳回")
    return back(form)
