"""The annual evaluation aggregate: its inputs, its approval and what the approval grants."""
from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.decimals import beyond_cents
from domain.errors import InvalidInput, YearAlreadyApproved, YearNotReady
from domain.ids import year_id


def check_score(value: Decimal, field: str = "score") -> None:
    """A 0–100 score with at most two decimals."""
    if beyond_cents(value):
        raise InvalidInput("分数最多两位小数", field)
    if not 0 <= value <= 100:
        raise InvalidInput("分数应在 0 到 100 之间", field)


class AssessmentYear(Aggregate):
    """One year's evaluation. Guards: inputs only before approval; approved once.

    A later input for the same branch replaces the earlier one (the earlier stays in the log).
    """

    @staticmethod
    def create_id(period: str, **_: Any) -> UUID:
        return year_id(period)

    @event("Opened")
    def __init__(self, period: str) -> None:
        self.period = period
        self.approval_id: UUID | None = None
        self.results: list[dict[str, Any]] = []
        self.unit: dict[str, Decimal] = {}
        self.debriefing: dict[str, Decimal] = {}

    def _open_for_inputs(self) -> None:
        if self.approval_id is not None:
            raise YearAlreadyApproved(f"{self.period} 年度总评已审批，不能再录入", "year")

    def record_unit_performance(self, branch: str, score: Decimal, actor: str, key: str | None) -> None:
        self._open_for_inputs()
        check_score(score)
        self._unit(branch=branch, score=score, actor=actor, key=key)

    @event("UnitPerformanceRecorded")
    def _unit(self, branch: str, score: Decimal, actor: str, key: str | None) -> None:
        self.unit[branch] = score

    def record_debriefing(self, branch: str, score: Decimal, actor: str, key: str | None) -> None:
        self._open_for_inputs()
        check_score(score)
        self._debriefing(branch=branch, score=score, actor=actor, key=key)

    @event("DebriefingRecorded")
    def _debriefing(self, branch: str, score: Decimal, actor: str, key: str | None) -> None:
        self.debriefing[branch] = score

    def approve(self, approval_id: UUID, rulebook_version: int, results: list[dict[str, Any]],
                proof: dict[str, str], actor: str, key: str | None) -> None:
        """Record the results approved, then the award, fine and quota events they grant.

        Precondition: ``results`` were computed from this year's inputs and the twelve
        approved months (the application checks both).
        """
        if self.approval_id is not None:
            raise YearAlreadyApproved(f"{self.period} 年度总评已审批，不能重复审批", "year")
        self._approve(approval_id=approval_id, rulebook_version=rulebook_version, results=results,
                      proof=proof, actor=actor, key=key)
        next_year = str(int(self.period) + 1)
        for row in results:
            if row["award"] > 0:
                self._award(approval_id=approval_id, branch=row["branch"], amount=row["award"],
                            rule="year.first_place_award")
            if row["fine"] > 0:
                self._fine(approval_id=approval_id, branch=row["branch"], secretary=row["secretary"],
                           mode=row["mode"], amount=row["fine"], rule="year.last_place_below_threshold_fine")
            self._quota(approval_id=approval_id, branch=row["branch"], for_year=next_year,
                        development_quota=row["development_quota"],
                        excellent_member_quota=row["excellent_member_quota"], rule=row["notes"][-1])

    @event("Approved")
    def _approve(self, approval_id: UUID, rulebook_version: int, results: list[dict[str, Any]],
                 proof: dict[str, str], actor: str, key: str | None) -> None:
        self.approval_id = approval_id
        self.results = results

    def reapprove(self, approval_id: UUID, rulebook_version: int, results: list[dict[str, Any]],
                  proof: dict[str, str], reason: str, actor: str, key: str | None) -> None:
        """A changed year approved again (重新审批年度总评): the new results, then one
        ``AmountAdjusted`` per award, fine or next-year quota that changed, so finance pays or
        recovers the difference and the quotas follow. Both approvals stay in the history.

        Precondition: ``results`` were computed as for :meth:`approve`, from the log as it
        stands now (corrections after the approval count).
        """
        if self.approval_id is None:
            raise YearNotReady(f"{self.period} 年度总评尚未审批：请先审批", "year")
        if not reason.strip():
            raise InvalidInput("重新审批必须写明理由", "reason")
        if _lines(results) == _lines(self.results):
            raise YearAlreadyApproved(f"{self.period} 年度总评自上次审批以来没有变化", "year")
        before = {r["branch"]: r for r in self.results}
        self._reapprove(approval_id=approval_id, previous_approval_id=self.approval_id,
                        rulebook_version=rulebook_version, results=results, proof=proof, reason=reason,
                        actor=actor, key=key)
        next_year = str(int(self.period) + 1)
        for row in results:
            old = before.get(row["branch"], {})
            for kind in ADJUSTED:
                previous, amount = _amount(old.get(kind), kind), _amount(row[kind], kind)
                if previous == amount:
                    continue
                self._adjust(approval_id=approval_id, branch=row["branch"], kind=kind, previous=previous,
                             amount=amount, delta=amount - previous, secretary=row["secretary"],
                             rule=_rule(kind, row, old), for_year=None if kind in MONEY else next_year)

    @event("Reapproved")
    def _reapprove(self, approval_id: UUID, previous_approval_id: UUID, rulebook_version: int,
                   results: list[dict[str, Any]], proof: dict[str, str], reason: str, actor: str,
                   key: str | None) -> None:
        self.approval_id = approval_id
        self.results = results

    @event("AmountAdjusted")
    def _adjust(self, approval_id: UUID, branch: str, kind: str, previous: Decimal, amount: Decimal,
                delta: Decimal, secretary: str | None, rule: str | None, for_year: str | None) -> None:
        pass

    @event("AwardGranted")
    def _award(self, approval_id: UUID, branch: str, amount: Decimal, rule: str) -> None:
        pass

    @event("FineImposed")
    def _fine(self, approval_id: UUID, branch: str, secretary: str | None, mode: str | None,
              amount: Decimal, rule: str) -> None:
        pass

    @event("QuotaSet")
    def _quota(self, approval_id: UUID, branch: str, for_year: str, development_quota: int,
               excellent_member_quota: int, rule: str) -> None:
        pass


MONEY = ("award", "fine")
ADJUSTED = (*MONEY, "development_quota", "excellent_member_quota")  # what a re-approval adjusts
LINE = ("monthly_mean", "score", "rank", *ADJUSTED)  # what a re-approval must change


def _amount(value: Any, kind: str) -> Decimal:
    """Money in yuan (two decimals), a quota as a whole number; absent counts as 0."""
    if value is None:
        return Decimal("0.00") if kind in MONEY else Decimal(0)
    return Decimal(value).quantize(Decimal("0.01")) if kind in MONEY else Decimal(int(value))


def _rule(kind: str, row: dict[str, Any], old: dict[str, Any]) -> str:
    if kind == "award":
        return "year.first_place_award"
    if kind == "fine":
        return "year.last_place_below_threshold_fine"
    return str((row.get("notes") or old.get("notes") or ["year.quota_base"])[-1])


def _lines(results: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each branch's line as compared: mean, score, rank, award, fine and quotas."""
    def norm(v: Any) -> Any:
        return None if v is None else Decimal(v) if not isinstance(v, int) else v
    return sorted((r["branch"], *(norm(r.get(k)) for k in LINE)) for r in results)
