"""The annual overall evaluation (每年一总评) and the dual hundred-point link (双百分).

Seed part 3, 三(一) and part 1, 一. Quotas are for the year after the evaluated one: the
development quota (发展党员指标) of next year, and the excellent-member quota (七一表彰优秀
党员指标) applied at the next July-1 commendation.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping

from domain.assessment.rulebook import Rulebook
from domain.assessment.scoring import Placing, Secretary, annual_terms, placings, quarter_score, round2

RULE_QUOTA_BASE = "year.quota_base"  # 按党员人数核定的基础指标
RULE_QUOTA_FIRST = "year.quota_raised_first_place"  # 第一名：两项指标增加
RULE_QUOTA_LAST = "year.quota_cut_last_place"  # 末位且低于阈值：优秀党员指标减少、发展指标取消


def monthly_mean(scores: Iterable[Decimal]) -> Decimal:
    """Mean of the twelve monthly scores, two decimals, half-up."""
    return quarter_score(scores)


def annual_score(mean: Decimal, unit: Decimal, debriefing: Decimal, rulebook: Rulebook) -> Decimal:
    """Weighted sum (rulebook: 60 / 20 / 20), two decimals, half-up."""
    return round2(mean * rulebook.annual_weight_monthly + unit * rulebook.annual_weight_unit
                  + debriefing * rulebook.annual_weight_debriefing)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class AnnualOutcome:
    """A branch's placing in the year and its quotas for the next year."""

    placing: Placing
    development_quota: int
    excellent_member_quota: int
    quota_rule: str


def annual_outcomes(scores: Mapping[str, Decimal], members: Mapping[str, int],
                    secretaries: Mapping[str, Secretary | None],
                    rulebook: Rulebook) -> dict[str, AnnualOutcome]:
    """Placings (5,000 to first; last below 95: fine by the December secretary) and quotas.

    ``members``: count in force at the end of the evaluated year. Penalised quotas apply to
    the branch whether or not a secretary could be fined.
    """
    placed = placings(scores, secretaries, annual_terms(rulebook))
    out = {}
    for branch, placing in placed.items():
        n = members[branch]
        development = _ceil_div(n, rulebook.development_quota_per)
        excellent = _ceil_div(n, rulebook.excellent_quota_per)
        rule = RULE_QUOTA_BASE
        if placing.rank == 1:
            raise_by = max(1, _ceil_div(n, rulebook.first_place_quota_per))
            development, excellent, rule = development + raise_by, excellent + raise_by, RULE_QUOTA_FIRST
        elif placing.last_below:
            development = 0
            excellent = max(0, excellent - rulebook.last_place_excellent_cut)
            rule = RULE_QUOTA_LAST
        out[branch] = AnnualOutcome(placing, development, excellent, rule)
    return out


@dataclass(frozen=True)
class AnnualRow:
    """One branch's line in the annual evaluation; score fields None while an input is missing."""

    branch: str
    monthly_mean: Decimal
    unit_score: Decimal | None
    debriefing_score: Decimal | None
    score: Decimal | None
    rank: int | None
    award: Decimal
    fine: Decimal
    development_quota: int | None
    excellent_member_quota: int | None
    secretary: Secretary | None
    members: int
    notes: tuple[str, ...] = ()

    def to_record(self) -> dict[str, Any]:
        s = self.secretary
        return {"branch": self.branch, "monthly_mean": self.monthly_mean, "unit_score": self.unit_score,
                "debriefing_score": self.debriefing_score, "score": self.score, "rank": self.rank,
                "award": self.award, "fine": self.fine, "development_quota": self.development_quota,
                "excellent_member_quota": self.excellent_member_quota, "members": self.members,
                "secretary": None if s is None else s.name, "mode": None if s is None else s.mode,
                "notes": list(self.notes)}


def annual_ranking(month_scores: Mapping[str, Iterable[Decimal]], unit: Mapping[str, Decimal],
                   debriefing: Mapping[str, Decimal], members: Mapping[str, int],
                   december_secretaries: Mapping[str, Secretary | None],
                   rulebook: Rulebook) -> list[AnnualRow]:
    """Rank the branches that have both annual inputs; list the others unranked.

    Rows sorted by rank (unranked last), then branch code.
    """
    means = {b: monthly_mean(s) for b, s in month_scores.items()}
    complete = [b for b in means if b in unit and b in debriefing]
    scores = {b: annual_score(means[b], unit[b], debriefing[b], rulebook) for b in complete}
    outcomes = annual_outcomes(scores, members, december_secretaries, rulebook)
    rows = []
    zero = Decimal("0.00")
    for b in means:
        o = outcomes.get(b)
        rows.append(AnnualRow(
            b, means[b], unit.get(b), debriefing.get(b), scores.get(b),
            o.placing.rank if o else None, o.placing.award if o else zero, o.placing.fine if o else zero,
            o.development_quota if o else None, o.excellent_member_quota if o else None,
            december_secretaries.get(b), members[b],
            (*o.placing.notes, o.quota_rule) if o else ("year.inputs_missing",)))
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.branch))


def combined_score(party: Decimal, business: Decimal, rulebook: Rulebook) -> Decimal:
    """The unit's dual hundred-point result: ``mutual`` (party × business / 100, each a
    coefficient of the other) or ``weighted`` (business and party by the rulebook weight)."""
    if rulebook.dual_formula == "weighted":
        w = rulebook.dual_business_weight
        return round2(business * w + party * (1 - w))
    return round2(party * business / 100)
