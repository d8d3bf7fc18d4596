"""网页：经营业绩 (web pages: performance): each branch's monthly business score (the
other half of the dual hundred-point assessment) and its unit's annual performance score
(an input of the annual assessment). Reads: the API's ``/month`` and ``/year``; commands
through ``POST /web/do/{op}``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.web.base import page, read, shift
from adapters.web.forms import Field, Form, register
from adapters.web.members import default_month
from adapters.web.party_mass import branch_options
from adapters.web.support import Visitor

router = APIRouter(include_in_schema=False)

register(
    Form("record_business_score", (Field("branch", kind="select", options="branches"),
                                   Field("period", label="月份", kind="month"),
                                   Field("score", label="经营得分", kind="decimal")), "经营得分已录入"),
    Form("record_unit_performance", (Field("branch", kind="select", options="branches"), Field("year", kind="int"),
                                     Field("score", label="单位经营业绩得分", kind="decimal")), "单位经营业绩已录入"),
)


@router.get("/web/performance")
def performance(request: Request, month: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        m = default_month(request, month)
        data = read("/month/{period}", request, v, period=m)
        annual = read("/year/{period}", request, v, period=m[:4])
        units = {b["branch"]: b.get("unit_score") for b in annual["branches"]}
        return {"month": m, "data": data, "annual": annual, "units": units, "prev": shift(m, -1),
                "next_month": shift(m, 1), "options": {"branches": branch_options(request, v)}}
    return page(request, "performance.html", build)
