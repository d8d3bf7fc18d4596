"""HTTP 读取：党员层面 (member-level reads): people, member points, "1+N" links, projects,
innovation, mentoring, meetings, selection, talks and visits (and erasing a person's
summary key) — as ``ledger people list``, ``ledger members show`` and so on.

Scopes and shared helpers: ``adapters/http/reads.py``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from adapters.http.deps import Caller, LedgerJSON, authenticated, reply, service_of
from adapters.http.reads import REPLAY, branch_param, everything, fold, model_of, now_or_replayed, own_branch, stamped
from adapters.store.replay import stamp_fields
from domain.asof import SHANGHAI, AsOf
from domain.errors import InvalidInput
from domain.periods import check_month, check_year
from domain.service.permissions import may_read_summaries

router = APIRouter(tags=["读取"])


# -- people and the member-level mechanisms ---------------------------------------------------------------
@router.get("/people/{month}", summary="某月党员与职工名册（ledger people list）")
def people_list(month: str, request: Request, branch: str | None = None, point: AsOf | None = REPLAY,
                caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.people import PeopleModel, people_json
    branch = branch_param(request, caller, branch)
    check_month(month)
    model = fold(service_of(request), PeopleModel(), point)
    warnings = [w for w in model_of(service_of(request), None, point).member_count_warnings(month)
                if branch in (None, w["branch"])]
    return reply({**people_json(model, branch, month), "member_warnings": warnings, "position": model.position,
                  **stamp_fields(point)})


@router.get("/members/{year}", summary="党员积分（ledger members show）")
def members_show(year: str, request: Request, branch: str | None = None, point: AsOf | None = REPLAY,
                 caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.member_points import MemberPointsModel, members_json
    branch = branch_param(request, caller, branch)
    check_year(year)

    def shown() -> dict[str, Any]:
        model = fold(service_of(request), MemberPointsModel(), point)
        return stamped(members_json(model, year, branch), model, point)
    return reply(now_or_replayed(request, ("members", year, branch), point, shown))


@router.get("/members/{year}/explain", summary="某党员积分从何而来（ledger members explain）")
def members_explain(year: str, person: str, request: Request, point: AsOf | None = REPLAY,
                    caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from domain.errors import PersonNotFound
    from projections.member_points import MemberPointsModel, explain_member_json
    check_year(year)

    def shown() -> dict[str, Any] | None:
        model = fold(service_of(request), MemberPointsModel(), point)
        data = explain_member_json(model, year, person)
        return None if data is None else stamped(data, model, point)
    data = now_or_replayed(request, ("member", year, person), point, shown)
    if data is None:
        raise PersonNotFound(f"{person} 在 {year} 年不是党员（或未登记）", "person")
    own_branch(request, caller, data["branch"])
    return reply(data)


@router.get("/links", summary="党员“1+N”结对（ledger links show）")
def links_show(branch: str, request: Request, month: str | None = None, point: AsOf | None = REPLAY,
               caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.links import LinksModel, links_json
    own_branch(request, caller, branch)
    if month is not None:
        check_month(month, "month")
    model = fold(service_of(request), LinksModel(), point)
    when = month or model.latest_month(branch) or dt.datetime.now(SHANGHAI).strftime("%Y-%m")
    return reply(stamped(links_json(model, branch, when), model, point))


@router.get("/projects/{year}", summary="一年做成一件事（ledger projects show）")
def projects_show(year: str, request: Request, branch: str | None = None, point: AsOf | None = REPLAY,
                  caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.projects import ProjectsModel, projects_json
    branch = branch_param(request, caller, branch)
    check_year(year)
    model = fold(service_of(request), ProjectsModel(), point)
    return reply(stamped(projects_json(model, year, branch), model, point))


@router.get("/innovation", summary="创新创效（ledger innovation show）")
def innovation_show(request: Request, branch: str | None = None, year: str | None = None,
                    point: AsOf | None = REPLAY, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.innovation import InnovationModel, innovation_json
    branch = branch_param(request, caller, branch)
    if year is not None:
        check_year(year)
    model = fold(service_of(request), InnovationModel(), point)
    return reply(stamped(innovation_json(model, year, branch), model, point))


@router.get("/mentors/{year}", summary="导师带徒（ledger mentors show）")
def mentors_show(year: str, request: Request, branch: str | None = None, point: AsOf | None = REPLAY,
                 caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.mentoring import MentoringModel, mentors_json
    branch = branch_param(request, caller, branch)
    check_year(year)
    model = fold(service_of(request), MentoringModel(), point)
    return reply(stamped(mentors_json(model, year, branch), model, point))


@router.get("/meetings/{year}", summary="某年的组织生活会议及出勤（ledger meetings show）")
def meetings_show(year: str, request: Request, branch: str | None = None, kind: str | None = None,
                  point: AsOf | None = REPLAY, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.meetings import MeetingsModel, meetings_json
    branch = branch_param(request, caller, branch)
    check_year(year)
    model = fold(service_of(request), MeetingsModel(), point)
    return reply(stamped(meetings_json(model, year, branch, kind), model, point))


@router.get("/meetings/{year}/schedule", summary="会议频次检查：落后的支部（ledger meetings schedule）")
def meetings_schedule(year: str, request: Request, branch: str | None = None, through: str | None = None,
                      point: AsOf | None = REPLAY, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.read_inputs import default_through
    from projections.meetings import MeetingsModel, schedule_json
    branch = branch_param(request, caller, branch)
    check_year(year)
    if through is not None:
        check_month(through, "through")
    model = fold(service_of(request), MeetingsModel(), point)
    data = schedule_json(model, year, branch, through or default_through(year))
    return reply(stamped(data, model, point))


@router.get("/selection/{position}", summary="竞聘情况与结果（ledger selection show）")
def selection_show(position: str, request: Request, point: AsOf | None = REPLAY,
                   caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.selection import SelectionModel, position_json
    everything(request, caller, "竞聘")
    model = fold(service_of(request), SelectionModel(), point)
    return reply({**position_json(model, position), "position_reached": model.position, **stamp_fields(point)})


# -- talks and visits -------------------------------------------------------------------------------
@router.get("/talks/due", summary="待办与超期的谈话走访（ledger talks due）")
def talks_due(request: Request, branch: str | None = None, today: str | None = None,
              point: AsOf | None = REPLAY, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.read_inputs import day_of
    from projections.care import CareModel, care_json
    branch = branch_param(request, caller, branch)
    day = day_of(today)
    model = fold(service_of(request), CareModel(), point)
    return reply(stamped(care_json(model, day, branch, open_only=True), model, point))


@router.get("/talks", summary="某支部全部谈话走访（ledger talks show）；摘要仅本支部书记与党委可见")
def talks_show(branch: str, request: Request, today: str | None = None, point: AsOf | None = REPLAY,
               caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.read_inputs import day_of
    from projections.care import CareModel, care_json
    own_branch(request, caller, branch)
    day = day_of(today)
    model = fold(service_of(request), CareModel(), point)
    reveal = may_read_summaries(caller.roles, branch)
    vault = getattr(service_of(request).ledger, "vault", None) if reveal else None
    data = care_json(model, day, branch, reveal=lambda b: may_read_summaries(caller.roles, b), vault=vault)
    return reply(stamped(data, model, point))


@router.get("/talks/occasions", summary="六必谈、六必访的事由代码（ledger talks occasions）")
def talks_occasions(caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from domain.members.care import KIND_NAMES, OCCASIONS, PERSONNEL_KINDS
    return reply({"occasions": [{"code": code, "kind": kind, "kind_name": KIND_NAMES[kind], "number": number,
                                 "name": name} for code, (kind, number, name) in OCCASIONS.items()],
                  "personnel": {k: {"occasion": code, "name": n} for k, (code, n) in PERSONNEL_KINDS.items()}})


@router.get("/persons/erased", summary="已销毁摘要密钥的人员（ledger person erased）")
def persons_erased(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.care import CareModel
    everything(request, caller, "密钥销毁记录")
    model = fold(service_of(request), CareModel(), None)
    return reply({"erased": sorted(model.erased.values(), key=lambda e: e["person"])})


@router.post("/persons/{person}/erase", tags=["写入"], status_code=201,
             summary="销毁某人的谈话走访摘要密钥（ledger person erase；系统管理员）")
def person_erase(person: str, request: Request, body: dict[str, Any] = Body(default={}),
                 caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from domain.members.care import ErasePersonKey
    actor = body.get("actor") or caller.user
    try:
        command = ErasePersonKey(person=person, reason=body.get("reason"), actor=actor)
    except Exception as e:  # noqa: BLE001 - pydantic's error: name the field
        raise InvalidInput(str(e).splitlines()[-1].strip(), "reason") from None
    # The handler records the erasure, then destroys the key once it is saved (domain/service/handlers/care.py).
    recorded = bool(service_of(request).execute(command, caller.user))
    return reply({"person": person, "recorded": recorded}, 201 if recorded else 200)
