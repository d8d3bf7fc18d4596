"""HTTP 接口的读取 (reads of the HTTP API): the CLI's shows, each scoped by the caller's roles.

Scope (``domain/service/permissions.py``): a branch secretary reads their own branch in full and
every branch's published rankings (approved quarters and years), never another branch's
entries, appeals, history, people or talks; readers of every branch (auditor, committee,
approver, …) read everything, talk and visit summaries' text only as the person's branch
secretary or the committee; an admin reads only users and roles (and the security log,
with the auditor). A refused read is a 403 and is written to the security log.

Views that list every branch (month; a quarter or year not yet approved) show a
branch-limited reader only their rows. ``as_of`` replays the log as recorded by that moment
(as the CLI's ``--as-of``).

This module holds what the reads share (scope checks, replay, stamping); the endpoints are
module-level routers, one per area, each reaching the process's ``Service`` through the
request (``adapters.http.deps.service_of``): ``reads_assessment.py`` (month, quarter, year,
rulebook, explanations, entries, appeals, history), ``reads_members.py`` (people and
the member-level mechanisms, talks and visits), ``reads_tamper.py`` (key, checkpoints,
proofs, receipts, verification, audit export), ``reads_witness.py`` (witness publication,
cosignatures, group results), ``reads_directory.py`` (users, security log).
``adapters.http.app.read_routers()`` lists them in the order they are mounted.
"""
from __future__ import annotations

import base64
import datetime as dt
from typing import Any, Callable, TypeVar
from uuid import UUID

import orjson
from fastapi import Depends, Query, Request

from adapters.exports.explanations import APPEAL_EVENTS, ENTRY_EVENTS  # noqa: F401 - one definition, re-exported
from adapters.http.deps import Caller, Service, service_of
from adapters.store.logreader import LogReader
from adapters.store.replay import F, Foldable, fold_at, model_at, stamp, upto_of
from domain.asof import SHANGHAI, AsOf, replay_point
from domain.errors import InvalidInput, LedgerError, PermissionDenied
from domain.integrity.log import LoggedEvent
from domain.service.permissions import (
    ALL_BRANCHES,
    branch_in_scope,
    check_read_all,
    check_read_branch,
    may_read_event,
    may_read_rankings,
    readable_branches,
)
from projections.model import AssessmentModel

T = TypeVar("T")
AS_OF = Query(None, description="按某一时刻账本所知的情况重放（账本记录时间；ISO 8601 带时区；只写日期表示北京时间当日结束）")
DOCUMENTED_BY = Query(None, description="按单据日期重放：截至某日各原始单据所载的情况（迁移事件按原始单据日期，"
                                        "其余按录入时间；与 as_of 只能择一）")


class ProofNotFound(LedgerError):
    """A proof, checkpoint or event that cannot be produced (reason from ``adapters/proofs``)."""


def iso(at_us: int) -> str:
    """A log time (UTC µs since the epoch) in Beijing time, ISO 8601."""
    from domain.integrity.log import EPOCH
    return (EPOCH + dt.timedelta(microseconds=at_us)).astimezone(SHANGHAI).isoformat()


# -- what the reads share ------------------------------------------------------------------------
def allow(request: Request, caller: Caller, check: Callable[[], T]) -> T:
    """Run a read check; a refusal is written to the security log, then raised (403)."""
    try:
        return check()
    except PermissionDenied as e:
        service_of(request).ledger._refused(caller.user, f"{request.method} {request.url.path}", e)
        raise


def rankings(request: Request, caller: Caller) -> None:
    """Results (months, rankings, checkpoints): every role but a bare admin."""
    def check() -> None:
        if not may_read_rankings(caller.roles):
            raise PermissionDenied("无权查看考核结果：系统管理员只能管理用户与角色", None)
    allow(request, caller, check)


def branch_param(request: Request, caller: Caller, branch: str | None) -> str | None:
    return allow(request, caller, lambda: branch_in_scope(caller.roles, branch))


def own_branch(request: Request, caller: Caller, branch: str) -> None:
    allow(request, caller, lambda: check_read_branch(caller.roles, branch))


def everything(request: Request, caller: Caller, what: str) -> None:
    allow(request, caller, lambda: check_read_all(caller.roles, what))


def replay_param(as_of: str | None = AS_OF, documented_by: str | None = DOCUMENTED_BY) -> AsOf | None:
    """The replay point a read asks for: ``as_of`` (log clock) or ``documented_by`` (document
    clock), at most one (domain/asof.py); None: now."""
    return replay_point(as_of, documented_by)


REPLAY = Depends(replay_param)


def upto(service: Service, point: AsOf | None) -> int | None:
    """The log position recorded by a log-clock ``point`` (None: all of it)."""
    return upto_of(service.engine, point)


def model_of(service: Service, sections: list[str] | None, point: AsOf | None) -> AssessmentModel:
    """The assessment model now (the maintained view's ``sections``) or replayed at ``point``
    on either clock (adapters/store/replay.py)."""
    if point is None:
        return service.view.model(sections)
    return model_at(service.engine, sections, point)


def fold(service: Service, model: F, point: AsOf | None) -> F:
    """``model`` (a ``projections.fold.Fold``) fed the log, now (from the service's cache
    of folds, caught up to the log head: ``adapters/store/replay.FoldCache``; read-only) or
    at ``point``."""
    if point is None:
        return service.folds.now(model)
    return fold_at(service.engine, model, point)


def now_or_replayed(request: Request, key: tuple[Any, ...], point: AsOf | None,
                    shown: Callable[[], T]) -> T:
    """``shown()`` — a read of every caller's (scoped after) — once per log head when it is
    the ledger now (``adapters/store/replay.FoldCache.derived``); a replay is computed each
    time. The answer is shared: callers copy before changing it."""
    if point is not None:
        return shown()
    return service_of(request).folds.derived(key, shown)


def stamped(data: dict[str, Any], model: Foldable, point: AsOf | None) -> dict[str, Any]:
    """``data`` saying which replay it shows (``as_of``, ``documented_by``, ``position``, and
    on the document clock ``document_clock``)."""
    return stamp(data, model, point)


def visible(data: dict[str, Any], caller: Caller, published: bool) -> dict[str, Any]:
    """All rows for readers of every branch or a published ranking; else their branches'."""
    scope = readable_branches(caller.roles)
    if published or scope == ALL_BRANCHES:
        return data
    return {**data, "branches": [b for b in data["branches"] if b["branch"] in scope]}


def history_may_show(event: LoggedEvent, branch: str) -> bool:
    """Whether ``event``, appended after a branch's history was read, may add a row to it:
    it names the branch (``history_rows``' own test) or is an appeal's (a decision names no
    branch). False means the history read before stands."""
    from domain.service.permissions import event_concerns
    return event.name.startswith("EntryAppeals.") or event_concerns(event.raw, branch)


def history_rows(engine: Any, branch: str, start: int | None = None, end: int | None = None) -> list[dict[str, Any]]:
    """Every event that concerns ``branch`` (names it, an approval lists it, or a decision on
    one of its appeals), oldest first, recorded within [start, end] (UTC µs) if given. Shared
    by ``GET /history``, the web pages and ``ledger export history``. ``period``: the event's
    own, else its month's, quarter's or year's (from that aggregate's ``Opened`` event)."""
    from adapters.read_inputs import plain_detail
    from domain.service.permissions import event_concerns
    rows, appeals_of_branch, periods = [], set(), {}
    for e in LogReader(engine).read():
        if e.name.endswith(".Opened") and isinstance(e.raw.get("period"), str):
            periods[e.aggregate_id] = e.raw["period"]
        touches = event_concerns(e.raw, branch)
        if e.name.startswith("EntryAppeals."):  # a decision names no branch: it is the appeal's
            if touches:
                appeals_of_branch.add(e.aggregate_id)
            touches = touches or e.aggregate_id in appeals_of_branch
        if (start is not None and e.recorded_at_us < start) or (end is not None and e.recorded_at_us > end):
            continue
        if not touches:
            continue
        d = e.data
        rows.append({"position": e.position, "recorded_at": iso(e.recorded_at_us), "event": e.name,
                     "actor": d.get("actor"), "period": d.get("period") or periods.get(e.aggregate_id),
                     "detail": {k: plain_detail(v) for k, v in d.items()
                                if k not in ("originator_id", "originator_version", "timestamp", "actor",
                                             "results", "ranking")}})
    return rows


def ref(text: str, field: str) -> str:
    """An entry id, appeal id (UUID) or log position (digits) given as ``field``; else :class:`InvalidInput`."""
    if text.isdigit():
        return text
    try:
        return str(UUID(text))
    except ValueError:
        raise InvalidInput(f"{text!r} 不是条目编号、申诉编号或日志位置", field) from None


def proof_call(action: Callable[[], T]) -> T:
    from adapters.store.proofs import ProofError
    try:
        return action()
    except ProofError as e:
        raise ProofNotFound(str(e), None) from None
    except OverflowError:  # SQLite: beyond 64 bits names no position or checkpoint (PostgreSQL finds none)
        raise ProofNotFound("没有这个日志位置或检查点（数值超出 64 位整数范围）", None) from None


def readable_event(request: Request, caller: Caller, event: dict[str, Any]) -> None:
    """Readers of every branch: any event; a secretary: events that concern their branch,
    including the decision on an appeal of it (``domain.service.permissions.may_read_event``)."""
    from adapters.store.proofs import TreeReader
    if readable_branches(caller.roles) == ALL_BRANCHES:
        return
    raw = orjson.loads(base64.b64decode(event["payload"]))
    name = str(event["topic"]).rpartition(":")[2]
    reader = TreeReader(service_of(request).engine)
    def check() -> None:
        if not isinstance(raw, dict) or not may_read_event(
                caller.roles, name, raw, lambda: reader.opening_payload(event["aggregate_id"])):
            raise PermissionDenied("无权查看该事件：它不属于本人任书记的支部", "event")
    allow(request, caller, check)
