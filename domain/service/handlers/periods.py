"""The period commands (月度、季度、年度): record scores, submit, return and approve months; approve and
reapprove quarters; record the annual inputs, approve and reapprove the year.

Plain functions ``(uow, cmd)`` registered with :func:`~domain.service.handlers.handles`; the
unit of work (``domain/service/unit_of_work.py``) loads and saves.
An approval freezes its inputs and asks for a signed checkpoint in the same transaction.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from typing import Any, Callable, Sequence
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from domain import commands as c
from domain.assessment.annual import annual_ranking
from domain.assessment.month_and_quarter import APPROVED, AssessmentMonth, AssessmentQuarter
from domain.assessment.organization import Organization, members_in, ranked_throughout, takes_part
from domain.assessment.results import canonical_hash, frozen_secretary, month_records, month_results, quarter_ranking
from domain.assessment.scoring import monthly_score_cents, to_cents
from domain.assessment.year import AssessmentYear
from domain.errors import BranchNotTakingPart, LedgerError, QuarterNotReady, YearNotReady
from domain.ids import month_id, quarter_id, year_id
from domain.periods import month_range, quarter_months
from domain.service.handlers import handles
from domain.service.handlers.people import member_count
from domain.service.unit_of_work import UnitOfWork

try:
    CODE_VERSION = _package_version("party-ledger")  # recorded by approvals: which code computed them
except PackageNotFoundError:  # running from a checkout that was not installed
    CODE_VERSION = "unknown"


@handles(c.RecordScore)
def record_score(uow: UnitOfWork, cmd: c.RecordScore) -> UUID:
    org = uow.organization()
    _branch_taking_part(org, cmd.branch, cmd.period)
    entry_id = cmd.entry_id or uuid4()
    note = uow.month(cmd.period).record_score(
        entry_id=entry_id, branch=cmd.branch, category=cmd.category, points=cmd.points,
        reason=cmd.reason, department=cmd.department, actor=cmd.actor, key=cmd.key,
        rulebook=org.rulebook_in_force(cmd.period))
    if note is not None:
        uow.warnings.append(note)
    return entry_id


@handles(c.SubmitMonth)
def submit_month(uow: UnitOfWork, cmd: c.SubmitMonth) -> str:
    uow.organization()
    uow.month(cmd.period).submit(actor=cmd.actor, key=cmd.key, user=_user(uow))
    return cmd.period


@handles(c.ReturnMonth)
def return_month(uow: UnitOfWork, cmd: c.ReturnMonth) -> str:
    uow.organization()
    uow.month(cmd.period).return_to_draft(reason=cmd.reason, actor=cmd.actor, key=cmd.key)
    return cmd.period


@handles(c.ApproveMonth)
def approve_month(uow: UnitOfWork, cmd: c.ApproveMonth) -> str:
    org = uow.organization(for_update=True)
    month = uow.month(cmd.period)
    rulebook = org.rulebook_in_force(cmd.period)
    branches = org.taking_part(cmd.period)
    sums = _month_sums(uow, month)
    secretaries = {b: org.secretary_in(b, cmd.period) for b in branches}
    results = month_records(month_results(branches, sums, secretaries, rulebook))
    month.approve(rulebook_version=rulebook.version, results=results,
                  proof=approval_proof(rulebook, results), actor=cmd.actor, key=cmd.key,
                  user=_user(uow), exempt=_exempt(uow))
    org.seal_month(cmd.period)
    uow.checkpoint(f"approve_month {cmd.period}")
    return cmd.period


def _month_sums(uow: UnitOfWork, month: AssessmentMonth) -> dict[str, dict[str, int]]:
    """Signed sum of points (in cents) per branch and category: stored events up to
    the version the unit of work started from, then the ones still pending in it."""
    sums: dict[str, dict[str, int]] = {}
    pending: list[Any] = list(month.pending_events)  # the month's events, their fields read by name
    for events in (uow.stored_events(month), pending):
        for e in events:
            kind = type(e).__name__
            if kind == "ScoreRecorded":
                delta = to_cents(e.points)
            elif kind == "EntryCorrected":
                delta = to_cents(e.new_points) - to_cents(e.old_points)
            elif kind == "EntryVoided":
                delta = -to_cents(e.points)
            else:
                continue
            cats = sums.setdefault(e.branch, {})
            cats[e.category] = cats.get(e.category, 0) + delta
    return sums


def _approved_results(uow: UnitOfWork, months: Sequence[str],
                      not_ready: Callable[[str], LedgerError]) -> list[dict[str, Any]]:
    """Each month's results by branch: the inputs its approval froze, the score as it
    stands now (corrections after the approval count); ``not_ready(month)`` for the
    first month not approved."""
    org = uow.organization()
    uow.depend_on(org)
    approved = []
    for m in months:
        month = uow.find(month_id(m), for_update=False)
        if month is None or month.status != APPROVED:
            raise not_ready(m)
        uow.depend_on(month)  # a correction landing meanwhile must not precede the approval
        rulebook = org.rulebook_version(month.rulebook_version)
        sums = _month_sums(uow, month)
        approved.append({r["branch"]: {**r, "score": monthly_score_cents(sums.get(r["branch"], {}), rulebook)}
                         for r in month.results})
    return approved


def _quarter_ranking(uow: UnitOfWork, period: str) -> tuple[Any, list[dict[str, Any]]]:
    """The rulebook and the ranking records of a quarter whose three months are approved."""
    org = uow.organization()
    months = quarter_months(period)
    approved = _approved_results(uow, months, lambda m: QuarterNotReady(
        f"{period} 的 {m} 尚未审批，不能审批季度排名", "period"))
    taking_part = ranked_throughout(org.taking_part(months[0]), approved)
    scores = {b: {m: approved[i][b]["score"] for i, m in enumerate(months)} for b in taking_part}
    secretaries = {b: frozen_secretary(approved[2][b]) for b in taking_part}
    rulebook = org.rulebook_in_force(months[0])
    return rulebook, [row.to_record() for row in quarter_ranking(scores, secretaries, rulebook)]


def _quarter(uow: UnitOfWork, period: str) -> AssessmentQuarter:
    return uow.find_or_open(quarter_id(period), lambda: AssessmentQuarter(period=period))


@handles(c.ApproveQuarter)
def approve_quarter(uow: UnitOfWork, cmd: c.ApproveQuarter) -> UUID:
    rulebook, ranking = _quarter_ranking(uow, cmd.period)
    quarter = _quarter(uow, cmd.period)
    approval_id = next_approval_id(quarter)
    quarter.approve(approval_id=approval_id, rulebook_version=rulebook.version,
                    ranking=ranking, proof=approval_proof(rulebook, ranking), actor=cmd.actor, key=cmd.key)
    uow.checkpoint(f"approve_quarter {cmd.period}")
    return approval_id


@handles(c.ReapproveQuarter)
def reapprove_quarter(uow: UnitOfWork, cmd: c.ReapproveQuarter) -> UUID:
    rulebook, ranking = _quarter_ranking(uow, cmd.period)
    quarter = _quarter(uow, cmd.period)
    approval_id = next_approval_id(quarter)
    quarter.reapprove(approval_id=approval_id, rulebook_version=rulebook.version, ranking=ranking,
                      proof=approval_proof(rulebook, ranking), reason=cmd.reason, actor=cmd.actor, key=cmd.key)
    uow.checkpoint(f"reapprove_quarter {cmd.period}")
    return approval_id


def _branch_taking_part(org: Organization, branch: str, month: str) -> None:
    record = org.branch(branch)
    if not takes_part(record, month):
        raise BranchNotTakingPart(
            f"支部 {branch} 自 {record['from_month']} 起参加考核，不能录入 {month}", "period")


def _year(uow: UnitOfWork, period: str) -> AssessmentYear:
    return uow.find_or_open(year_id(period), lambda: AssessmentYear(period=period))


@handles(c.RecordUnitPerformance)
def record_unit_performance(uow: UnitOfWork, cmd: c.RecordUnitPerformance) -> str:
    _branch_taking_part(uow.organization(), cmd.branch, f"{cmd.year}-01")
    _year(uow, cmd.year).record_unit_performance(cmd.branch, cmd.score, cmd.actor, cmd.key)
    return cmd.branch


@handles(c.RecordDebriefing)
def record_debriefing(uow: UnitOfWork, cmd: c.RecordDebriefing) -> str:
    _branch_taking_part(uow.organization(), cmd.branch, f"{cmd.year}-01")
    _year(uow, cmd.year).record_debriefing(cmd.branch, cmd.score, cmd.actor, cmd.key)
    return cmd.branch


@handles(c.RecordBusinessScore)
def record_business_score(uow: UnitOfWork, cmd: c.RecordBusinessScore) -> str:
    _branch_taking_part(uow.organization(), cmd.branch, cmd.period)
    uow.month(cmd.period).record_business_score(cmd.branch, cmd.score, cmd.actor, cmd.key)
    return cmd.branch


def _year_results(uow: UnitOfWork, period: str) -> tuple[Any, list[dict[str, Any]]]:
    """The rulebook and the result records of a year whose twelve months and four quarters
    are approved and whose branches all have both annual inputs."""
    org = uow.organization()
    months = month_range(f"{period}-01", 12)
    approved = _approved_results(uow, months, lambda m: YearNotReady(
        f"{m} 尚未审批，不能审批 {period} 年度总评", "year"))
    for q in range(1, 5):
        quarter = uow.find(quarter_id(f"{period}Q{q}"), for_update=False)
        if quarter is None or quarter.approval_id is None:
            raise YearNotReady(f"{period}Q{q} 尚未审批，不能审批年度总评", "year")
        uow.depend_on(quarter)
    year = _year(uow, period)
    taking_part = ranked_throughout(org.taking_part(months[0]), approved)
    missing = [b for b in taking_part if b not in year.unit or b not in year.debriefing]
    if missing:
        raise YearNotReady(f"支部 {', '.join(missing)} 缺少单位经营业绩或书记述职评分", "year")
    rulebook = org.rulebook_in_force(months[-1])
    rows = annual_ranking(
        {b: [a[b]["score"] for a in approved] for b in taking_part}, year.unit, year.debriefing,
        {b: member_count(uow, b, months[-1], members_in(org.branches[b]["members"], months[-1]))
         for b in taking_part},
        {b: frozen_secretary(approved[-1][b]) for b in taking_part}, rulebook)
    return rulebook, [r.to_record() for r in rows]


@handles(c.ApproveYear)
def approve_year(uow: UnitOfWork, cmd: c.ApproveYear) -> UUID:
    rulebook, results = _year_results(uow, cmd.year)
    year = _year(uow, cmd.year)
    approval_id = next_approval_id(year)
    year.approve(approval_id=approval_id, rulebook_version=rulebook.version, results=results,
                 proof=approval_proof(rulebook, results), actor=cmd.actor, key=cmd.key)
    uow.checkpoint(f"approve_year {cmd.year}")
    return approval_id


@handles(c.ReapproveYear)
def reapprove_year(uow: UnitOfWork, cmd: c.ReapproveYear) -> UUID:
    year = _year(uow, cmd.year)
    if year.approval_id is None:
        raise YearNotReady(f"{cmd.year} 年度总评尚未审批：请先审批", "year")
    rulebook, results = _year_results(uow, cmd.year)
    approval_id = next_approval_id(year)
    year.reapprove(approval_id=approval_id, rulebook_version=rulebook.version, results=results,
                   proof=approval_proof(rulebook, results), reason=cmd.reason, actor=cmd.actor, key=cmd.key)
    uow.checkpoint(f"reapprove_year {cmd.year}")
    return approval_id


def _user(uow: UnitOfWork) -> str | None:
    return None if uow.auth is None else uow.auth.user


def _exempt(uow: UnitOfWork) -> bool:
    """Migrations are exempt from separation of duties (README)."""
    return uow.auth is not None and uow.auth.migrated


def next_approval_id(aggregate: Aggregate) -> UUID:
    """A deterministic id for the approval about to be recorded on ``aggregate``."""
    return uuid5(aggregate.id, f"approval:{aggregate.version + len(aggregate.pending_events)}")


def approval_proof(rulebook: Any, results: Any) -> dict[str, str]:
    """What makes an approval checkable: the hashes of the rulebook version and of the
    canonical result. It was computed from every event before it in the log (the tree
    size at its leaf index); ``ledger verify`` recomputes it from there."""
    return {"rulebook_hash": rulebook.digest(), "result_hash": canonical_hash(results),
            "code_version": CODE_VERSION}
