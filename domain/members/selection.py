"""Competitive selection (竞聘): a position, candidates, score sheets, a result.

Seed: "由职工代表和公司领导共同对竞聘者进行打分，且职工代表匿名打分、公司领导实名打分；
对总得分低于80分的，即使排在第一，也不予聘任。" One aggregate per selection (``Selection``)
guards the sheets: a representative sheet (职工代表评分表) is numbered by the clerk who
keys it in, and carries no voter identity at all; a leader sheet (领导评分表) carries the
leader's name. Closing computes the result with the rulebook in force in the month of the
selection's date and records it, frozen, with the weights and threshold it used.

The result (see :func:`tally`): each mean rounded half-up to two decimals (as it would be
posted), total = mean_r × w_r + mean_l × w_l rounded half-up to two decimals; ranks by
total, equal totals share a rank (1, 1, 3); only a single first-ranked candidate at or
above the threshold is appointed. Two or more candidates tied at first place: nobody is
appointed by the rule (outcome ``tie``); the committee decides outside this selection
(e.g. a new round, opened as a new selection).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, Literal, Mapping, Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import BeforeValidator, Field, StrictInt

from domain import commands as c
from domain import vocabulary
from domain.errors import InvalidInput, SelectionRefused
from domain.ids import selection_id

if TYPE_CHECKING:
    from domain.assessment.rulebook import Rulebook

APPOINTED = "appointed"  # 聘任
BELOW_THRESHOLD = "below_threshold"  # 第一名低于门槛值，不予聘任
TIE = "tie"  # 并列第一，不按规则聘任，由党委另行决定
OUTCOME_NAMES = vocabulary.SELECTION_OUTCOMES
SCORE_MIN, SCORE_MAX = Decimal(0), Decimal(100)


def _date(value: Any) -> str:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError(f"日期应写成 YYYY-MM-DD，收到 {value!r}")


Date = Annotated[str, BeforeValidator(_date)]  # an occasion's date, ISO (YYYY-MM-DD)


def half_up(value: Fraction) -> Decimal:
    """``value`` (≥ 0) rounded half-up to two decimals, exactly."""
    cents = (value * 100 + Fraction(1, 2)).__floor__()
    return Decimal(cents).scaleb(-2).quantize(Decimal("0.01"))


def mean(values: Sequence[Decimal]) -> Decimal:
    """The mean of ``values`` (non-empty, ≥ 0), two decimals half-up."""
    return half_up(sum((Fraction(v) for v in values), Fraction(0)) / len(values))


@dataclass(frozen=True)
class Row:
    """One candidate's result."""

    candidate: str
    name: str
    representative_mean: Decimal
    leader_mean: Decimal
    total: Decimal
    rank: int
    appointed: bool

    def to_record(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "name": self.name, "representative_mean": self.representative_mean,
                "leader_mean": self.leader_mean, "total": self.total, "rank": self.rank, "appointed": self.appointed}


def tally(candidates: Sequence[str], names: Mapping[str, str],
          representative: Sequence[Mapping[str, Decimal]], leaders: Sequence[Mapping[str, Decimal]],
          weight_representatives: Decimal, weight_leaders: Decimal,
          threshold: Decimal) -> tuple[list[Row], str]:
    """Rows by rank (then candidate order) and the outcome.

    Precondition: both sheet lists non-empty, each sheet scores every candidate.
    """
    totals = {}
    means = {}
    for cand in candidates:
        r = mean([s[cand] for s in representative])
        ld = mean([s[cand] for s in leaders])
        means[cand] = (r, ld)
        totals[cand] = half_up(Fraction(weight_representatives) * Fraction(r) + Fraction(weight_leaders) * Fraction(ld))
    ranks = {cand: 1 + sum(1 for t in totals.values() if t > totals[cand]) for cand in candidates}
    first = [cand for cand in candidates if ranks[cand] == 1]
    if totals[first[0]] < threshold:
        outcome = BELOW_THRESHOLD
    elif len(first) > 1:
        outcome = TIE
    else:
        outcome = APPOINTED
    order = sorted(candidates, key=lambda cand: (ranks[cand], candidates.index(cand)))
    rows = [Row(cand, names.get(cand, ""), means[cand][0], means[cand][1], totals[cand], ranks[cand],
                outcome == APPOINTED and ranks[cand] == 1) for cand in order]
    return rows, outcome


class Selection(Aggregate):
    """One competitive selection for one position.

    ``representative[sheet] = scores`` (no voter identity: the sheet number is the clerk's);
    ``leaders[name] = scores``; ``closed`` once the result is recorded.
    """

    @staticmethod
    def create_id(selection: str, **_: Any) -> UUID:
        return selection_id(selection)

    @event("Opened")
    def __init__(self, selection: str, position: str, date: str, candidates: list[str], names: dict[str, str],
                 actor: str, key: str | None) -> None:
        self.selection = selection
        self.position = position
        self.date = date
        self.candidates = list(candidates)
        self.names = dict(names)
        self.representative: dict[int, dict[str, Decimal]] = {}
        self.leaders: dict[str, dict[str, Decimal]] = {}
        self.closed = False

    def _scores(self, scores: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """The sheet's scores in candidate order; refused (field ``scores``) unless each
        candidate, and only they, is scored between 0 and 100."""
        unknown = [k for k in scores if k not in self.candidates]
        if unknown:
            raise SelectionRefused(f"{unknown[0]} 不是本次竞聘的候选人（候选人：{', '.join(self.candidates)}）", "scores")
        missing = [k for k in self.candidates if k not in scores]
        if missing:
            raise SelectionRefused(f"评分表缺少候选人 {missing[0]} 的分数（每张表须为每位候选人打分）", "scores")
        for cand in self.candidates:
            if not SCORE_MIN <= scores[cand] <= SCORE_MAX:
                raise InvalidInput(f"候选人 {cand} 的分数 {scores[cand]} 超出 0–100", "scores")
        return {cand: scores[cand] for cand in self.candidates}

    def _open_for_sheets(self) -> None:
        if self.closed:
            raise SelectionRefused(f"竞聘 {self.selection} 已结束，不能再录入评分表", "selection")

    def record_representative_sheet(self, sheet: int, scores: Mapping[str, Decimal], actor: str,
                                    key: str | None) -> None:
        """An employee representative's sheet, keyed by the clerk ``actor``."""
        self._open_for_sheets()
        if sheet in self.representative:
            raise SelectionRefused(f"第 {sheet} 号职工代表评分表已录入", "sheet")
        self._record_representative(selection=self.selection, sheet=sheet, scores=self._scores(scores),
                                    actor=actor, key=key)

    @event("RepresentativeSheetRecorded")
    def _record_representative(self, selection: str, sheet: int, scores: dict[str, Decimal], actor: str,
                               key: str | None) -> None:
        self.representative[sheet] = scores

    def record_leader_sheet(self, leader: str, scores: Mapping[str, Decimal], actor: str, key: str | None) -> None:
        """A company leader's sheet, by name (实名)."""
        self._open_for_sheets()
        if leader in self.leaders:
            raise SelectionRefused(f"领导 {leader} 的评分表已录入", "leader")
        self._record_leader(selection=self.selection, leader=leader, scores=self._scores(scores),
                            actor=actor, key=key)

    @event("LeaderSheetRecorded")
    def _record_leader(self, selection: str, leader: str, scores: dict[str, Decimal], actor: str,
                       key: str | None) -> None:
        self.leaders[leader] = scores

    def close(self, rulebook: "Rulebook", actor: str, key: str | None) -> str:
        """Compute and record the result; returns the outcome."""
        if self.closed:
            raise SelectionRefused(f"竞聘 {self.selection} 已结束", "selection")
        if not self.representative:
            raise SelectionRefused("尚无职工代表评分表，不能结束竞聘", "selection")
        if not self.leaders:
            raise SelectionRefused("尚无领导评分表，不能结束竞聘", "selection")
        rows, outcome = tally(self.candidates, self.names, [self.representative[k] for k in sorted(self.representative)],
                              [self.leaders[k] for k in sorted(self.leaders)],
                              rulebook.selection_weight_representatives, rulebook.selection_weight_leaders,
                              rulebook.selection_threshold)
        self._close(selection=self.selection, rulebook_version=rulebook.version,
                    weight_representatives=rulebook.selection_weight_representatives,
                    weight_leaders=rulebook.selection_weight_leaders, threshold=rulebook.selection_threshold,
                    representative_sheets=len(self.representative), leader_sheets=len(self.leaders),
                    results=[r.to_record() for r in rows], outcome=outcome, actor=actor, key=key)
        return outcome

    @event("Closed")
    def _close(self, selection: str, rulebook_version: int, weight_representatives: Decimal,
               weight_leaders: Decimal, threshold: Decimal, representative_sheets: int, leader_sheets: int,
               results: list[dict[str, Any]], outcome: str, actor: str, key: str | None) -> None:
        self.closed = True


# -- commands ------------------------------------------------------------------------------
Scores = dict[c.Code, c.ExactDecimal]


class OpenSelection(c.Command):
    """A competitive selection for a position (竞聘上岗), with its candidates (registered
    people) and the date it is held (the rulebook in force that month applies)."""
    op: Literal["open_selection"] = "open_selection"
    roles = ("party_mass",)
    selection: c.Code
    position: c.Text
    date: Date
    candidates: list[c.Code] = Field(min_length=1)
    actor: c.Text


class RecordRepresentativeSheet(c.Command):
    """An employee representative's score sheet (职工代表匿名评分表), keyed in by a clerk
    (``actor``); ``sheet`` is the number the clerk gave it, never the voter's."""
    op: Literal["record_representative_sheet"] = "record_representative_sheet"
    roles = ("party_mass",)
    selection: c.Code
    sheet: StrictInt = Field(ge=1)
    scores: Scores
    actor: c.Text


class RecordLeaderSheet(c.Command):
    """A company leader's score sheet, by name (公司领导实名评分表)."""
    op: Literal["record_leader_sheet"] = "record_leader_sheet"
    roles = ("party_mass",)
    selection: c.Code
    leader: c.Text
    scores: Scores
    actor: c.Text


class CloseSelection(c.Command):
    """Close the selection and record its result (who, if anyone, is appointed)."""
    op: Literal["close_selection"] = "close_selection"
    roles = ("committee",)
    selection: c.Code
    actor: c.Text
