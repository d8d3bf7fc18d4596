"""HTTP 接口的读取 (reads of the HTTP API): the CLI's shows, each scoped by the caller's roles.

Scope (``domain/permissions.py``): a branch secretary reads their own branch in full and
every branch's published rankings (approved quarters and years), never another branch's
entries, appeals, history, people or talks; readers of every branch (auditor, committee,
approver, …) read everything, talk and visit summaries' text only as the person's branch
secretary or the committee; an admin reads only users and roles (and the security log,
with the auditor). A refused read is a 403 and is written to the security log.

Views that list every branch (month; a quarter or year not yet approved) show a
branch-limited reader only their rows. ``as_of`` replays the log as recorded by that moment
(as the CLI's ``--as-of``).
"""
from __future__ import annotations

import base64
import datetime as dt
from typing import Any, Callable, TypeVar
from uuid import UUID

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request

from adapters.http import Caller, LedgerJSON, Service, reply
from adapters.logreader import LogReader
from domain import commands as c
from domain.asof import SHANGHAI, parse_as_of
from domain.errors import InvalidInput, LedgerError, PermissionDenied
from domain.ids import month_id
from domain.periods import check_month, check_quarter, check_year, quarter_months
from domain.permissions import (ALL_BRANCHES, branch_in_scope, check_read_all, check_read_branch,
                                may_read_directory, may_read_rankings, may_read_summaries, readable_branches)
from projections.model import AssessmentModel

T = TypeVar("T")
ENTRY_EVENTS = ("AssessmentMonth.ScoreRecorded", "AssessmentMonth.EntryCorrected", "AssessmentMonth.EntryVoided")
APPEAL_EVENTS = ("EntryAppeals.Filed", "EntryAppeals.Decided")
AS_OF = Query(None, description="按某一时刻账本所知的情况重放（ISO 8601 带时区；只写日期表示北京时间当日结束）")


class ProofNotFound(LedgerError):
    """A proof, checkpoint or event that cannot be produced (reason from ``adapters/proofs``)."""


def _iso(at_us: int) -> str:
    from domain.log import EPOCH
    return (EPOCH + dt.timedelta(microseconds=at_us)).astimezone(SHANGHAI).isoformat()


def read_routes(service: Service, authenticated: Callable[..., Caller]) -> APIRouter:
    """Every read of the CLI as a GET (and the few non-command writes it offers)."""
    router = APIRouter(tags=["读取"])
    engine = service.engine

    def allow(request: Request, caller: Caller, check: Callable[[], T]) -> T:
        """Run a read check; a refusal is written to the security log, then raised (403)."""
        try:
            return check()
        except PermissionDenied as e:
            service.ledger._refused(caller.user, f"{request.method} {request.url.path}", e)
            raise

    def rankings(request: Request, caller: Caller) -> None:
        def check() -> None:
            if not may_read_rankings(caller.roles):
                raise PermissionDenied("无权查看考核结果：系统管理员只能管理用户与角色", None)
        allow(request, caller, check)

    def upto(as_of: str | None) -> int | None:
        if as_of is None:
            return None
        return LogReader(engine).position_recorded_by(parse_as_of(as_of))

    def model_of(sections: list[str] | None, as_of: str | None) -> AssessmentModel:
        if as_of is None:
            return service.view.model(sections)
        reader = LogReader(engine)
        return AssessmentModel().apply_all(reader.read(upto=upto(as_of)))

    def fold(model: Any, as_of: str | None) -> Any:
        return model.apply_all(LogReader(engine).read(upto=upto(as_of), topic_suffixes=model.topic_filter()))

    def stamped(data: dict[str, Any], position: int, as_of: str | None) -> dict[str, Any]:
        return {**data, "as_of": as_of, "position": position}

    def visible(data: dict[str, Any], caller: Caller, published: bool) -> dict[str, Any]:
        """All rows for readers of every branch or a published ranking; else their branches'."""
        scope = readable_branches(caller.roles)
        if published or scope == ALL_BRANCHES:
            return data
        return {**data, "branches": [b for b in data["branches"] if b["branch"] in scope]}

    def branch_param(request: Request, caller: Caller, branch: str | None) -> str | None:
        return allow(request, caller, lambda: branch_in_scope(caller.roles, branch))

    def own_branch(request: Request, caller: Caller, branch: str) -> None:
        allow(request, caller, lambda: check_read_branch(caller.roles, branch))

    def everything(request: Request, caller: Caller, what: str) -> None:
        allow(request, caller, lambda: check_read_all(caller.roles, what))

    # -- month, quarter, year, rulebook --------------------------------------------------------------
    @router.get("/month/{period}", summary="月度考核（ledger month show）")
    def month_show(period: str, request: Request, as_of: str | None = AS_OF,
                   caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.views import month_json
        rankings(request, caller)
        check_month(period)
        model = model_of(["month:" + period], as_of)
        return reply(visible(stamped(month_json(model, period), model.position, as_of), caller, published=False))

    @router.get("/quarter/{period}", summary="季度排名（ledger quarter show）：审批后向所有角色公布")
    def quarter_show(period: str, request: Request, as_of: str | None = AS_OF,
                     caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.views import quarter_json
        rankings(request, caller)
        check_quarter(period)
        model = model_of([*("month:" + m for m in quarter_months(period)), "quarter:" + period], as_of)
        data = stamped(quarter_json(model, period), model.position, as_of)
        return reply(visible(data, caller, published=data["status"] == "approved"))

    @router.get("/year/{period}", summary="年度总评（ledger year show）：审批后向所有角色公布")
    def year_show(period: str, request: Request, as_of: str | None = AS_OF,
                  caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.annual import year_json
        rankings(request, caller)
        check_year(period)
        model = model_of(None, as_of)
        data = stamped(year_json(model, period), model.position, as_of)
        if data["status"] != "approved" and readable_branches(caller.roles) != ALL_BRANCHES:
            data["member_warnings"] = [w for w in data.get("member_warnings", [])
                                       if w["branch"] in readable_branches(caller.roles)]
        return reply(visible(data, caller, published=data["status"] == "approved"))

    @router.get("/quarter/{period}/diff", summary="审批时与当前的季度排名对照（ledger quarter diff）")
    def quarter_diff_show(period: str, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.compare import quarter_diff
        everything(request, caller, "季度对照")
        check_quarter(period)
        events = list(LogReader(engine).read())
        model = AssessmentModel().apply_all(events)
        if period not in model.quarters:
            raise InvalidInput(f"{period} 尚未审批，没有可对照的审批结果", "period")
        return reply(quarter_diff(model, period, events))

    @router.get("/quarter/{period}/whatif", summary="假设某些记录不存在或按其他分值计，重算季度（ledger quarter whatif）")
    def quarter_whatif_show(period: str, request: Request,
                            without: list[str] = Query([], description="条目编号、申诉编号或日志位置"),
                            set_: list[str] = Query([], alias="set", description="ENTRY=POINTS"),
                            caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.compare import quarter_whatif
        everything(request, caller, "季度假设重算")
        check_quarter(period)
        wanted = {_ref(r, "without") for r in without}
        points = {}
        for item in set_:
            entry, _, value = item.partition("=")
            points[_ref(entry, "set")] = c.parse_command({"op": "correct_entry", "entry_id": entry, "points": value,
                                                         "reason": "-", "actor": "-"}).points  # type: ignore[attr-defined]
        return reply(quarter_whatif(list(LogReader(engine).read()), period, wanted, points))

    @router.get("/rulebook", summary="考核细则各版本（ledger rulebook show）")
    def rulebook_show(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        rankings(request, caller)
        model = service.view.model([])
        return reply({"versions": [{"version": int(v), "from": start, "parameters": params}
                                   for v, (start, params) in sorted(model.org["rulebooks"].items(),
                                                                    key=lambda kv: int(kv[0]))]})

    # -- explanations -------------------------------------------------------------------------------
    def month_entries(period: str, position: int) -> list[Any]:
        return list(LogReader(engine).read(upto=position, aggregate_id=month_id(period), topic_suffixes=ENTRY_EVENTS))

    def appeal_events(position: int) -> list[Any]:
        return list(LogReader(engine).read(upto=position, topic_suffixes=APPEAL_EVENTS))

    def explained(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        from domain.errors import BranchNotFound
        try:
            return action()
        except KeyError as e:
            raise BranchNotFound(str(e.args[0]), "branch") from None

    def attach_proofs(data: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        from adapters.proofs import ProofError, TreeReader, inclusion_bundle
        reader = TreeReader(engine)
        try:
            for entry in entries:
                bundle = inclusion_bundle(reader, entry["position"])
                entry["proof"] = {"leaf_index": bundle["leaf_index"], "hashes": bundle["proof"]}
                data["checkpoint"] = bundle["checkpoint"]
        except ProofError as e:
            raise ProofNotFound(str(e), None) from None

    @router.get("/explain/month/{period}", summary="推导某支部某月得分（ledger explain month）")
    def explain_month_show(period: str, branch: str, request: Request, as_of: str | None = AS_OF,
                           with_proofs: bool = False, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.explain import explain_month
        own_branch(request, caller, branch)
        check_month(period)
        model = model_of(None, as_of)
        data = explained(lambda: explain_month(model, period, branch, month_entries(period, model.position),
                                               appeal_events(model.position)))
        if with_proofs:
            attach_proofs(data, data["entries"])
        return reply(stamped(data, model.position, as_of))

    @router.get("/explain/quarter/{period}", summary="推导某支部季度得分、名次与奖惩（ledger explain quarter）")
    def explain_quarter_show(period: str, branch: str, request: Request, as_of: str | None = AS_OF,
                             with_proofs: bool = False, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.explain import explain_quarter
        own_branch(request, caller, branch)
        check_quarter(period)
        model = model_of(None, as_of)
        data = explained(lambda: explain_quarter(
            model, period, branch, {m: month_entries(m, model.position) for m in quarter_months(period)},
            appeal_events(model.position)))
        if with_proofs:
            attach_proofs(data, [e for m in data["months"] for e in m["entries"]])
        return reply(stamped(data, model.position, as_of))

    @router.get("/explain/year/{period}", summary="推导某支部年度总评（ledger explain year）")
    def explain_year_show(period: str, branch: str, request: Request, as_of: str | None = AS_OF,
                          caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.explain import explain_year
        own_branch(request, caller, branch)
        check_year(period)
        model = model_of(None, as_of)
        return reply(stamped(explained(lambda: explain_year(model, period, branch)), model.position, as_of))

    # -- entries, appeals, history -----------------------------------------------------------------------
    @router.get("/entries", summary="某月的得分条目（ledger entries）")
    def entries(period: str, request: Request, branch: str | None = None,
                caller: Caller = Depends(authenticated)) -> LedgerJSON:
        branch = branch_param(request, caller, branch)
        check_month(period)
        rows = []
        for e in LogReader(engine).read(aggregate_id=month_id(period),
                                        topic_suffixes=("AssessmentMonth.ScoreRecorded",)):
            d = e.data
            if branch is not None and d["branch"] != branch:
                continue
            rows.append({"entry_id": str(d["entry_id"]), "key": d["key"], "position": e.position,
                         "branch": d["branch"], "period": period, "category": d["category"],
                         "points": str(d["points"]), "department": d["department"], "actor": d["actor"],
                         "by": d.get("by"), "reason": d["reason"], "recorded_at": _iso(e.recorded_at_us)})
        return reply({"entries": rows})

    @router.get("/appeals", summary="申诉及其决定（支部书记只看本支部）")
    def appeals(request: Request, branch: str | None = None, period: str | None = None,
                as_of: str | None = AS_OF, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        branch = branch_param(request, caller, branch)
        if period is not None:
            check_month(period)
        found: dict[str, dict[str, Any]] = {}
        for e in LogReader(engine).read(upto=upto(as_of), topic_suffixes=APPEAL_EVENTS):
            d = e.data
            if e.name == "EntryAppeals.Filed":
                found[str(d["appeal_id"])] = {
                    "appeal_id": str(d["appeal_id"]), "entry_id": str(d["entry_id"]), "branch": d["branch"],
                    "period": d["period"], "reason": d["reason"], "actor": d["actor"], "by": d.get("by"),
                    "key": d.get("key"), "position": e.position, "filed_at": _iso(e.recorded_at_us),
                    "status": "open", "decision": None}
            elif str(d["appeal_id"]) in found:
                row = found[str(d["appeal_id"])]
                row["status"] = d["decision"]
                row["decision"] = {"decision": d["decision"], "points": None if d["points"] is None else str(d["points"]),
                                   "reason": d["reason"], "actor": d["actor"], "by": d.get("by"),
                                   "position": e.position, "decided_at": _iso(e.recorded_at_us)}
        rows = [r for r in found.values()
                if (branch is None or r["branch"] == branch) and (period is None or r["period"] == period)]
        return reply({"branch": branch, "period": period, "as_of": as_of, "appeals": rows})

    @router.get("/history", summary="与某支部有关的全部事件（ledger history；含对本支部申诉的决定）")
    def history(branch: str, request: Request, from_: str | None = Query(None, alias="from"),
                to: str | None = None, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        own_branch(request, caller, branch)
        start = parse_as_of(from_, "from") if from_ else None
        end = parse_as_of(to, "to") if to else None
        return reply({"branch": branch, "events": history_rows(engine, branch, start, end)})

    # -- people and the member-level mechanisms ---------------------------------------------------------------
    @router.get("/people/{month}", summary="某月党员与职工名册（ledger people list）")
    def people_list(month: str, request: Request, branch: str | None = None, as_of: str | None = AS_OF,
                    caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.people import PeopleModel, people_json
        branch = branch_param(request, caller, branch)
        check_month(month)
        model = fold(PeopleModel(), as_of)
        warnings = [w for w in model_of(None, as_of).member_count_warnings(month) if branch in (None, w["branch"])]
        return reply({**people_json(model, branch, month), "member_warnings": warnings, "position": model.position,
                      "as_of": as_of})

    @router.get("/members/{year}", summary="党员积分（ledger members show）")
    def members_show(year: str, request: Request, branch: str | None = None, as_of: str | None = AS_OF,
                     caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.member_points import MemberPointsModel, members_json
        branch = branch_param(request, caller, branch)
        check_year(year)
        model = fold(MemberPointsModel(), as_of)
        return reply(stamped(members_json(model, year, branch), model.position, as_of))

    @router.get("/members/{year}/explain", summary="某党员积分从何而来（ledger members explain）")
    def members_explain(year: str, person: str, request: Request, as_of: str | None = AS_OF,
                        caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from domain.errors import PersonNotFound
        from projections.member_points import MemberPointsModel, explain_member_json
        check_year(year)
        model = fold(MemberPointsModel(), as_of)
        data = explain_member_json(model, year, person)
        if data is None:
            raise PersonNotFound(f"{person} 在 {year} 年不是党员（或未登记）", "person")
        own_branch(request, caller, data["branch"])
        return reply(stamped(data, model.position, as_of))

    @router.get("/links", summary="党员“1+N”结对（ledger links show）")
    def links_show(branch: str, request: Request, month: str | None = None, as_of: str | None = AS_OF,
                   caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.links import LinksModel, links_json
        own_branch(request, caller, branch)
        if month is not None:
            check_month(month, "month")
        model = fold(LinksModel(), as_of)
        when = month or model.latest_month(branch) or dt.datetime.now(SHANGHAI).strftime("%Y-%m")
        return reply(stamped(links_json(model, branch, when), model.position, as_of))

    @router.get("/projects/{year}", summary="一年做成一件事（ledger projects show）")
    def projects_show(year: str, request: Request, branch: str | None = None, as_of: str | None = AS_OF,
                      caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.projects import ProjectsModel, projects_json
        branch = branch_param(request, caller, branch)
        check_year(year)
        model = fold(ProjectsModel(), as_of)
        return reply(stamped(projects_json(model, year, branch), model.position, as_of))

    @router.get("/innovation", summary="创新创效（ledger innovation show）")
    def innovation_show(request: Request, branch: str | None = None, year: str | None = None,
                        as_of: str | None = AS_OF, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.innovation import InnovationModel, innovation_json
        branch = branch_param(request, caller, branch)
        if year is not None:
            check_year(year)
        model = fold(InnovationModel(), as_of)
        return reply(stamped(innovation_json(model, year, branch), model.position, as_of))

    @router.get("/mentors/{year}", summary="导师带徒（ledger mentors show）")
    def mentors_show(year: str, request: Request, branch: str | None = None, as_of: str | None = AS_OF,
                     caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.mentoring import MentoringModel, mentors_json
        branch = branch_param(request, caller, branch)
        check_year(year)
        model = fold(MentoringModel(), as_of)
        return reply(stamped(mentors_json(model, year, branch), model.position, as_of))

    @router.get("/meetings/{year}", summary="某年的组织生活会议及出勤（ledger meetings show）")
    def meetings_show(year: str, request: Request, branch: str | None = None, kind: str | None = None,
                      as_of: str | None = AS_OF, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.meetings import MeetingsModel, meetings_json
        branch = branch_param(request, caller, branch)
        check_year(year)
        model = fold(MeetingsModel(), as_of)
        return reply(stamped(meetings_json(model, year, branch, kind), model.position, as_of))

    @router.get("/meetings/{year}/schedule", summary="会议频次检查：落后的支部（ledger meetings schedule）")
    def meetings_schedule(year: str, request: Request, branch: str | None = None, through: str | None = None,
                          as_of: str | None = AS_OF, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.cli_meetings import _default_through
        from projections.meetings import MeetingsModel, schedule_json
        branch = branch_param(request, caller, branch)
        check_year(year)
        if through is not None:
            check_month(through, "through")
        model = fold(MeetingsModel(), as_of)
        data = schedule_json(model, year, branch, through or _default_through(year))
        return reply(stamped(data, model.position, as_of))

    @router.get("/selection/{position}", summary="竞聘情况与结果（ledger selection show）")
    def selection_show(position: str, request: Request, as_of: str | None = AS_OF,
                       caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.selection import SelectionModel, position_json
        everything(request, caller, "竞聘")
        model = fold(SelectionModel(), as_of)
        return reply({**position_json(model, position), "position_reached": model.position, "as_of": as_of})

    # -- talks and visits -------------------------------------------------------------------------------
    @router.get("/talks/due", summary="待办与超期的谈话走访（ledger talks due）")
    def talks_due(request: Request, branch: str | None = None, today: str | None = None,
                  as_of: str | None = AS_OF, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.cli_care import _today
        from projections.care import CareModel, care_json
        branch = branch_param(request, caller, branch)
        day = _today(today)
        model = fold(CareModel(), as_of)
        return reply(stamped(care_json(model, day, branch, open_only=True), model.position, as_of))

    @router.get("/talks", summary="某支部全部谈话走访（ledger talks show）；摘要仅本支部书记与党委可见")
    def talks_show(branch: str, request: Request, today: str | None = None, as_of: str | None = AS_OF,
                   caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.cli_care import _today
        from projections.care import CareModel, care_json
        own_branch(request, caller, branch)
        day = _today(today)
        model = fold(CareModel(), as_of)
        reveal = may_read_summaries(caller.roles, branch)
        vault = getattr(service.ledger, "vault", None) if reveal else None
        data = care_json(model, day, branch, reveal=lambda b: may_read_summaries(caller.roles, b), vault=vault)
        return reply(stamped(data, model.position, as_of))

    @router.get("/talks/occasions", summary="六必谈、六必访的事由代码（ledger talks occasions）")
    def talks_occasions(caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from domain.care import KIND_NAMES, OCCASIONS, PERSONNEL_KINDS
        return reply({"occasions": [{"code": code, "kind": kind, "kind_name": KIND_NAMES[kind], "number": number,
                                     "name": name} for code, (kind, number, name) in OCCASIONS.items()],
                      "personnel": {k: {"occasion": code, "name": n} for k, (code, n) in PERSONNEL_KINDS.items()}})

    @router.get("/persons/erased", summary="已销毁摘要密钥的人员（ledger person erased）")
    def persons_erased(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from projections.care import CareModel
        everything(request, caller, "密钥销毁记录")
        model = fold(CareModel(), None)
        return reply({"erased": sorted(model.erased.values(), key=lambda e: e["person"])})

    @router.post("/persons/{person}/erase", tags=["写入"], status_code=201,
                 summary="销毁某人的谈话走访摘要密钥（ledger person erase；系统管理员）")
    def person_erase(person: str, request: Request, body: dict[str, Any] = Body(default={}),
                     caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from domain.care import ErasePersonKey, vault_of
        actor = body.get("actor") or caller.user
        try:
            command = ErasePersonKey(person=person, reason=body.get("reason"), actor=actor)
        except Exception as e:  # noqa: BLE001 - pydantic's error: name the field
            raise InvalidInput(str(e).splitlines()[-1].strip(), "reason") from None
        # As domain.care.erase_person, with the acting user: record the erasure, then destroy the key.
        recorded = bool(service.execute(command, caller.user))
        service.locked(lambda: vault_of(service.ledger).erase(person))
        return reply({"person": person, "recorded": recorded}, 201 if recorded else 200)

    # -- tamper evidence -------------------------------------------------------------------------------
    def proof_call(action: Callable[[], T]) -> T:
        from adapters.proofs import ProofError
        try:
            return action()
        except ProofError as e:
            raise ProofNotFound(str(e), None) from None
        except OverflowError:  # SQLite: beyond 64 bits names no position or checkpoint (PostgreSQL finds none)
            raise ProofNotFound("没有这个日志位置或检查点（数值超出 64 位整数范围）", None) from None

    def event_position(reader: Any, event: str) -> int:
        if event.isascii() and event.isdigit():  # "²".isdigit() too, but int("²") fails
            return int(event)
        try:
            UUID(event)
        except ValueError:
            raise InvalidInput(f"{event!r} 不是条目编号或日志位置", "event") from None
        return proof_call(lambda: reader.position_of_entry(event))  # type: ignore[no-any-return]

    def readable_event(request: Request, caller: Caller, event: dict[str, Any]) -> None:
        """Readers of every branch: any event; a secretary: events of their branch."""
        from adapters.cli_explain import _touches
        scope = readable_branches(caller.roles)
        if scope == ALL_BRANCHES:
            return
        raw = orjson.loads(base64.b64decode(event["payload"]))
        def check() -> None:
            if not any(_touches(raw, b) for b in scope):
                raise PermissionDenied("无权查看该事件：它不属于本人任书记的支部", "event")
        allow(request, caller, check)

    @router.get("/key", tags=["防篡改"], summary="账本的验证公钥（ledger key show）")
    def key_show(caller: Caller = Depends(authenticated)) -> LedgerJSON:
        return reply({"verifier_key": service.ledger.recorder.signer().verifier_key})  # type: ignore[attr-defined]

    def checkpoint_of(request: Request, caller: Caller, number: int | None) -> LedgerJSON:
        from adapters.proofs import TreeReader
        rankings(request, caller)
        row = proof_call(lambda: TreeReader(engine).checkpoint(number))
        return reply({"number": row.number, "size": row.size, "reason": row.reason, "note": row.note})

    @router.get("/checkpoints/latest", tags=["防篡改"], summary="最新检查点（ledger checkpoint show）")
    def checkpoint_latest(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        return checkpoint_of(request, caller, None)

    @router.get("/checkpoints/{number}", tags=["防篡改"], summary="第 N 个检查点（ledger checkpoint show N）")
    def checkpoint_show(number: int, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        return checkpoint_of(request, caller, number)

    @router.post("/checkpoints", tags=["防篡改"], status_code=201, summary="立即生成一个检查点（ledger checkpoint）")
    def checkpoint_make(request: Request, body: dict[str, Any] = Body(default={}),
                        caller: Caller = Depends(authenticated)) -> LedgerJSON:
        rankings(request, caller)
        reason = str(body.get("reason") or "on demand")
        row = service.locked(lambda: service.ledger.recorder.make_checkpoint(reason))  # type: ignore[attr-defined]
        return reply({k: row[k] for k in ("number", "size", "reason", "note") if k in row}, 201)

    @router.get("/verify", tags=["防篡改"], summary="重算全部叶子、树、检查点与审批结果（ledger verify）")
    def verify(request: Request, key: list[str] = Query([], description="信任的验证公钥（默认本账本公钥）"),
               witness_key: list[str] = Query([], description="见证方验证公钥"),
               caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.verify import verify_ledger
        everything(request, caller, "核验报告")
        keys = (key or [service.ledger.recorder.signer().verifier_key]) + witness_key  # type: ignore[attr-defined]
        report = verify_ledger(engine, keys)
        first = report.first()
        return reply({"ok": report.ok, "events": report.events, "checkpoints": report.checkpoints,
                      "approvals": report.approvals, "signatures": {str(k): v for k, v in report.signatures.items()},
                      "first_problem": None if first is None else first.__dict__,
                      "problems": [p.__dict__ for p in report.problems]})

    @router.get("/proofs/consistency", tags=["防篡改"], summary="两个检查点间的一致性证明（ledger prove --consistency）")
    def prove_consistency(old: int, request: Request, new: int | None = None,
                          caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.proofs import TreeReader, consistency_bundle
        rankings(request, caller)
        return reply(proof_call(lambda: consistency_bundle(TreeReader(engine), old, new)))

    @router.get("/proofs/{event}", tags=["防篡改"], summary="事件的包含证明（ledger prove EVENT）")
    def prove(event: str, request: Request, checkpoint: int | None = None,
              caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.proofs import TreeReader, inclusion_bundle
        reader = TreeReader(engine)
        position = event_position(reader, event)
        readable_event(request, caller, proof_call(lambda: reader.event_at(position)))
        return reply(proof_call(lambda: inclusion_bundle(reader, position, checkpoint)))

    @router.post("/receipts/{event}", tags=["防篡改"], summary="为事件开具回执（ledger receipt）：必要时先生成检查点")
    def receipt(event: str, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.proofs import ProofError, TreeReader, event_leaf, inclusion_bundle
        reader = TreeReader(engine)
        position = event_position(reader, event)
        readable_event(request, caller, proof_call(lambda: reader.event_at(position)))
        try:
            bundle = inclusion_bundle(reader, position)
        except ProofError:
            service.locked(lambda: service.ledger.recorder.make_checkpoint(f"receipt {event}"))  # type: ignore[attr-defined]
            bundle = proof_call(lambda: inclusion_bundle(reader, position))
        bundle["leaf_hash"] = event_leaf(bundle["event"]).hex()
        return reply(bundle)

    @router.post("/proofs/verify", tags=["防篡改"], summary="核验证明文件（ledger verify-proof；也可离线进行）")
    def verify_proof(bundle: dict[str, Any] = Body(..., embed=True), key: str = Body(..., embed=True),
                     caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.proofs import ProofError, verify_bundle
        try:
            return reply({"ok": True, "result": verify_bundle(bundle, key.strip())})
        except (ProofError, ValueError) as e:
            return reply({"ok": False, "result": str(e)})

    @router.get("/audit/export", tags=["防篡改"], summary="导出一段日志及其证明（ledger audit export）")
    def audit_export(request: Request, from_: int = Query(..., alias="from"), to: int = Query(...),
                     checkpoint: int | None = None, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from adapters.proofs import TreeReader, audit_bundle
        everything(request, caller, "审计导出")
        return reply(proof_call(lambda: audit_bundle(TreeReader(engine), from_, to, checkpoint)))

    # -- users, roles, security log ----------------------------------------------------------------------
    def directory(request: Request, caller: Caller) -> None:
        def check() -> None:
            if not may_read_directory(caller.roles):
                raise PermissionDenied("无权查看用户与角色：需要 admin 或 auditor", None)
        allow(request, caller, check)

    @router.get("/users", tags=["用户"], summary="用户、角色与令牌（不含令牌本身与其哈希）")
    def users(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        from domain.access import now_us
        from domain.application import UnitOfWork
        from domain.ids import organization_id
        from domain.permissions import roles_of
        directory(request, caller)

        def read() -> list[dict[str, Any]]:
            uow = UnitOfWork(service.ledger)
            access, org = uow.access(), uow.find(organization_id(), for_update=False)
            at = now_us()
            tokens: dict[str, list[dict[str, Any]]] = {}
            for t in access.tokens.values():
                tokens.setdefault(t["user"], []).append({"token_id": t["token_id"], "revoked": t["revoked"]})
            return [{"user": u, "name": d["name"], "roles": sorted(roles_of(access, org, u, at)),
                     "grants": {r: [{"from": _iso(a), "until": None if b is None else _iso(b)} for a, b in spans]
                                for r, spans in sorted(d["grants"].items())},
                     "tokens": tokens.get(u, [])} for u, d in sorted(access.users.items())]
        return reply({"users": service.locked(read)})

    @router.get("/security-log", tags=["用户"], summary="安全日志：被拒绝的操作（ledger user refusals）")
    def security_log(request: Request, user: str | None = None, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        directory(request, caller)
        rows = service.ledger.security_log.rows(user)  # type: ignore[union-attr]
        return reply({"refusals": [{**r, "at": _iso(r["at_us"])} for r in rows]})

    return router


def history_rows(engine: Any, branch: str, start: int | None = None, end: int | None = None) -> list[dict[str, Any]]:
    """Every event that concerns ``branch`` (names it, an approval lists it, or a decision on
    one of its appeals), oldest first, recorded within [start, end] (UTC µs) if given. Shared
    by ``GET /history``, the web pages and ``ledger export history``. ``period``: the event's
    own, else its month's, quarter's or year's (from that aggregate's ``Opened`` event)."""
    from adapters.cli_explain import _plain, _touches
    rows, appeals_of_branch, periods = [], set(), {}
    for e in LogReader(engine).read():
        if e.name.endswith(".Opened") and isinstance(e.raw.get("period"), str):
            periods[e.aggregate_id] = e.raw["period"]
        touches = _touches(e.raw, branch)
        if e.name.startswith("EntryAppeals."):  # a decision names no branch: it is the appeal's
            if touches:
                appeals_of_branch.add(e.aggregate_id)
            touches = touches or e.aggregate_id in appeals_of_branch
        if (start is not None and e.recorded_at_us < start) or (end is not None and e.recorded_at_us > end):
            continue
        if not touches:
            continue
        d = e.data
        rows.append({"position": e.position, "recorded_at": _iso(e.recorded_at_us), "event": e.name,
                     "actor": d.get("actor"), "period": d.get("period") or periods.get(e.aggregate_id),
                     "detail": {k: _plain(v) for k, v in d.items()
                                if k not in ("originator_id", "originator_version", "timestamp", "actor",
                                             "results", "ranking")}})
    return rows


def _ref(text: str, field: str) -> str:
    if text.isdigit():
        return text
    try:
        return str(UUID(text))
    except ValueError:
        raise InvalidInput(f"{text!r} 不是条目编号、申诉编号或日志位置", field) from None

