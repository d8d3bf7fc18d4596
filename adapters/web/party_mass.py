"""网页：党群工作部 (web pages: the Party-Mass Work Dept): innovation (proposals and points)
and competitive selections (open one, record the representatives' and leaders' sheets; the
committee closes it). Reads: the API's ``/innovation`` and ``/selections``; forms through
``POST /web/do/{op}`` (``adapters/web/forms.py``).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.web.base import page, read, web_of
from adapters.web.forms import Field, Form, register
from adapters.web.members import default_year, today
from adapters.web.support import Visitor, latest_month
from domain.errors import SelectionNotFound

router = APIRouter(include_in_schema=False)

register(
    Form("submit_proposal", (Field("branch", kind="select", options="branches"), Field("person", label="提出人编号"),
                             Field("proposal", label="建议编号"), Field("title"), Field("date", kind="date")),
         "合理化建议已登记"),
    Form("award_innovation_points", (Field("branch", kind="select", options="branches"),
                                     Field("person", label="人员编号"), Field("points", kind="decimal"), Field("reason"),
                                     Field("date", kind="date"),
                                     Field("proposal", label="所依据的建议编号", required=False)), "已授予创新积分"),
    Form("open_selection", (Field("selection", label="竞聘编号"), Field("position", label="岗位"),
                            Field("date", kind="date"),
                            Field("candidates", label="候选人编号（每行一个）", kind="lines")), "竞聘 {} 已开始"),
    Form("record_representative_sheet", (Field("sheet", label="评分表序号", kind="int"),
                                         Field("scores", label="各候选人得分", kind="map", options="candidates",
                                               each="decimal")), "代表评分表已录入"),
    Form("record_leader_sheet", (Field("leader", label="领导姓名"),
                                 Field("scores", label="各候选人得分", kind="map", options="candidates", each="decimal")),
         "领导评分表已录入"),
    Form("close_selection", (), "竞聘已结束，结果已记录", confirm="结束后不能再录入评分表，确定结束并计算结果？"),
)


def branch_options(request: Request, v: Visitor) -> tuple[tuple[str, str], ...]:
    rows = read("/month/{period}", request, v, period=latest_month(web_of(request).service.engine))["branches"]
    return tuple((b["branch"], f"{b['branch']} {b['name']}") for b in rows)


@router.get("/web/innovation")
def innovation(request: Request, year: str | None = None, branch: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        y = default_year(request, year)
        data = read("/innovation", request, v, year=y, branch=branch or None)
        return {"year": y, "branch": branch, "data": data, "today": today(),
                "options": {"branches": branch_options(request, v)}}
    return page(request, "party_mass/innovation.html", build)


@router.get("/web/selections")
def selections(request: Request, selection: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        rows = read("/selections", request, v)["selections"]
        chosen = None
        if selection:
            chosen = next((s for s in rows if s["selection"] == selection), None)
            if chosen is None:
                raise SelectionNotFound(f"没有竞聘 {selection}", "selection")
        options = {"candidates": tuple((c["person"], f"{c['name']}（{c['person']}）")
                                       for c in (chosen["candidates"] if chosen else []))}
        return {"rows": rows, "chosen": chosen, "options": options, "today": today(),
                "next_sheet": (max((s["sheet"] for s in chosen["representative_sheets"]), default=0) + 1) if chosen else 1}
    return page(request, "party_mass/selections.html", build)
