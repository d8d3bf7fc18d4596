"""The integer-cents helpers of the quarter's hot path equal the Decimal arithmetic."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.assessment.scoring import cents_text, mean_cents, quarter_score

CENTS = st.integers(min_value=-10**9, max_value=10**9)


@given(CENTS)
def test_cents_text_is_the_two_place_decimal_text(cents: int) -> None:
    assert cents_text(cents) == str(Decimal(cents).scaleb(-2))


@given(st.lists(CENTS, min_size=1, max_size=12))
def test_mean_cents_is_quarter_score_half_up(values: list[int]) -> None:
    assert Decimal(mean_cents(values)).scaleb(-2) == quarter_score(Decimal(v).scaleb(-2) for v in values)


def test_mean_cents_rounds_ties_away_from_zero() -> None:
    assert (mean_cents([1, 2]), mean_cents([-1, -2]), mean_cents([1, 1, 2]), mean_cents([1, 2, 2])) == (2, -2, 1, 2)
