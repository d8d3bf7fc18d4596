"""Fining the last two places (末位 as two places: ``quarter_fined_places`` /
``annual_fined_places``), the trial change of issue 15: a rulebook version sets it, the seed's
rulebook keeps one. Computed by the code under test against the rule stated by hand."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from domain.assessment.annual import annual_outcomes
from domain.assessment.rulebook import RULEBOOK_V1, Rulebook
from domain.assessment.scoring import Secretary, quarter_outcomes

FULL = Secretary("张三", "full_time", None)
PART = Secretary("李四", "part_time", D("800"))
TWO = replace(RULEBOOK_V1, quarter_fined_places=2, annual_fined_places=2)
SCORES = {"A": D("99.50"), "B": D("98.50"), "C": D("97.00"), "D": D("96.00")}
PEOPLE = {"A": FULL, "B": FULL, "C": PART, "D": FULL}


def test_the_seed_fines_the_last_place_only() -> None:
    fined = {b: o.fine for b, o in quarter_outcomes(SCORES, PEOPLE, RULEBOOK_V1).items() if o.fine}
    assert fined == {"D": D("2000.00")}  # C is below 98 too, but not last


def test_two_places_fine_the_last_two_below_the_threshold() -> None:
    outcomes = quarter_outcomes(SCORES, PEOPLE, TWO)
    assert {b: o.fine for b, o in outcomes.items() if o.fine} == {"C": D("1000.00"), "D": D("2000.00")}
    assert outcomes["C"].notes == ("quarter.last_place_below_threshold_fine",) and outcomes["C"].last_below


def test_a_second_last_place_at_the_threshold_is_not_fined() -> None:
    outcomes = quarter_outcomes({**SCORES, "C": D("98.00")}, PEOPLE, TWO)
    assert {b for b, o in outcomes.items() if o.fine} == {"D"}


def test_ties_at_the_last_rank_all_count_however_many_places() -> None:
    tied = {"A": D("99.00"), "B": D("97.00"), "C": D("96.00"), "D": D("96.00"), "E": D("96.00")}
    people = {b: FULL for b in tied}
    assert {b for b, o in quarter_outcomes(tied, people, TWO).items() if o.fine} == {"C", "D", "E"}
    assert {b for b, o in quarter_outcomes(tied, people, RULEBOOK_V1).items() if o.fine} == {"C", "D", "E"}


def test_first_place_is_never_fined_with_two_branches() -> None:
    outcomes = quarter_outcomes({"A": D("90.00"), "B": D("80.00")}, {"A": FULL, "B": FULL}, TWO)
    assert outcomes["A"].award and not outcomes["A"].fine and outcomes["B"].fine


def test_the_year_fines_and_cuts_the_quotas_of_the_last_two() -> None:
    scores = {"A": D("99.00"), "B": D("96.00"), "C": D("94.00"), "D": D("93.00")}
    members = {b: 30 for b in scores}
    seed = annual_outcomes(scores, members, PEOPLE, RULEBOOK_V1)
    two = annual_outcomes(scores, members, PEOPLE, TWO)
    assert [b for b in scores if seed[b].placing.fine] == ["D"]
    assert [b for b in scores if two[b].placing.fine] == ["C", "D"]
    assert two["C"].excellent_member_quota == seed["D"].excellent_member_quota < seed["C"].excellent_member_quota
    assert two["C"].development_quota == seed["D"].development_quota


def test_the_places_are_a_stored_parameter_and_must_be_positive() -> None:
    stored = TWO.to_parameters()
    assert stored["quarter_fined_places"] == 2
    again = Rulebook.from_parameters(2, stored)
    assert again.quarter_fined_places == 2 and again.annual_fined_places == 2
    with pytest.raises(ValueError, match="quarter_fined_places"):
        replace(RULEBOOK_V1, quarter_fined_places=0).check()
    with pytest.raises(ValueError, match="annual_fined_places"):
        replace(RULEBOOK_V1, annual_fined_places=0).check()
