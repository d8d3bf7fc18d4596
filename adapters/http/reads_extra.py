"""HTTP 读取：党费、竞聘列表、日志分页 (reads the CLI had and the API lacked): a branch's
dues (``ledger dues show``) and a published dues statement with its proof (``ledger dues
statement``), every selection (``ledger selection show`` by position, listed), and the whole
log a page at a time, filtered by event type, period and user (for the audit pages).

Scopes as every read (``adapters/http/reads.py``): dues are the branch's (its secretary,
readers of every branch); selections and the whole log span every branch.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from adapters.http.deps import Caller, LedgerJSON, authenticated, reply, service_of
from adapters.http.reads import REPLAY, ProofNotFound, everything, fold, own_branch, stamped
from domain import vocabulary
from domain.asof import AsOf
from domain.errors import InvalidInput
from domain.periods import check_half, check_year

router = APIRouter(tags=["读取"])
PAGE_MAX = 200
SCAN_MAX = 50_000  # events looked at for one filtered page (a page says where it stopped)


def _dues_period(period: str) -> str:
    if "H" in period:
        return check_half(period, "period")
    return check_year(period)


@router.get("/dues/{period}", summary="某支部某年或半年的党费：应交、已交、欠交、多交（ledger dues show）")
def dues_show(period: str, branch: str, request: Request, person: str | None = None, point: AsOf | None = REPLAY,
              caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.dues import DuesModel, dues_json
    own_branch(request, caller, branch)
    _dues_period(period)
    model = fold(service_of(request), DuesModel(), point)
    return reply(stamped(dues_json(model, period, branch, person), model, point))


@router.get("/dues/{half}/statement", summary="已公示的党费收缴情况及其包含证明（ledger dues statement）")
def dues_statement(half: str, branch: str, request: Request, number: int | None = None,
                   caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.exports.dues_sheet import bundle_of
    from adapters.store.proofs import ProofError
    from projections.dues import DuesModel, publication
    own_branch(request, caller, branch)
    check_half(half)
    service = service_of(request)
    p = publication(fold(service, DuesModel(), None), branch, half, number)
    if p is None:
        raise ProofNotFound(f"支部 {branch} {half} 尚未公示" + (f"第 {number} 次" if number else ""), "half")
    try:
        return reply(bundle_of(service.engine, p))
    except ProofError as e:
        raise ProofNotFound(str(e), None) from None


@router.get("/selections", summary="全部竞聘及其结果（ledger selection show）")
def selections(request: Request, point: AsOf | None = REPLAY, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from projections.selection import SelectionModel, selection_json
    everything(request, caller, "竞聘")
    model = fold(service_of(request), SelectionModel(), point)
    rows = sorted(model.selections.values(), key=lambda s: (s["date"], s["selection"]), reverse=True)
    return reply(stamped({"selections": [selection_json(s) for s in rows]}, model, point))


# -- the whole log, a page at a time --------------------------------------------------------------------
def iso(at_us: int) -> str:
    """UTC microseconds since the epoch as ISO 8601 in Beijing time (as every read gives times)."""
    import datetime as dt

    from domain.asof import SHANGHAI
    from domain.integrity.log import EPOCH
    return (EPOCH + dt.timedelta(microseconds=at_us)).astimezone(SHANGHAI).isoformat()


def _period_of(data: dict[str, Any]) -> str | None:
    for k in ("period", "month", "year", "half", "from_month", "effective_from"):
        if isinstance(data.get(k), str):
            return str(data[k])
    date = data.get("date")
    return str(date)[:10] if isinstance(date, str) else None


def _matches(period: str | None, wanted: str) -> bool:
    """A period filter: ``2019`` takes 2019-07 and 2019Q3; ``2019Q3`` takes its months;
    ``2019-07`` takes dates of that month."""
    if period is None:
        return False
    if period.startswith(wanted):
        return True
    if len(wanted) == 6 and wanted[4] == "Q" and len(period) >= 7 and period[4] == "-":
        return period[:4] == wanted[:4] and (int(period[5:7]) - 1) // 3 + 1 == int(wanted[5])
    return False


@router.get("/log", summary="日志分页（最新在前）：按事件类型、期间、用户筛选")
def log_page(request: Request, before: int | None = Query(None, description="只看此位置之前的事件（翻页）"),
             event: str | None = Query(None, description="事件类型，如 AssessmentMonth.ScoreRecorded"),
             period: str | None = Query(None, description="期间：2019、2019Q3、2019-07 或日期"),
             user: str | None = Query(None, description="登录用户或操作人（包含即可）"),
             limit: int = Query(50, ge=1, le=PAGE_MAX), caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.store.logreader import LogReader
    everything(request, caller, "全部日志")
    if event is not None and event not in vocabulary.EVENTS:
        raise InvalidInput(f"未知的事件类型 {event[:80]!r}", "event")
    engine = service_of(request).engine
    from adapters.store.proofs import TreeReader
    reader, trees, opened = LogReader(engine), TreeReader(engine), {}  # type: ignore[var-annotated]
    top = reader.last_position()
    end = top if before is None else min(before - 1, top)
    rows: list[dict[str, Any]] = []
    scanned, position = 0, end
    # The user filter as a prefilter in the database: the payload's JSON holds the name as
    # typed (orjson escapes only quotes, backslashes and control characters).
    needle = user.encode() if user and not any(ch in user for ch in '"\\') and user.isprintable() else None
    chunk = 1000
    while position > 0 and len(rows) < limit and scanned < SCAN_MAX:
        start = max(0, position - chunk)
        batch = list(reader.read(after=start, upto=position, topic_suffixes=(event,) if event else (),
                                 containing=needle))
        scanned += position - start
        for e in reversed(batch):
            d = e.raw
            p = _period_of(d)
            if p is None:  # an entry names no period: its month's (the aggregate's opening event names it)
                if e.aggregate_id not in opened:
                    first = trees.opening_payload(str(e.aggregate_id))
                    opened[e.aggregate_id] = _period_of(first) if isinstance(first, dict) else None
                p = opened[e.aggregate_id]
            if period and not _matches(p, period):
                continue
            who = f"{d.get('by') or ''} {d.get('actor') or ''}"
            if user and user not in who:
                continue
            rows.append({"position": e.position, "recorded_at": iso(e.recorded_at_us), "event": e.name,
                         "period": p, "actor": d.get("actor"), "by": d.get("by"), "payload": d})
            if len(rows) == limit:
                break
        position = start if len(rows) < limit else rows[-1]["position"] - 1
        chunk = min(chunk * 4, 20000)
    return reply({"events": rows, "last_position": top, "next_before": position + 1 if position > 0 else None,
                  "filters": {"event": event, "period": period, "user": user}})


@router.post("/rulebook/preview", summary="预览尚未通过的考核细则新版本：生效季度的排名现在与按新版本（ledger 无写入）")
def rulebook_preview(request: Request, body: dict[str, Any] = Body(...),
                     caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.http.reads import model_of
    from domain.periods import check_month
    from projections.rulebook_preview import preview_rulebook
    everything(request, caller, "考核细则预览")
    version, start, changes = body.get("version"), body.get("from"), body.get("parameters")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInput("版本号应为整数", "version")
    check_month(start, "from")
    if not isinstance(changes, dict):
        raise InvalidInput("参数应为 JSON 对象", "parameters")
    return reply(preview_rulebook(model_of(service_of(request), None, None), version, str(start), changes))


@router.get("/events/{position}", tags=["防篡改"], summary="日志中的一个事件；已被检查点覆盖的附包含证明（否则 proof 为 null）")
def event_show(position: int, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.http.reads import proof_call, readable_event
    from adapters.store.proofs import ProofError, TreeReader, inclusion_bundle
    reader = TreeReader(service_of(request).engine)
    event = proof_call(lambda: reader.event_at(position))
    readable_event(request, caller, event)
    try:
        proof: dict[str, Any] | None = inclusion_bundle(reader, position)
    except ProofError:
        proof = None  # recorded after the latest checkpoint (or none yet)
    return reply({"event": event, "proof": proof})
