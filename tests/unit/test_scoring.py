"""Unit tests of the task book's arithmetic: golden cases from the seed, and the defaults."""
from __future__ import annotations

from decimal import Decimal as D

from domain.assessment.results import quarter_ranking
from domain.assessment.rulebook import RULEBOOK_V1 as RB
from domain.assessment.scoring import (
    Secretary,
    coefficient,
    competition_ranks,
    monthly_pay,
    monthly_score,
    quarter_outcomes,
    quarter_score,
)

FULL = Secretary("张三", "full_time", None)
PART = Secretary("李四", "part_time", D("800"))


def test_golden_98_gives_coefficient_0_98() -> None:
    score = monthly_score({"political": D("-2")}, RB)
    assert score == D("98.00")
    pay = monthly_pay(score, FULL, RB)
    assert pay.coefficient == D("0.98") and str(pay.coefficient) == "0.9800"
    assert pay.allowance is None and pay.mode == "full_time"


def test_golden_part_time_below_95_gets_no_allowance() -> None:
    score = monthly_score({"conduct": D("-6")}, RB)
    assert score == D("94.00")
    assert monthly_pay(score, PART, RB).allowance == D("0.00")
    assert monthly_pay(D("95.00"), PART, RB).allowance == D("760.00")  # 800 × 0.95


def test_part_time_allowance_is_rounded_to_the_fen_half_up() -> None:
    secretary = Secretary("王", "part_time", D("333.33"))
    # 333.33 × 0.9750 = 324.996750 → 325.00
    assert monthly_pay(D("97.50"), secretary, RB).allowance == D("325.00")


def test_no_secretary_means_nothing_applies() -> None:
    pay = monthly_pay(D("90"), None, RB)
    assert (pay.mode, pay.coefficient, pay.allowance) == (None, None, None)


def test_deductions_are_capped_per_category_and_bonus_at_five() -> None:
    # political carries 15: a deduction of 20 counts as 15; bonus 7 counts as 5.
    assert monthly_score({"political": D("-20"), "bonus": D("7")}, RB) == D("90.00")
    assert monthly_score({"daily": D("-10.5")}, RB) == D("90.00")


def test_month_with_no_entries_scores_100_and_above_100_stays() -> None:
    assert monthly_score({}, RB) == D("100.00")
    assert monthly_score({"bonus": D("3")}, RB) == D("103.00")
    assert coefficient(D("103.00"), RB) == D("1.0000")  # coefficient uses min(score, 100)


def test_quarter_score_mean_half_up() -> None:
    assert quarter_score([D("97"), D("98"), D("98")]) == D("97.67")
    assert quarter_score([D("99.99"), D("100"), D("100")]) == D("100.00")  # 99.996… → 100.00
    assert quarter_score([D("100"), D("100"), D("99.995")]) == D("100.00")


def test_standard_competition_ranking() -> None:
    ranks = competition_ranks({"a": D("99"), "b": D("98"), "c": D("98"), "d": D("97")})
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_golden_last_place_below_98_is_fined_and_first_gets_3000() -> None:
    scores = {"A": D("99.50"), "B": D("98.40"), "C": D("97.90")}
    secs = {"A": FULL, "B": FULL, "C": FULL}
    out = quarter_outcomes(scores, secs, RB)
    assert out["A"].award == D("3000.00") and out["A"].fine == 0
    assert out["C"].fine == D("2000.00") and out["C"].rank == 3
    assert out["B"].award == 0 and out["B"].fine == 0
    out = quarter_outcomes(scores, {**secs, "C": PART}, RB)
    assert out["C"].fine == D("1000.00")


def test_last_place_at_98_or_more_is_not_fined() -> None:
    out = quarter_outcomes({"A": D("99"), "B": D("98.00")}, {"A": FULL, "B": FULL}, RB)
    assert out["B"].fine == 0


def test_ties_share_first_and_last_place() -> None:
    scores = {"A": D("99"), "B": D("99"), "C": D("90"), "D": D("90")}
    out = quarter_outcomes(scores, dict.fromkeys(scores, FULL), RB)
    assert [out[b].award for b in "AB"] == [D("3000.00")] * 2
    assert [out[b].fine for b in "CD"] == [D("2000.00")] * 2


def test_first_is_never_also_last() -> None:
    out = quarter_outcomes({"A": D("90"), "B": D("90")}, {"A": FULL, "B": FULL}, RB)
    assert all(o.award == D("3000.00") and o.fine == 0 for o in out.values())


def test_last_place_without_secretary_is_never_fined() -> None:
    out = quarter_outcomes({"A": D("99"), "B": D("90")}, {"A": FULL, "B": None}, RB)
    assert out["B"].fine == 0 and "no_secretary" in out["B"].notes[0]


def test_ranking_rows_sorted_by_rank_then_code() -> None:
    rows = quarter_ranking({"Z": {"m": D("99")}, "B": {"m": D("98")}, "A": {"m": D("98")}},
                           {"Z": FULL, "B": FULL, "A": FULL}, RB)
    assert [(r.branch, r.rank) for r in rows] == [("Z", 1), ("A", 2), ("B", 2)]
