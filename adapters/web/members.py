"""网页：支部党员工作 (web pages: a branch's member-level work): the roster, member points,
talks and visits (due and overdue first), "1+N" links, projects, mentoring, meetings and
attendance, dues — each with the forms of what its secretary records.

Every page reads through the API's own endpoints as the visitor (``adapters.web.base.read``:
``/people``, ``/members``, ``/talks``, ``/links``, ``/projects``, ``/mentors``, ``/meetings``,
``/dues`` …), so a secretary sees only their branch, readers of every branch see any, and
talk and visit summaries appear only where ``may_read_summaries`` lets the API reveal them.
Forms are shown by ``Visitor.may_send`` (a hint) and sent through ``POST /web/do/{op}``
(``adapters/web/forms.py``), where the one permission check runs.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.web.base import page, read, web_of
from adapters.web.forms import Field, Form, Options, choices, register
from adapters.web.support import Visitor, latest_month
from domain import vocabulary
from domain.asof import SHANGHAI
from domain.periods import check_month, check_year

router = APIRouter(include_in_schema=False)

TABS = (("people", "名册"), ("points", "党员积分"), ("talks", "谈话走访"), ("links", "1+N 联系"),
        ("projects", "一年做成一件事"), ("mentors", "导师带徒"), ("meetings", "会议与出勤"), ("dues", "党费"))
TEXT = Field("reason")


def _occasions() -> Options:
    from domain.members.care import OCCASIONS as ALL
    return tuple((code, f"{vocabulary.CARE_KINDS[kind]}·{name}") for code, (kind, _n, name) in ALL.items())


register(
    Form("record_member_points", (Field("person", kind="select", options="members"), Field("month", kind="month"),
                                  Field("item", kind="select", options=choices(vocabulary.MEMBER_POINT_ITEMS)),
                                  Field("points", kind="decimal", hint="如 2 或 -1"), TEXT), "已录入个人积分"),
    Form("record_group_points", (Field("group", kind="select", options="groups"), Field("month", kind="month"),
                                 Field("points", kind="decimal"), TEXT), "已录入党小组积分"),
    Form("record_appraisal", (Field("person", kind="select", options="members"), Field("year", kind="int"),
                              Field("points", kind="decimal"), TEXT), "已录入年度评议"),
    Form("void_member_points", (Field("year", kind="int"), Field("entry_id", label="积分条目编号"), TEXT),
         "积分条目已作废", confirm="作废这条积分记录？作废也会记入日志。"),
    Form("raise_occasion", (Field("person", kind="select", options="people"),
                            Field("occasion", kind="select", options=_occasions()), Field("date", kind="date")),
         "已登记谈话走访事项"),
    Form("answer_occasion", (Field("occasion_id"), Field("conducted_by"), Field("date", kind="date"),
                             Field("summary", label="谈话走访摘要（加密保存，仅本支部书记与党委可见）", kind="textarea")),
         "已记录谈话走访"),
    Form("link_employee", (Field("member", kind="select", options="members"),
                           Field("employee", kind="select", options="employees"), Field("from", kind="month")),
         "已建立联系"),
    Form("unlink_employee", (Field("member"), Field("employee"), Field("from", kind="month"),
                             Field("reason", required=False)), "已解除联系"),
    Form("set_link_quota", (Field("group", kind="select", options="groups"), Field("n", kind="int"),
                            Field("from", kind="month")), "已设定联系职工人数"),
    Form("register_project", (Field("project", label="项目编号"), Field("title"), Field("year", kind="int"),
                              Field("member", kind="select", options="members", required=False),
                              Field("group", kind="select", options="groups", required=False), Field("goal"),
                              Field("target.unit", label="目标单位"), Field("target.value", label="目标值", kind="decimal")),
         "项目 {} 已登记"),
    Form("record_project_progress", (Field("project", kind="select", options="projects"), Field("date", kind="date"),
                                     Field("value", label="累计完成值", kind="decimal"),
                                     Field("note", required=False)), "已录入项目进展"),
    Form("complete_project", (Field("project", kind="select", options="projects"), Field("date", kind="date"),
                              Field("value", label="最终完成值", kind="decimal", required=False),
                              Field("note", required=False)), "项目已完成", confirm="确认该项目已完成？"),
    Form("register_mentorship", (Field("pair", label="师徒编号"), Field("year", kind="int"),
                                 Field("mentor", kind="select", options="people"),
                                 Field("mentor_is_activist", label="师傅是入党积极分子", kind="check", required=False),
                                 Field("apprentice", kind="select", options="employees")), "已登记师徒"),
    Form("record_apprentice_appraisal", (Field("pair", kind="select", options="pairs"), Field("date", kind="date"),
                                         Field("score", kind="decimal")), "已录入徒弟评议"),
    Form("record_skill_result", (Field("pair", kind="select", options="pairs"), Field("competition"),
                                 Field("rank", kind="int"), Field("date", kind="date")), "已录入技能竞赛成绩"),
    Form("record_meeting", (Field("kind", kind="select", options=choices(vocabulary.MEETING_KINDS)),
                            Field("date", kind="date"), Field("group", kind="select", options="groups", required=False),
                            Field("topic"), Field("chair"),
                            Field("attendance", kind="map", options="members", each="select",
                                  each_options=choices(vocabulary.ATTENDANCE)),
                            Field("answers", label="两会三问（经验交流会、问题分析会填写）", kind="map", each="textarea",
                                  options=(("branch", "支部在哪里"), ("members", "党员在哪里"), ("gap", "差距在哪里")),
                                  required=False)), "已记录会议"),
    Form("void_meeting", (Field("kind", kind="select", options=choices(vocabulary.MEETING_KINDS)),
                          Field("date", kind="date"), Field("group", required=False), TEXT), "会议已作废",
         confirm="作废这次会议？出勤也不再计分。"),
    Form("correct_attendance", (Field("kind", kind="select", options=choices(vocabulary.MEETING_KINDS)),
                                Field("date", kind="date"), Field("group", required=False),
                                Field("person", kind="select", options="members"),
                                Field("status", kind="select", options=choices(vocabulary.ATTENDANCE)), TEXT),
         "出勤已更正"),
    Form("set_dues_base", (Field("person", kind="select", options="members"), Field("from", kind="month"),
                           Field("category", kind="select", options=choices(vocabulary.DUES_CATEGORIES)),
                           Field("base", label="月基数（元）", kind="decimal", required=False)), "已核定党费基数"),
    Form("record_dues_payment", (Field("person", kind="select", options="members"),
                                 Field("month", label="所交月份", kind="month"), Field("amount", kind="decimal"),
                                 Field("channel", kind="select", options=choices(vocabulary.DUES_CHANNELS)),
                                 Field("paid_on", kind="date")), "已登记党费交纳（编号 {}）"),
    Form("void_dues_payment", (Field("person"), Field("payment_id"), TEXT), "党费交纳已作废",
         confirm="作废这笔党费交纳？"),
    Form("publish_dues", (Field("half", label="半年（如 2019H1）"),), "已公示（第 {} 次）",
         confirm="公示后将记录为事件并签名检查点，确定公示？"),
)


# -- what the pages share --------------------------------------------------------------------------------
def today() -> str:
    return dt.datetime.now(SHANGHAI).date().isoformat()


def default_month(request: Request, month: str | None) -> str:
    return check_month(month, "month") if month else latest_month(web_of(request).service.engine)


def default_year(request: Request, year: str | None) -> str:
    return check_year(year) if year else latest_month(web_of(request).service.engine)[:4]


def roster(request: Request, v: Visitor, code: str, month: str) -> dict[str, Any]:
    """The branch's people in ``month`` and the choices the forms offer (members,
    employees, everyone, party groups)."""
    people = read("/people/{month}", request, v, month=month, branch=code)["people"]
    label = {p["person"]: f"{p['name']}（{p['person']}）" for p in people}
    members = tuple((p["person"], label[p["person"]]) for p in people if p["kind"] == "member")
    employees = tuple((p["person"], label[p["person"]]) for p in people if p["kind"] == "employee")
    groups = tuple((g, g) for g in sorted({p["group"] for p in people if p.get("group")}))
    return {"people": people, "names": {p["person"]: p["name"] for p in people},
            "options": {"members": members, "employees": employees, "people": members + employees, "groups": groups}}


def base_context(v: Visitor, code: str, tab: str, **more: Any) -> dict[str, Any]:
    return {"code": code, "tab": tab, "tabs": TABS, "today": today(), **more}


# -- the pages ------------------------------------------------------------------------------------------
@router.get("/web/branch/{code}/people")
def people_page(code: str, request: Request, month: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        m = default_month(request, month)
        data = read("/people/{month}", request, v, month=m, branch=code)
        return base_context(v, code, "people", month=m, data=data)
    return page(request, "members/people.html", build)


@router.get("/web/branch/{code}/points")
def points_page(code: str, request: Request, year: str | None = None, person: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        y = default_year(request, year)
        data = read("/members/{year}", request, v, year=y, branch=code)
        detail = read("/members/{year}/explain", request, v, year=y, person=person) if person else None
        month = latest_month(web_of(request).service.engine)
        return base_context(v, code, "points", year=y, data=data, detail=detail, person=person,
                            month=month if month[:4] == y else f"{y}-12", **roster(request, v, code, f"{y}-12"))
    return page(request, "members/points.html", build)


STATUS_ORDER = {"overdue": 0, "open": 1, "answered_late": 2, "answered": 3}


@router.get("/web/branch/{code}/talks")
def talks_page(code: str, request: Request) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        data = read("/talks", request, v, branch=code)
        rows = sorted(data["occasions"], key=lambda o: (STATUS_ORDER.get(o["status"], 9), o.get("due") or "",
                                                        o["date"]))
        return base_context(v, code, "talks", data=data, rows=rows, revealed=data["summaries"] == "revealed",
                            **roster(request, v, code, latest_month(web_of(request).service.engine)))
    return page(request, "members/talks.html", build)


@router.get("/web/branch/{code}/links")
def links_page(code: str, request: Request, month: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        data = read("/links", request, v, branch=code, month=check_month(month, "month") if month else None)
        return base_context(v, code, "links", data=data, month=data["month"], **roster(request, v, code, data["month"]))
    return page(request, "members/links.html", build)


@router.get("/web/branch/{code}/projects")
def projects_page(code: str, request: Request, year: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        y = default_year(request, year)
        data = read("/projects/{year}", request, v, year=y, branch=code)
        projects = [p for b in data["branches"] for p in b["projects"]]
        context = roster(request, v, code, f"{y}-12")
        context["options"]["projects"] = tuple((p["project"], f"{p['project']} {p['title']}") for p in projects
                                               if not p["completed"])
        return base_context(v, code, "projects", year=y, data=data, projects=projects, **context)
    return page(request, "members/projects.html", build)


@router.get("/web/branch/{code}/mentors")
def mentors_page(code: str, request: Request, year: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        y = default_year(request, year)
        data = read("/mentors/{year}", request, v, year=y, branch=code)
        pairs = [(a["pair"], f"{a['pair']} {m['name']}→{a['name']}") for m in data["mentors"] for a in m["apprentices"]]
        context = roster(request, v, code, f"{y}-12")
        context["options"]["pairs"] = tuple(sorted(pairs))
        return base_context(v, code, "mentors", year=y, data=data, **context)
    return page(request, "members/mentors.html", build)


@router.get("/web/branch/{code}/meetings")
def meetings_page(code: str, request: Request, year: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        y = default_year(request, year)
        data = read("/meetings/{year}", request, v, year=y, branch=code)
        schedule = read("/meetings/{year}/schedule", request, v, year=y, branch=code)
        gaps = [g for b in schedule["branches"] for g in b["gaps"]]
        meetings = sorted(data["meetings"], key=lambda m: m["date"], reverse=True)
        context = roster(request, v, code, latest_month(web_of(request).service.engine))
        return base_context(v, code, "meetings", year=y, meetings=meetings, gaps=gaps, schedule=schedule,
                            defaults={f"attendance.{p}": "present" for p, _ in context["options"]["members"]},
                            **context)
    return page(request, "members/meetings.html", build)


@router.get("/web/branch/{code}/dues")
def dues_page(code: str, request: Request, period: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        month = latest_month(web_of(request).service.engine)
        p = period or f"{month[:4]}H{1 if int(month[5:]) <= 6 else 2}"
        data = read("/dues/{period}", request, v, period=p, branch=code)
        return base_context(v, code, "dues", period=p, data=data, month=month,
                            **roster(request, v, code, month))
    return page(request, "members/dues.html", build)


@router.post("/web/person/erase")
async def erase_person(request: Request) -> Response:
    """The committee destroys a person's summary key (``POST /persons/{person}/erase``),
    after the page's confirmation (the box must be ticked)."""
    from starlette.concurrency import run_in_threadpool

    from adapters.web.base import back, flash, form_of
    from domain.errors import InvalidInput, LedgerError
    visitor, form = await form_of(request)
    person = str(form.get("person") or "").strip()
    try:
        if not form.get("confirm"):
            raise InvalidInput("请勾选“我确认销毁”", "confirm")
        if not person:
            raise InvalidInput("请选择人员", "person")
        await run_in_threadpool(web_of(request).api.call, "POST", "/persons/{person}/erase", request, visitor.caller,
                                person=person, body={"reason": str(form.get("reason") or "") or None,
                                                     "actor": visitor.name})
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field)
        return back(form)
    await run_in_threadpool(flash, request, visitor, "ok", f"已销毁 {person} 的摘要密钥")
    return back(form)
