"""HTTP 读取：考核 (assessment reads): month, quarter, year, rulebook, explanations, entries,
appeals and a branch's history — as ``ledger month show``, ``ledger explain …`` and so on.

Scopes and shared helpers: ``adapters/http/reads.py``.
"""
from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.engine import Engine

from adapters.exports.explanations import entries_at, explain_month_at, explain_quarter_at
from adapters.http.deps import Caller, LedgerJSON, authenticated, reply, service_of
from adapters.http.reads import (
    APPEAL_EVENTS,
    REPLAY,
    ProofNotFound,
    branch_param,
    everything,
    history_may_show,
    history_rows,
    iso,
    model_of,
    now_or_replayed,
    own_branch,
    rankings,
    ref,
    stamped,
    visible,
)
from adapters.store.gcpause import gc_paused
from adapters.store.logreader import LogReader
from adapters.store.replay import events_at, outside_topics, stamp_fields
from adapters.store.slices import quarter_sections
from domain import commands as c
from domain.asof import AsOf, parse_as_of
from domain.periods import check_month, check_quarter, check_year, quarter_months
from domain.service.permissions import ALL_BRANCHES, readable_branches
from projections.model import AssessmentModel

router = APIRouter(tags=["读取"])


# -- month, quarter, year, rulebook --------------------------------------------------------------
@router.get("/month/{period}", summary="月度考核（ledger month show）")
def month_show(period: str, request: Request, point: AsOf | None = REPLAY,
               caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.views import month_json
    rankings(request, caller)
    check_month(period)

    def shown() -> dict[str, Any]:
        model = model_of(service_of(request), ["month:" + period], point)
        return stamped(month_json(model, period), model, point)
    return reply(visible(now_or_replayed(request, ("month", period), point, shown), caller, published=False))


@router.get("/quarter/{period}", summary="季度排名（ledger quarter show）：审批后向所有角色公布")
def quarter_show(period: str, request: Request, point: AsOf | None = REPLAY,
                 caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.model import AssessmentModel
    from projections.views import quarter_json
    rankings(request, caller)
    check_quarter(period)

    def shown() -> dict[str, Any]:
        with gc_paused():  # ~10^5 short-lived containers, no cycles: a big heap's collections skipped
            stored = service_of(request).view.shown_quarter(period) if point is None else None
            if stored is not None:  # the ranking the current view stores (projections/views.py SHOWN)
                positioned = AssessmentModel()
                data, positioned.position = stored
                return stamped(data, positioned, point)
            model = model_of(service_of(request), [*("month:" + m for m in quarter_months(period)),
                                                   "quarter:" + period], point)
            return stamped(quarter_json(model, period), model, point)
    data = now_or_replayed(request, ("quarter", period), point, shown)
    return reply(visible(data, caller, published=data["status"] == "approved"))


@router.get("/year/{period}", summary="年度总评（ledger year show）：审批后向所有角色公布")
def year_show(period: str, request: Request, point: AsOf | None = REPLAY,
              caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.annual import year_json
    rankings(request, caller)
    check_year(period)

    def shown() -> dict[str, Any]:
        model = model_of(service_of(request), None, point)
        return stamped(year_json(model, period), model, point)
    data = now_or_replayed(request, ("year", period), point, shown)
    if data["status"] != "approved" and readable_branches(caller.roles) != ALL_BRANCHES:
        data = {**data, "member_warnings": [w for w in data.get("member_warnings", [])
                                            if w["branch"] in readable_branches(caller.roles)]}
    return reply(visible(data, caller, published=data["status"] == "approved"))


@router.get("/quarter/{period}/diff", summary="审批时与当前的季度排名对照（ledger quarter diff）")
def quarter_diff_show(period: str, request: Request, point: AsOf | None = REPLAY,
                      caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.diffs import quarter_diff_now
    everything(request, caller, "季度对照")
    return reply(quarter_diff_now(service_of(request).engine, period, point))


@router.get("/year/{period}/diff", summary="审批时与当前的年度总评对照（ledger year diff）")
def year_diff_show(period: str, request: Request, point: AsOf | None = REPLAY,
                   caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.diffs import year_diff_now
    everything(request, caller, "年度对照")
    service = service_of(request)
    if point is None:  # the whole log folded: once per log head
        return reply(service.folds.derived(("year_diff", period), lambda: year_diff_now(service.engine, period, None),
                                           outside_topics(*AssessmentModel.TOPICS, "EntryAppeals")))  # what the diff reads
    return reply(year_diff_now(service.engine, period, point))


@router.get("/quarter/{period}/whatif", summary="假设某些记录不存在或按其他分值计，重算季度（ledger quarter whatif）")
def quarter_whatif_show(period: str, request: Request,
                        without: list[str] = Query([], description="条目编号、申诉编号或日志位置"),
                        set_: list[str] = Query([], alias="set", description="ENTRY=POINTS"),
                        point: AsOf | None = REPLAY, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.diffs import quarter_whatif_now
    everything(request, caller, "季度假设重算")
    check_quarter(period)
    wanted = {ref(r, "without") for r in without}
    points = {}
    for item in set_:
        entry, _, value = item.partition("=")
        points[ref(entry, "set")] = c.parse_command({"op": "correct_entry", "entry_id": entry, "points": value,
                                                     "reason": "-", "actor": "-"}).points  # type: ignore[attr-defined]
    return reply(quarter_whatif_now(service_of(request).engine, period, wanted, points, point))


@router.get("/rulebook", summary="考核细则各版本（ledger rulebook show）")
def rulebook_show(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    rankings(request, caller)
    model = service_of(request).view.model([])
    return reply({"versions": [{"version": int(v), "from": start, "parameters": params}
                               for v, (start, params) in sorted(model.org["rulebooks"].items(),
                                                                key=lambda kv: int(kv[0]))]})


# -- explanations -------------------------------------------------------------------------------
def explained(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    from domain.errors import BranchNotFound
    try:
        return action()
    except KeyError as e:
        raise BranchNotFound(str(e.args[0]), "branch") from None


def attach_proofs(engine: Engine, data: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Each entry's inclusion proof in the latest checkpoint (named in ``data["checkpoint"]``)."""
    from adapters.store.proofs import ProofError, attach_inclusion_proofs
    try:
        attach_inclusion_proofs(engine, data, entries)
    except ProofError as e:
        raise ProofNotFound(str(e), None) from None


@router.get("/explain/month/{period}", summary="推导某支部某月得分（ledger explain month）")
def explain_month_show(period: str, branch: str, request: Request, point: AsOf | None = REPLAY,
                       with_proofs: bool = False, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    own_branch(request, caller, branch)
    check_month(period)
    service = service_of(request)
    model = model_of(service, None, point)
    data = explained(lambda: explain_month_at(service.engine, model, period, branch, point))
    if with_proofs:
        attach_proofs(service.engine, data, data["entries"])
    return reply(stamped(data, model, point))


@router.get("/explain/quarter/{period}", summary="推导某支部季度得分、名次与奖惩（ledger explain quarter）")
def explain_quarter_show(period: str, branch: str, request: Request, point: AsOf | None = REPLAY,
                         with_proofs: bool = False, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    own_branch(request, caller, branch)
    check_quarter(period)
    service = service_of(request)
    model = model_of(service, quarter_sections(period), point)
    data = explained(lambda: explain_quarter_at(service.engine, model, period, branch, point))
    if with_proofs:
        attach_proofs(service.engine, data, [e for m in data["months"] for e in m["entries"]])
    return reply(stamped(data, model, point))


@router.get("/explain/year/{period}", summary="推导某支部年度总评（ledger explain year）")
def explain_year_show(period: str, branch: str, request: Request, point: AsOf | None = REPLAY,
                      caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.explain import explain_year
    own_branch(request, caller, branch)
    check_year(period)
    model = model_of(service_of(request), None, point)
    return reply(stamped(explained(lambda: explain_year(model, period, branch)), model, point))


# -- entries, appeals, history -----------------------------------------------------------------------
@router.get("/entries", summary="某月的得分条目（ledger entries）")
def entries(period: str, request: Request, branch: str | None = None,
            caller: Caller = Depends(authenticated)) -> LedgerJSON:
    branch = branch_param(request, caller, branch)
    check_month(period)
    service = service_of(request)
    model = model_of(service, ["month:" + period], None)
    return reply({"entries": entries_at(service.engine, model, period, branch)})


def appeal_rows(events: Any, store: Any = None) -> dict[str, dict[str, Any]]:
    """Every appeal filed in ``events`` by id, with its decision if one follows, and its
    attachment (or None) with ``status``: the stored file against the hash in the event
    (``adapters/store/attachments.py``; ``unchecked`` when ``store`` is None)."""
    found: dict[str, dict[str, Any]] = {}
    for e in events:
        d = e.data
        if e.name == "EntryAppeals.Filed":
            attachment = d.get("attachment")
            if attachment is not None:
                status = "unchecked" if store is None else store.check(attachment["sha256"], attachment["size"])
                attachment = {**attachment, "status": status}
            found[str(d["appeal_id"])] = {
                "appeal_id": str(d["appeal_id"]), "entry_id": str(d["entry_id"]), "branch": d["branch"],
                "period": d["period"], "reason": d["reason"], "actor": d["actor"], "by": d.get("by"),
                "key": d.get("key"), "position": e.position, "filed_at": iso(e.recorded_at_us),
                "filed_us": e.recorded_at_us, "attachment": attachment, "status": "open", "decision": None}
        elif str(d["appeal_id"]) in found:
            row = found[str(d["appeal_id"])]
            row["status"] = d["decision"]
            row["decision"] = {"decision": d["decision"], "points": None if d["points"] is None else str(d["points"]),
                               "reason": d["reason"], "actor": d["actor"], "by": d.get("by"),
                               "position": e.position, "decided_at": iso(e.recorded_at_us)}
    return found


@router.get("/appeals", summary="申诉及其决定（支部书记只看本支部）")
def appeals(request: Request, branch: str | None = None, period: str | None = None,
            point: AsOf | None = REPLAY, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    branch = branch_param(request, caller, branch)
    if period is not None:
        check_month(period)
    service = service_of(request)
    found = appeal_rows(events_at(service.engine, point, APPEAL_EVENTS), service.ledger.attachments)
    rows = [r for r in found.values()
            if (branch is None or r["branch"] == branch) and (period is None or r["period"] == period)]
    waiting(service, [r for r in rows if r["status"] == "open"], point)
    return reply({"branch": branch, "period": period, **stamp_fields(point), "appeals": rows})


DAY_US = 86_400_000_000


def waiting(service: Any, open_rows: list[dict[str, Any]], point: AsOf | None) -> None:
    """Give each open appeal its ``waiting``: days since it was filed (to the replay
    ``point``'s moment, or now),
    against its month's filing window (the rulebook in force in the month: days after the
    month's approval, ``domain/assessment/rulebook.py``): ``window_days``, when the window
    opened and closes (None: the month is not approved, the window has not opened) and
    ``age`` (``within``: waited less than the window; ``beyond``: as long or longer).
    Words: ``domain.vocabulary.APPEAL_AGES``."""
    if not open_rows:
        return
    from domain.assessment.organization import version_in_force
    from domain.assessment.rulebook import Rulebook
    periods = sorted({r["period"] for r in open_rows})
    model = model_of(service, [f"month:{p}" for p in periods], point)
    reader = LogReader(service.engine)
    now = point.moment_us if point is not None else reader_clock(service)
    versions = model.org["rulebooks"]
    for row in open_rows:
        version = version_in_force(((int(v), start) for v, (start, _) in versions.items()), row["period"])
        window = Rulebook.from_parameters(version, versions[str(version)][1]).appeal_window_days
        month = model.months.get(row["period"])
        opened = None
        if month is not None and month.approval is not None:
            approved = next(iter(reader.read(after=month.approval["position"] - 1, upto=month.approval["position"])))
            opened = approved.recorded_at_us
        days = max(0, (now - row["filed_us"]) // DAY_US)
        row["waiting"] = {"days": days, "window_days": window, "age": "within" if days < window else "beyond",
                          "window_opened": None if opened is None else iso(opened),
                          "window_closes": None if opened is None else iso(opened + window * DAY_US)}


def reader_clock(service: Any) -> int:
    """The database clock now (UTC µs), as the log's recorded-at times."""
    from domain.service.unit_of_work import UnitOfWork
    return int(service.locked(lambda: UnitOfWork(service.ledger).index.clock()))


@router.get("/history", summary="与某支部有关的全部事件（ledger history；含对本支部申诉的决定）")
def history(branch: str, request: Request, from_: str | None = Query(None, alias="from"),
            to: str | None = None, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    own_branch(request, caller, branch)
    start = parse_as_of(from_, "from") if from_ else None
    end = parse_as_of(to, "to") if to else None
    service = service_of(request)  # a scan of the whole log: once per log head
    rows = service.folds.derived(("history", branch, start, end), lambda: history_rows(service.engine, branch, start, end),
                                 lambda e: not history_may_show(e, branch))
    return reply({"branch": branch, "events": rows})
