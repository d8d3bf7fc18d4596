"""The rulebook in force and the branches taking part: one rule each (issue 15), used by the
``Organization`` aggregate, the handlers and the folds alike (domain/assessment/organization.py)."""
from __future__ import annotations

import pytest

from domain.assessment.organization import ranked_throughout, takes_part, taking_part, version_in_force
from domain.errors import NotInitialized
from projections.model import AssessmentModel
from projections.org_fold import OrgFold


def test_the_latest_version_not_starting_after_the_month_is_in_force() -> None:
    versions = [(1, None), (2, "2019-07"), (3, "2020-01")]
    assert [version_in_force(versions, m) for m in ("2019-06", "2019-07", "2019-12", "2020-01")] == [1, 2, 2, 3]
    with pytest.raises(ValueError):
        version_in_force([(2, "2019-07")], "2019-06")


def test_a_branch_takes_part_from_its_first_month() -> None:
    branches = {"B": {"from_month": "2019-07"}, "A": {"from_month": None}, "C": {"from_month": "2019-10"}}
    assert taking_part(branches, "2019-06") == ["A"]
    assert taking_part(branches, "2019-07") == ["A", "B"]
    assert (takes_part(branches["C"], "2019-09"), takes_part(branches["C"], "2019-10")) == (False, True)
    assert ranked_throughout(["A", "B"], [{"A": 1, "B": 2}, {"A": 3}]) == ["A"]


def test_the_folds_ask_the_same_rule() -> None:
    model = AssessmentModel()
    model.org["rulebooks"] = {"1": [None, {}], "2": ["2019-07", {"proposal_reward": "300"}]}
    model.org["branches"] = {"A": {"from_month": None}, "B": {"from_month": "2019-07"}}
    assert (model.rulebook("2019-06").version, model.rulebook("2019-07").version) == (1, 2)
    assert model.taking_part("2019-06") == ["A"] and model.taking_part("2019-07") == ["A", "B"]
    fold = OrgFold()
    fold.rulebooks = {2: ("2019-07", {})}
    assert fold.rulebook_in("2019-08").version == 2
    with pytest.raises(NotInitialized):
        fold.rulebook_in("2019-06")  # no version in force yet, as folded
