"""The task book's arithmetic (seed part 3, 三(一)): pure functions over Decimals.

Rounding: scores to two decimals, coefficients to ``rulebook.coefficient_places``, money to
the fen, all half-up. Ranks and thresholds use the rounded score.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterable, Mapping, Sequence

from domain.assessment.rulebook import BONUS, FULL_TIME, PART_TIME, Rulebook

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# Rule names, cited by award and fine events and by explanations.
RULE_FIRST_AWARD = "quarter.first_place_award"  # 季度第一名奖励党建活动经费
RULE_LAST_FINE = "quarter.last_place_below_threshold_fine"  # 季度末位且低于阈值，书记罚款


def round2(value: Decimal) -> Decimal:
    """Two decimals, half-up (scores and money)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(value: Decimal) -> int:
    """Points or yuan as an integer number of hundredths. Precondition: at most two
    decimals (commands refuse more); raises ``ValueError`` otherwise."""
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than two decimals")
    return int(scaled)


def monthly_score(sums: Mapping[str, Decimal], rulebook: Rulebook) -> Decimal:
    """Score of one branch-month from the signed sum of points per category."""
    return monthly_score_cents({c: to_cents(v) for c, v in sums.items()}, rulebook)


def monthly_score_cents(sums: Mapping[str, int], rulebook: Rulebook) -> Decimal:
    """The score of ``monthly_cents`` as a two-place Decimal."""
    return Decimal(monthly_cents(sums, rulebook)).scaleb(-2)


def monthly_cents(sums: Mapping[str, int], rulebook: Rulebook) -> int:
    """Score of one branch-month from the signed sum of points per category, in cents.

    100 − deductions + bonus; each category's deductions are capped at its points, the
    bonus sum at ``bonus_cap``. A month with no entries scores ``base_score``. Categories
    the rulebook does not know (none, while entries are checked against it) count nothing.
    Integer cents keep the arithmetic exact and fast (the fold keeps its sums so).
    """
    return monthly_scorer(rulebook)(sums)


def monthly_scorer(rulebook: Rulebook) -> Callable[[Mapping[str, int]], int]:
    """``monthly_cents`` under one rulebook, its caps read once: for scoring every branch of
    a month (the quarter's hot loop) without looking them up per branch."""
    caps, base, bonus_cap = rulebook.category_cents, rulebook.base_cents, rulebook.bonus_cap_cents

    cap_of = caps.get

    def score(sums: Mapping[str, int]) -> int:
        total = base
        for category, points in sums.items():
            if points < 0:  # a deduction (a negative bonus sum counts nothing)
                if category != BONUS:
                    limit = cap_of(category, 0)
                    total -= -points if -points < limit else limit
            elif points > 0 and category == BONUS:
                total += points if points < bonus_cap else bonus_cap
        return total
    return score


def monthly_cents_of(sums: Mapping[str, Mapping[str, int]], branches: Iterable[str],
                     rulebook: Rulebook) -> dict[str, int]:
    """``monthly_cents`` of each of ``branches`` from its sums (none: the base score), in one
    loop (a quarter of 1,000 branches scores 3,000 branch-months: no call per branch)."""
    caps, base, bonus_cap = rulebook.category_cents, rulebook.base_cents, rulebook.bonus_cap_cents
    cap_of, sums_of = caps.get, sums.get
    out: dict[str, int] = {}
    for branch in branches:
        total = base
        mine = sums_of(branch)
        if mine:
            for category, points in mine.items():  # as ``monthly_scorer``'s score
                if points < 0:
                    if category != BONUS:
                        limit = cap_of(category, 0)
                        total -= -points if -points < limit else limit
                elif points > 0 and category == BONUS:
                    total += points if points < bonus_cap else bonus_cap
        out[branch] = total
    return out


def cents_text(cents: int) -> str:
    """Hundredths as the two-place decimal text ``str(Decimal(cents).scaleb(-2))`` gives."""
    sign, magnitude = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{magnitude // 100}.{magnitude % 100:02d}"


def mean_cents(values: Sequence[int]) -> int:
    """``quarter_score`` in hundredths: the mean rounded half-up (away from zero) to the
    cent. Precondition: ``values`` is not empty."""
    total = sum(values)
    quotient, remainder = divmod(abs(total), len(values))
    if 2 * remainder >= len(values):
        quotient += 1
    return -quotient if total < 0 else quotient


@dataclass(frozen=True)
class Secretary:
    """The secretary in office for a month (支部书记)."""

    name: str
    mode: str  # FULL_TIME or PART_TIME
    allowance: Decimal | None  # monthly allowance (yuan), part-time only
    user: str | None = None


@dataclass(frozen=True)
class MonthlyPay:
    """What a month's score means for the secretary: coefficient or allowance."""

    mode: str | None
    coefficient: Decimal | None
    allowance: Decimal | None


def coefficient(score: Decimal, rulebook: Rulebook) -> Decimal:
    """min(score, 100) / 100, to ``coefficient_places`` decimals, half-up."""
    quantum = Decimal(1).scaleb(-rulebook.coefficient_places)
    return (min(score, HUNDRED) / HUNDRED).quantize(quantum, rounding=ROUND_HALF_UP)


def monthly_pay(score: Decimal, secretary: Secretary | None, rulebook: Rulebook) -> MonthlyPay:
    """Full-time: performance-pay coefficient; part-time: allowance (0 below the floor).

    No secretary in office: nothing applies (all ``None``).
    """
    if secretary is None:
        return MonthlyPay(None, None, None)
    coef = coefficient(score, rulebook)
    if secretary.mode == FULL_TIME:
        return MonthlyPay(FULL_TIME, coef, None)
    if score < rulebook.part_time_allowance_floor:
        return MonthlyPay(PART_TIME, None, ZERO)
    return MonthlyPay(PART_TIME, None, round2((secretary.allowance or ZERO) * coef))


def quarter_score(monthly: Iterable[Decimal]) -> Decimal:
    """Arithmetic mean of the monthly scores, two decimals, half-up."""
    values = list(monthly)
    return round2(sum(values, ZERO) / len(values))


def competition_ranks(scores: Mapping[str, Decimal] | Mapping[str, int]) -> dict[str, int]:
    """Standard competition ranking (1, 2, 2, 4), higher score first."""
    ordered = sorted(scores.values(), reverse=True)
    first_index: dict[object, int] = {}
    for i, s in enumerate(ordered):
        first_index.setdefault(s, i + 1)
    return {b: first_index[s] for b, s in scores.items()}


@dataclass(frozen=True)
class Placing:
    """Rank, award and fine of one branch for a quarter or a year, with the rules applied.

    ``last_below``: at the last rank (and not first) with a score below the threshold —
    the seed's penalty case, whether or not a secretary could be fined.
    """

    rank: int
    award: Decimal
    fine: Decimal
    last_below: bool
    notes: tuple[str, ...]


QuarterOutcome = Placing


@dataclass(frozen=True)
class PlacingTerms:
    """What a period's ranking pays and fines (名次奖罚): the award to rank 1, the threshold a
    last-placed branch must reach, the fines by secretary mode, and ``kind`` (``quarter`` or
    ``year``) prefixing the rule names. Built from the rulebook by :func:`quarter_terms` and
    :func:`annual_terms`, the one place that reads those parameters."""

    award: Decimal
    threshold: Decimal
    fine_full_time: Decimal
    fine_part_time: Decimal
    kind: str
    places: int = 1  # how many last places are fined below the threshold (末位; seed: 1)

    def in_cents(self) -> PlacingTerms:
        """The same terms for scores given as integer cents (the threshold scaled by 100)."""
        return replace(self, threshold=self.threshold.scaleb(2))


def quarter_terms(rulebook: Rulebook) -> PlacingTerms:
    """The quarter's terms under ``rulebook`` (seed: 3,000 to first; last below 98 fined)."""
    return PlacingTerms(rulebook.quarter_first_award, rulebook.quarter_fine_threshold, rulebook.quarter_fine_full_time,
                        rulebook.quarter_fine_part_time, "quarter", rulebook.quarter_fined_places)


def annual_terms(rulebook: Rulebook) -> PlacingTerms:
    """The year's terms under ``rulebook`` (seed: 5,000 to first; last below 95 fined)."""
    return PlacingTerms(rulebook.annual_first_award, rulebook.annual_fine_threshold, rulebook.annual_fine_full_time,
                        rulebook.annual_fine_part_time, "year", rulebook.annual_fined_places)


def placings(scores: Mapping[str, Decimal] | Mapping[str, int], secretaries: Mapping[str, Secretary | None],
             terms: PlacingTerms) -> dict[str, Placing]:
    """Award every branch at rank 1; fine every branch below the threshold at the last rank or
    among the last ``terms.places`` places (rank > branches − places; ties at the last rank all
    count as last).

    ``secretaries``: the secretary in office at the period's end (None: never fined).
    A branch at rank 1 is never also last (e.g. when all tie). ``scores`` may be integer
    cents with ``terms.in_cents()`` (the ranks and the comparison are the same).
    """
    ranks = competition_ranks(scores)
    last = max(ranks.values(), default=1)
    bottom = len(scores) - terms.places  # a rank above it is among the last ``places`` places
    out: dict[str, Placing] = {}
    first: Placing | None = None
    plain: dict[int, Placing] = {}  # rank → its placing without award or fine (immutable: shared by ties)
    for branch, score in scores.items():
        rank = ranks[branch]
        if rank == 1:
            if first is None:
                first = Placing(1, round2(terms.award), ZERO, False, (f"{terms.kind}.first_place_award",))
            out[branch] = first
        elif (rank == last or rank > bottom) and score < terms.threshold:
            secretary = secretaries.get(branch)
            if secretary is None:
                out[branch] = Placing(rank, ZERO, ZERO, True, (f"{terms.kind}.last_place_no_secretary_no_fine",))
            else:
                fine = round2(terms.fine_full_time if secretary.mode == FULL_TIME else terms.fine_part_time)
                out[branch] = Placing(rank, ZERO, fine, True, (f"{terms.kind}.last_place_below_threshold_fine",))
        else:
            placing = plain.get(rank)
            if placing is None:
                placing = plain[rank] = Placing(rank, ZERO, ZERO, False, ())
            out[branch] = placing
    return out


def quarter_outcomes(scores: Mapping[str, Decimal], secretaries: Mapping[str, Secretary | None],
                     rulebook: Rulebook) -> dict[str, Placing]:
    """The quarter's placings under the rulebook (seed: 3,000 to first; last below 98 fined)."""
    return placings(scores, secretaries, quarter_terms(rulebook))
