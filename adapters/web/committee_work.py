"""网页：党委会事务 (web pages: the committee's own work besides approvals and appeals):
correcting an entry after submission, recording the secretaries' annual debriefing scores,
closing selections (on the selections page), and the rulebook — its versions, a preview of
what a new version would change in the quarter it takes effect in, and adopting it.

Reads: the API's ``/entries``, ``/month``, ``/year``, ``/selections``, ``/rulebook`` and
``POST /rulebook/preview`` (no write); commands through ``POST /web/do/{op}``.
"""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.web.base import form_of, page, read, render, web_of
from adapters.web.forms import Field, Form, register, typed
from adapters.web.members import default_month, default_year
from adapters.web.party_mass import branch_options
from adapters.web.support import Visitor, latest_month
from domain.errors import LedgerError
from domain.periods import quarter_months, quarter_of

router = APIRouter(include_in_schema=False)

register(
    Form("correct_entry", (Field("entry_id"), Field("points", label="更正后分值", kind="decimal"), Field("reason")),
         "条目已更正", confirm="更正将记入日志，并影响该月及其季度、年度结果，确定更正？"),
    Form("record_debriefing", (Field("branch", kind="select", options="branches"), Field("year", kind="int"),
                               Field("score", label="述职评分", kind="decimal")), "述职评分已录入"),
    Form("adopt_rulebook", (Field("version", kind="int"), Field("from", label="生效月份（季度首月）", kind="month"),
                            Field("parameters", label="变更的参数（JSON，只写要改的参数）", kind="json")),
         "考核细则第 {} 版已通过", confirm="通过后新版本自生效月份起适用，确定通过？"),
)


@router.get("/web/committee/work")
def committee_work(request: Request, month: str | None = None, year: str | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        m = default_month(request, month)
        y = default_year(request, year)
        status = read("/month/{period}", request, v, period=m)["status"]
        entries = read("/entries", request, v, period=m)["entries"]
        annual = read("/year/{period}", request, v, period=y)
        open_selections = [s for s in read("/selections", request, v)["selections"] if s["status"] == "open"]
        return {"month": m, "year": y, "month_status": status, "entries": entries, "annual": annual,
                "open_selections": open_selections, "options": {"branches": branch_options(request, v)}}
    return page(request, "committee_work.html", build)


def _rulebook_context(request: Request, v: Visitor) -> dict[str, Any]:
    versions = read("/rulebook", request, v)["versions"]
    latest = max(versions, key=lambda x: x["version"])
    month = latest_month(web_of(request).service.engine)
    start = quarter_months(quarter_of(month))[0]
    return {"versions": versions, "latest": latest,
            "defaults": {"version": latest["version"] + 1, "from": start, "parameters": "{\n  \n}"}}


@router.get("/web/rulebook")
def rulebook(request: Request) -> Response:
    return page(request, "rulebook.html", lambda v: {**_rulebook_context(request, v), "preview": None})


@router.post("/web/rulebook/preview")
async def rulebook_preview(request: Request) -> Response:
    """The page again, with the form as typed and what the version would change (or why
    it cannot be previewed); nothing is written."""
    visitor, form = await form_of(request)
    values = typed(form)

    def build() -> Response:
        context = _rulebook_context(request, visitor)
        context["defaults"] = {**context["defaults"], **values}
        try:
            changes = json.loads(values.get("parameters") or "{}", parse_float=str)
            version = int(values["version"]) if values.get("version", "").isdigit() else values.get("version")
            preview = web_of(request).api.call("POST", "/rulebook/preview", request, visitor.caller,
                                               body={"version": version, "from": values.get("from"),
                                                     "parameters": changes})
            return render(request, visitor, "rulebook.html", preview=preview, preview_error=None, **context)
        except json.JSONDecodeError as e:
            from domain import vocabulary
            reason = vocabulary.json_reason(e.msg, e.lineno, e.colno)
        except LedgerError as e:
            reason = e.reason
        return render(request, visitor, "rulebook.html", 422, preview=None, preview_error=reason, **context)
    return await run_in_threadpool(build)
