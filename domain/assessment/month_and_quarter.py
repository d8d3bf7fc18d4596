"""Monthly assessment (每月一考核) and quarterly evaluation (每季一评比) aggregates.

``AssessmentMonth`` guards the hard invariant: no entry lands in a submitted or approved
month. Entries are events of the month aggregate, so an entry and the submission or
approval compete for the same next version of one aggregate; the store's unique
``(originator_id, originator_version)`` rejects the loser of a race.
"""
from __future__ import annotations

from copy import deepcopy
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import vocabulary
from domain.assessment.rulebook import BONUS, CATEGORY_NAMES, DEPARTMENT_NAMES, Rulebook
from domain.assessment.year import check_score
from domain.decimals import beyond_cents
from domain.errors import (
    InvalidInput,
    MonthNotOpenForEntries,
    MonthStateConflict,
    QuarterAlreadyApproved,
    QuarterNotReady,
    SeparationOfDuties,
    WrongDepartment,
)
from domain.ids import month_id, quarter_id

DRAFT = "draft"  # 草稿：可录入
SUBMITTED = "submitted"  # 已提交：待审批
APPROVED = "approved"  # 已审批：封存


def check_points(points: Decimal, category: str) -> None:
    """Points have at most two decimals, are not 0, negative except for ``bonus``."""
    if beyond_cents(points):
        raise InvalidInput("分值最多两位小数", "points")
    if points == 0:
        raise InvalidInput("分值不能为 0", "points")
    if category == BONUS and points < 0:
        raise InvalidInput("特色加分项的分值必须为正数", "points")
    if category != BONUS and points > 0:
        raise InvalidInput("扣分项的分值必须为负数（加分只能记入 bonus 特色加分项）", "points")


class AssessmentMonth(Aggregate):
    """One month's task-book scoring for all branches.

    State is kept small (status and a count of entries), so the cached copy a command
    takes is cheap however many entries the month has; entry ids are unique by
    construction (uuid4, or uuid5 of an import key, which the key index makes unique).
    """

    @staticmethod
    def create_id(period: str, **_: Any) -> UUID:
        return month_id(period)

    @event("Opened")
    def __init__(self, period: str) -> None:
        self.period = period
        self.status = DRAFT
        self.entry_count = 0
        self.results: list[dict[str, Any]] = []
        self.approved_version = 0
        self.rulebook_version: int | None = None
        self.sums: dict[str, dict[str, int]] = {}  # branch → category → points counted now (cents)

    def __deepcopy__(self, memo: dict[int, Any]) -> AssessmentMonth:
        """The copy a command changes (the unit of work copies the cached month first).

        ``sums`` is copied one level: the per-branch dicts are shared with the original until
        one side writes to a branch, which copies that branch's dict first (:meth:`_add`;
        ``_owned_sums`` names the branches a copy has made its own, None on a month never
        copied, which owns them all). The rest is copied by ``deepcopy``. The generic copy of a
        month of 1,000 branches took ~6 ms, most of a single ``record_score``; a two-level copy
        ~0.6 ms; this one the outer dict only."""
        new = object.__new__(type(self))
        memo[id(self)] = new
        for name, value in self.__dict__.items():
            if name == "sums":
                new.__dict__[name] = dict(value)
            elif name != "_owned_sums":
                new.__dict__[name] = deepcopy(value, memo)
        new.__dict__["_owned_sums"] = set()
        self.__dict__["_owned_sums"] = set()  # its branch dicts are shared from now on
        return new

    def _add(self, branch: str, category: str, points: Decimal) -> None:
        per = self.sums.get(branch)
        owned: set[str] | None = self.__dict__.get("_owned_sums")
        if per is None or (owned is not None and branch not in owned):
            per = self.sums[branch] = {} if per is None else dict(per)  # copy on first write
            if owned is not None:
                owned.add(branch)
        per[category] = per.get(category, 0) + int(points.scaleb(2))

    def cap_note(self, branch: str, category: str, points: Decimal, rulebook: Rulebook) -> dict[str, Any] | None:
        """What the cap leaves of a new entry of ``points``, recorded after the branch's
        entries so far (caps count in log order, as explanations do): None if it counts in
        full, else a warning saying how much counts. Precondition: ``points`` passed
        :func:`check_points` for ``category``."""
        before = self.sums.get(branch, {}).get(category, 0)
        cents = int(points.scaleb(2))
        if category == BONUS:
            cap = rulebook.bonus_cap_cents
            used = min(cap, max(0, before))
            counted = min(cents, max(0, cap - used))
            limit = f"本月特色加分上限 {Decimal(cap).scaleb(-2)}"
        else:
            cap = rulebook.category_cents.get(category, 0)
            used = min(cap, max(0, -before))
            counted = -min(-cents, max(0, cap - used))
            limit = f"「{CATEGORY_NAMES.get(category, category)}」本类扣分上限 {Decimal(cap).scaleb(-2)}"
        if counted == cents:
            return None
        shown = [f"{Decimal(x).scaleb(-2):.2f}" for x in (cents, counted, cap, used)]
        counts = f"只计入 {shown[1]}" if counted else "不再计入得分（计入 0.00）"
        return {"kind": "cap", "field": "points", "branch": branch, "period": self.period, "category": category,
                "points": shown[0], "counted": shown[1], "cap": shown[2], "used_before": shown[3],
                "message": f"已录入，但超出上限：{limit}，支部 {branch} {self.period} 此前已计 {shown[3]}，"
                           f"本条 {shown[0]} {counts}"}

    def record_score(self, *, entry_id: UUID, branch: str, category: str, points: Decimal,
                     reason: str, department: str, actor: str, key: str | None,
                     rulebook: Rulebook) -> dict[str, Any] | None:
        """Record a deduction or bonus; return :meth:`cap_note` (None: it counts in full).
        Precondition: ``branch`` takes part this month."""
        note = self.check_entry(branch=branch, category=category, points=points, reason=reason,
                                department=department, rulebook=rulebook)
        self.trigger_event(self.ScoreRecorded, entry_id=entry_id, branch=branch, category=category,
                           points=points, reason=reason, department=department, actor=actor, key=key)
        return note

    def check_entry(self, *, branch: str, category: str, points: Decimal, reason: str, department: str,
                    rulebook: Rulebook) -> dict[str, Any] | None:
        """The invariants of a new entry (raise the first broken), and its :meth:`cap_note`.
        Shared by :meth:`record_score` and the batch import's compact path
        (``domain/service/score_batch.py``), which then counts the entry with :meth:`count_entry`.
        Precondition: ``branch`` takes part this month."""
        if self.status != DRAFT:
            raise MonthNotOpenForEntries(
                f"{self.period} 状态为{vocabulary.state_name(self.status)}，不能再录入分值", "period")
        if category not in rulebook.categories:
            raise InvalidInput(f"未知的考核类别 {category!r}，应为 {', '.join(rulebook.categories)}",
                               "category")
        if department not in rulebook.departments:
            raise InvalidInput(f"未知的考核部门 {department!r}", "department")
        if category not in rulebook.departments[department]:
            raise WrongDepartment(
                f"{DEPARTMENT_NAMES.get(department, department)} 不负责考核"
                f"「{CATEGORY_NAMES.get(category, category)}」", "department")
        check_points(points, category)
        if not reason.strip():
            raise InvalidInput("必须写明扣分或加分理由", "reason")
        return self.cap_note(branch, category, points, rulebook)

    def count_entry(self, branch: str, category: str, points: Decimal) -> None:
        """What :class:`ScoreRecorded` does to the state (the compact path applies it without
        the event object; the version and ``modified_on`` follow when the batch is stored)."""
        self.entry_count += 1
        self._add(branch, category, points)

    class ScoreRecorded(Aggregate.Event):
        """A deduction (negative) or bonus (positive) for one branch in this month.

        Declared as a class rather than through ``@event`` because it is the hot path of a
        batch import (the decorator's argument coercion costs more than the event)."""

        entry_id: UUID
        branch: str
        category: str
        points: Decimal
        reason: str
        department: str
        actor: str
        key: str | None

        def apply(self, aggregate: "AssessmentMonth") -> None:
            aggregate.count_entry(self.branch, self.category, self.points)

    def void_entry(self, entry_id: UUID, branch: str, category: str, points: Decimal, reason: str,
                   actor: str, key: str | None) -> None:
        """Void an entry before submission (作废). Precondition: the entry is this month's and
        counts ``points`` now (the application reads it from the month's events)."""
        if self.status != DRAFT:
            raise MonthNotOpenForEntries(
                f"{self.period} 已提交或已审批：条目只能经申诉或党委更正改变", "entry_id")
        if not reason.strip():
            raise InvalidInput("作废必须写明理由", "reason")
        self._void(entry_id=entry_id, branch=branch, category=category, points=points, reason=reason,
                   actor=actor, key=key)

    @event("EntryVoided")
    def _void(self, entry_id: UUID, branch: str, category: str, points: Decimal, reason: str, actor: str,
              key: str | None) -> None:
        self._add(branch, category, -points)

    def correct_entry(self, entry_id: UUID, branch: str, category: str, old_points: Decimal,
                      new_points: Decimal, reason: str, cause: str, appeal_id: UUID | None, actor: str,
                      key: str | None) -> None:
        """A correction (更正) referencing the entry: by an upheld appeal (any status) or by the
        committee after submission. Nothing is edited; views use the corrected points."""
        if cause == "committee" and self.status == DRAFT:
            raise MonthStateConflict(f"{self.period} 仍是草稿：请作废后重新录入，而不是更正", "entry_id")
        if new_points != 0:
            check_points(new_points, category)
        if not reason.strip():
            raise InvalidInput("更正必须写明理由", "reason")
        self._correct(entry_id=entry_id, branch=branch, category=category, old_points=old_points,
                      new_points=new_points, reason=reason, cause=cause, appeal_id=appeal_id, actor=actor, key=key)

    @event("EntryCorrected")
    def _correct(self, entry_id: UUID, branch: str, category: str, old_points: Decimal, new_points: Decimal,
                 reason: str, cause: str, appeal_id: UUID | None, actor: str, key: str | None) -> None:
        self._add(branch, category, new_points - old_points)

    def record_business_score(self, branch: str, score: Decimal, actor: str, key: str | None) -> None:
        """The unit's business (or production, or key-work) score for the month (双百分).

        Allowed in any status: it is not part of the party-building score the approval
        seals; a later one for the same branch replaces it. Precondition: branch takes part.
        """
        check_score(score)
        self._business(branch=branch, score=score, actor=actor, key=key)

    @event("BusinessScoreRecorded")
    def _business(self, branch: str, score: Decimal, actor: str, key: str | None) -> None:
        pass

    def submit(self, actor: str, key: str | None, user: str | None = None) -> None:
        """``user``: the acting user, remembered so that they cannot also approve."""
        if self.status != DRAFT:
            raise MonthStateConflict(f"{self.period} 状态为{vocabulary.state_name(self.status)}，只有草稿可以提交", "period")
        self._submit(actor=actor, key=key, user=user)

    @event("Submitted")
    def _submit(self, actor: str, key: str | None, user: str | None = None) -> None:
        self.status = SUBMITTED
        self.submitted_by = user

    def return_to_draft(self, reason: str, actor: str, key: str | None) -> None:
        if self.status != SUBMITTED:
            raise MonthStateConflict(f"{self.period} 状态为{vocabulary.state_name(self.status)}，"
                                     "只有已提交的月份可以退回", "period")
        if not reason.strip():
            raise InvalidInput("退回必须写明理由", "reason")
        self._return(reason=reason, actor=actor, key=key)

    @event("Returned")
    def _return(self, reason: str, actor: str, key: str | None) -> None:
        self.status = DRAFT

    def approve(self, rulebook_version: int, results: list[dict[str, Any]], proof: dict[str, str],
                actor: str, key: str | None, user: str | None = None, exempt: bool = False) -> None:
        """Seal the month, freezing its results and their inputs (who was in office, on
        what terms, under which rulebook version, over how many entries). The approving
        ``user`` cannot be the one who submitted (unless ``exempt``: a migration).

        Precondition: ``results`` were computed from this aggregate's entries at its
        current version (the save fails if another writer moved it meanwhile).
        """
        if self.status != SUBMITTED:
            raise MonthStateConflict(f"{self.period} 状态为{vocabulary.state_name(self.status)}，"
                                     "只有已提交的月份可以审批", "period")
        if not exempt and user is not None and user == getattr(self, "submitted_by", None):
            raise SeparationOfDuties(f"{self.period} 由 {user} 提交，不能由同一用户审批", "period")
        self._approve(rulebook_version=rulebook_version, entry_count=self.entry_count,
                      results=results, proof=proof, actor=actor, key=key)

    @event("Approved")
    def _approve(self, rulebook_version: int, entry_count: int, results: list[dict[str, Any]],
                 proof: dict[str, str], actor: str, key: str | None) -> None:
        self.status = APPROVED
        self.results = results
        self.approved_version = self.version + 1  # this event's version (applied before the bump)
        self.rulebook_version = rulebook_version


class AssessmentQuarter(Aggregate):
    """A quarter's ranking. Guards: approved once; awards and fines cite the approval."""

    @staticmethod
    def create_id(period: str, **_: Any) -> UUID:
        return quarter_id(period)

    @event("Opened")
    def __init__(self, period: str) -> None:
        self.period = period
        self.approval_id: UUID | None = None
        self.ranking: list[dict[str, Any]] = []

    def approve(self, approval_id: UUID, rulebook_version: int, ranking: list[dict[str, Any]],
                proof: dict[str, str], actor: str, key: str | None) -> None:
        """Precondition: ``ranking`` was computed from the three months' approved results."""
        """Record the ranking approved, then one award or fine event per branch concerned."""
        if self.approval_id is not None:
            raise QuarterAlreadyApproved(f"{self.period} 已审批，不能重复审批", "period")
        self._approve(approval_id=approval_id, rulebook_version=rulebook_version,
                      ranking=ranking, proof=proof, actor=actor, key=key)
        for row in ranking:
            if Decimal(row["award"]) > 0:
                self._grant_award(approval_id=approval_id, branch=row["branch"],
                                  amount=Decimal(row["award"]), rule=row["award_rule"])
            if Decimal(row["fine"]) > 0:
                self._impose_fine(approval_id=approval_id, branch=row["branch"],
                                  secretary=row["secretary"], mode=row["mode"],
                                  amount=Decimal(row["fine"]), rule=row["fine_rule"])

    @event("Approved")
    def _approve(self, approval_id: UUID, rulebook_version: int, ranking: list[dict[str, Any]],
                 proof: dict[str, str], actor: str, key: str | None) -> None:
        self.approval_id = approval_id
        self.ranking = ranking

    def reapprove(self, approval_id: UUID, rulebook_version: int, ranking: list[dict[str, Any]],
                  proof: dict[str, str], reason: str, actor: str, key: str | None) -> None:
        """A changed quarter approved again (重新审批): the new ranking, then an adjustment per
        award or fine that changed, so finance pays or recovers the difference. Both
        approvals stay in the history."""
        if self.approval_id is None:
            raise QuarterNotReady(f"{self.period} 尚未审批：请先审批", "period")
        if not reason.strip():
            raise InvalidInput("重新审批必须写明理由", "reason")
        if _lines(ranking) == _lines(self.ranking):
            raise QuarterAlreadyApproved(f"{self.period} 的排名自上次审批以来没有变化", "period")
        before = {r["branch"]: r for r in self.ranking}
        self._reapprove(approval_id=approval_id, previous_approval_id=self.approval_id,
                        rulebook_version=rulebook_version, ranking=ranking, proof=proof, reason=reason,
                        actor=actor, key=key)
        for row in ranking:
            old = before.get(row["branch"], {"award": Decimal(0), "fine": Decimal(0)})
            for kind in ("award", "fine"):
                if Decimal(row[kind]) != Decimal(old[kind]):
                    self._adjust(approval_id=approval_id, branch=row["branch"], kind=kind,
                                 previous=Decimal(old[kind]), amount=Decimal(row[kind]),
                                 delta=Decimal(row[kind]) - Decimal(old[kind]),
                                 secretary=row["secretary"], rule=row[f"{kind}_rule"] or old.get(f"{kind}_rule"))

    @event("Reapproved")
    def _reapprove(self, approval_id: UUID, previous_approval_id: UUID, rulebook_version: int,
                   ranking: list[dict[str, Any]], proof: dict[str, str], reason: str, actor: str,
                   key: str | None) -> None:
        self.approval_id = approval_id
        self.ranking = ranking

    @event("AmountAdjusted")
    def _adjust(self, approval_id: UUID, branch: str, kind: str, previous: Decimal, amount: Decimal,
                delta: Decimal, secretary: str | None, rule: str | None) -> None:
        pass

    @event("AwardGranted")
    def _grant_award(self, approval_id: UUID, branch: str, amount: Decimal, rule: str) -> None:
        pass

    @event("FineImposed")
    def _impose_fine(self, approval_id: UUID, branch: str, secretary: str | None,
                     mode: str | None, amount: Decimal, rule: str) -> None:
        pass


def _lines(ranking: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a re-approval must change: each branch's score, rank, award and fine."""
    return sorted((r["branch"], Decimal(r["score"]), r["rank"], Decimal(r["award"]), Decimal(r["fine"]))
                  for r in ranking)
