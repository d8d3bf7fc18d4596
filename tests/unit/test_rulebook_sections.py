"""The rulebook as one parameter section per mechanism (issue 15): every parameter belongs to
exactly one section, each section parses, writes and checks its own, and a version reads
back from its stored parameters unchanged (digest included)."""
from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest

from domain.assessment.rulebook import RULEBOOK_V1, SECTION_OF, SECTIONS, Rulebook


def test_every_parameter_is_in_exactly_one_section() -> None:
    names = [f.name for f in fields(Rulebook) if f.name not in ("version", "given")]
    owned = [name for section in SECTIONS for name in section.parameters]
    assert sorted(owned) == sorted(names), sorted(set(owned) ^ set(names))
    assert len(owned) == len(set(owned)), "a parameter in two sections"
    assert len({s.name for s in SECTIONS}) == len(SECTIONS)
    assert all(name in SECTION_OF for name in names)


def test_a_version_reads_back_from_its_stored_parameters() -> None:
    stored = RULEBOOK_V1.to_parameters()
    again = Rulebook.from_parameters(1, stored)
    assert again.to_parameters() == stored
    assert again.digest() == RULEBOOK_V1.digest()
    assert again.dues_rates == RULEBOOK_V1.dues_rates and again.departments == RULEBOOK_V1.departments
    assert isinstance(again.meeting_frequency["theme_day"], int)
    assert again.category_points["political"] == Decimal(15)


@pytest.mark.parametrize(("section", "params", "words"), [
    ("dual", {"dual_formula": "other"}, "dual_formula"),
    ("annual", {"annual_weight_unit": "0.3"}, "年度三项权重"),
    ("assessment", {"departments": {"office": ["nowhere"]}}, "未知的类别"),
    ("points", {"points_min": "90"}, "下限"),
    ("selection", {"selection_threshold": "101"}, "selection_threshold"),
    ("links", {"link_quota_default": -1}, "link_quota_default"),
    ("innovation", {"points_per_grade": 0}, "points_per_grade"),
    ("care", {"visit_window_days": -1}, "visit_window_days"),
    ("meetings", {"meeting_frequency": {"theme_day": 5}}, "频次"),
    ("dues", {"dues_no_income": "-1"}, "dues_no_income"),
])
def test_each_section_checks_its_own_parameters(section: str, params: dict[str, object], words: str) -> None:
    assert all(SECTION_OF[name].name == section for name in params)
    with pytest.raises(ValueError, match=words):
        Rulebook.from_parameters(2, params)


def test_the_first_error_named_is_the_first_section_s() -> None:
    with pytest.raises(ValueError, match="dual_formula"):  # dual checks before dues
        Rulebook.from_parameters(2, {"dues_no_income": "-1", "dual_formula": "x"})
