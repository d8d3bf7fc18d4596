"""网页：登记员 (web pages: the registrar): branches (registering one, its member count) and
their secretaries (appointing one, with the user who then holds ``secretary:<branch>``);
party members and employees (enrolling, registering, class changes, transfers, departures,
personnel events that raise a talk). Reads: the API's ``/month``, ``/year`` and ``/people``;
commands through ``POST /web/do/{op}``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.web.base import page, read
from adapters.web.forms import Field, Form, choices, register
from adapters.web.members import default_month, roster, today
from adapters.web.party_mass import branch_options
from adapters.web.support import Visitor
from domain import vocabulary

router = APIRouter(include_in_schema=False)


def _personnel() -> tuple[tuple[str, str], ...]:
    from domain.members.care import PERSONNEL_KINDS
    return tuple((k, name) for k, (_occasion, name) in PERSONNEL_KINDS.items())


CLASSES = choices(vocabulary.MEMBER_CLASSES)
register(
    Form("register_branch", (Field("code", label="支部代码"), Field("name"), Field("members", kind="int"),
                             Field("from", label="参加考核自（月份）", kind="month", required=False)), "支部 {} 已登记"),
    Form("set_members", (Field("branch", kind="select", options="branches"), Field("members", kind="int"),
                         Field("from", kind="month")), "党员人数已变更"),
    Form("appoint_secretary", (Field("branch", kind="select", options="branches"), Field("name", label="书记姓名"),
                               Field("user", label="登录用户（可不填）", required=False),
                               Field("mode", kind="select", options=choices(vocabulary.MODES)),
                               Field("allowance", label="兼职月津贴（元）", kind="decimal", required=False),
                               Field("from", kind="month")), "支部书记已任命"),
    Form("enrol_member", (Field("person", label="人员编号"), Field("name", label="姓名"),
                          Field("group", required=False), Field("class", label="党员类别", kind="select", options=CLASSES),
                          Field("from", kind="month")), "党员 {} 已登记"),
    Form("register_employee", (Field("person", label="人员编号"), Field("name", label="姓名"),
                               Field("group", required=False), Field("from", kind="month")), "职工 {} 已登记"),
    Form("change_member_class", (Field("person", kind="select", options="members"),
                                 Field("class", label="党员类别", kind="select", options=CLASSES),
                                 Field("from", kind="month")), "党员类别已变更"),
    Form("transfer_person", (Field("person", kind="select", options="people"),
                             Field("branch", label="转入支部", kind="select", options="branches"),
                             Field("group", required=False), Field("from", kind="month")), "组织关系已转接"),
    Form("record_departure", (Field("person", kind="select", options="people"), Field("reason"),
                              Field("from", kind="month")), "已记录离开", confirm="记录该人员离开本支部？"),
    Form("record_personnel_event", (Field("person", kind="select", options="people"),
                                    Field("kind", kind="select", options=_personnel()), Field("date", kind="date")),
         "已记录人事事项（相应的谈话已列入待办）"),
)


@router.get("/web/registry")
def registry(request: Request, month: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        m = default_month(request, month)
        rows = read("/month/{period}", request, v, period=m)["branches"]
        sizes = {b["branch"]: b.get("members") for b in read("/year/{period}", request, v, period=m[:4])["branches"]}
        return {"month": m, "rows": rows, "sizes": sizes, "options": {"branches": branch_options(request, v)}}
    return page(request, "registry.html", build)


@router.get("/web/registry/people")
def registry_people(request: Request, branch: str | None = None, month: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        m = default_month(request, month)
        branches = branch_options(request, v)
        code = branch or (branches[0][0] if branches else "")
        context = roster(request, v, code, m) if code else {"people": [], "names": {}, "options": {}}
        context["options"]["branches"] = branches
        return {"month": m, "code": code, "today": today(), **context}
    return page(request, "registry_people.html", build)
