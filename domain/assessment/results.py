"""Monthly results and quarterly rankings from their inputs: shared by the approvals
(which record what they approved) and the projections (which show it)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

import orjson

from domain.assessment.rulebook import Rulebook
from domain.assessment.scoring import (
    RULE_FIRST_AWARD,
    RULE_LAST_FINE,
    Secretary,
    monthly_pay,
    monthly_score_cents,
    quarter_outcomes,
    quarter_score,
)


@dataclass(frozen=True)
class MonthlyResult:
    """One branch-month: score and what it means for the secretary in office."""

    branch: str
    score: Decimal
    mode: str | None
    coefficient: Decimal | None
    allowance: Decimal | None
    secretary: Secretary | None

    def frozen_inputs(self) -> dict[str, Any]:
        """What a month approval freezes besides the score: who was in office, on what terms."""
        s = self.secretary
        return {"branch": self.branch, "score": self.score,
                "secretary": None if s is None else s.name,
                "user": None if s is None else s.user,
                "mode": None if s is None else s.mode,
                "allowance_base": None if s is None else s.allowance}


def canonical_hash(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of a result: sorted keys, no spaces, decimals
    and UUIDs as strings — what an approval records so anyone can recompute and compare."""
    return hashlib.sha256(orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()


def month_records(results: Sequence["MonthlyResult"]) -> list[dict[str, Any]]:
    """What a month approval records per branch: score, pay and the frozen inputs."""
    return [dict(r.frozen_inputs(), coefficient=r.coefficient, allowance=r.allowance) for r in results]


def frozen_secretary(row: Mapping[str, Any]) -> Secretary | None:
    """The secretary a month approval froze in a result row (``allowance_base`` may come
    back as a Decimal from the event or as text from a stored read model)."""
    if row["mode"] is None:
        return None
    base = row["allowance_base"]
    return Secretary(row["secretary"], row["mode"], None if base is None else Decimal(base), row["user"])


def month_results(branches: Sequence[str], sums: Mapping[str, Mapping[str, int]],
                  secretaries: Mapping[str, Secretary | None],
                  rulebook: Rulebook) -> list[MonthlyResult]:
    """Results for ``branches`` (taking part), in the order given; ``sums`` in cents."""
    out = []
    for code in branches:
        score = monthly_score_cents(sums.get(code, {}), rulebook)
        secretary = secretaries.get(code)
        pay = monthly_pay(score, secretary, rulebook)
        out.append(MonthlyResult(code, score, pay.mode, pay.coefficient, pay.allowance, secretary))
    return out


@dataclass(frozen=True)
class QuarterRow:
    """One branch's line in a quarter ranking."""

    branch: str
    months: dict[str, Decimal]
    score: Decimal
    rank: int
    award: Decimal
    fine: Decimal
    secretary: Secretary | None
    notes: tuple[str, ...] = field(default=())

    def to_record(self) -> dict[str, Any]:
        """As recorded in the quarter approval (and its award and fine events)."""
        s = self.secretary
        return {"branch": self.branch, "months": dict(self.months), "score": self.score,
                "rank": self.rank, "award": self.award, "fine": self.fine,
                "secretary": None if s is None else s.name,
                "mode": None if s is None else s.mode,
                "award_rule": RULE_FIRST_AWARD if self.award else None,
                "fine_rule": RULE_LAST_FINE if self.fine else None,
                "notes": list(self.notes)}


def quarter_ranking(month_scores: Mapping[str, Mapping[str, Decimal]],
                    last_month_secretaries: Mapping[str, Secretary | None],
                    rulebook: Rulebook) -> list[QuarterRow]:
    """Rank branches by the mean of their three monthly scores.

    ``month_scores`` maps each taking-part branch to its three months' scores. Rows come
    sorted by rank, then branch code.
    """
    scores = {b: quarter_score(m.values()) for b, m in month_scores.items()}
    outcomes = quarter_outcomes(scores, last_month_secretaries, rulebook)
    rows = [QuarterRow(b, dict(month_scores[b]), scores[b], o.rank, o.award, o.fine,
                       last_month_secretaries.get(b), o.notes)
            for b, o in outcomes.items()]
    return sorted(rows, key=lambda r: (r.rank, r.branch))
