"""Mentor-apprentice pairs (导师带徒) as folded from ``BranchMentoring`` events, and the
yearly mentor ranking (:func:`domain.members.mentoring.rank_mentors`)."""
from __future__ import annotations

from typing import Any

from domain.integrity.log import LoggedEvent
from domain.members.mentoring import PARTY_STANDINGS, STANDING_NAMES, rank_mentors
from projections.fold import Fold
from projections.model import plain


class MentoringModel(Fold):
    """``pairs[(year, branch, pair)] = {pair, branch, year, mentor, mentor_name, standing,
    apprentice, apprentice_name, appraisals {date: score}, skills {competition: {rank, date}}}``."""

    TOPICS = ("BranchMentoring",)

    def __init__(self) -> None:
        super().__init__()
        self.pairs: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._by_id: dict[Any, tuple[str, str]] = {}  # aggregate id → (year, branch)

    def on_BranchMentoring_Opened(self, e: LoggedEvent) -> None:
        self._by_id[e.aggregate_id] = (e.raw["year"], e.raw["branch"])

    def _pair(self, e: LoggedEvent) -> dict[str, Any]:
        year, branch = self._by_id[e.aggregate_id]
        return self.pairs[(year, branch, e.raw["pair"])]

    def on_BranchMentoring_PairRegistered(self, e: LoggedEvent) -> None:
        year, branch = self._by_id[e.aggregate_id]
        d = e.raw
        self.pairs[(year, branch, d["pair"])] = {
            "pair": d["pair"], "branch": branch, "year": year, "mentor": d["mentor"],
            "mentor_name": d["mentor_name"], "standing": d["standing"], "apprentice": d["apprentice"],
            "apprentice_name": d["apprentice_name"], "appraisals": {}, "skills": {}}

    def on_BranchMentoring_AppraisalRecorded(self, e: LoggedEvent) -> None:
        self._pair(e)["appraisals"][e.raw["date"]] = e.decimal("score")

    def on_BranchMentoring_SkillResultRecorded(self, e: LoggedEvent) -> None:
        self._pair(e)["skills"][e.raw["competition"]] = {"rank": e.raw["rank"], "date": e.raw["date"]}

    # -- questions ---------------------------------------------------------------------
    def pairs_of(self, year: str, branch: str | None = None) -> list[dict[str, Any]]:
        return [p for (y, b, _), p in sorted(self.pairs.items()) if y == year and (branch is None or b == branch)]


def mentors_json(model: MentoringModel, year: str, branch: str | None = None) -> dict[str, Any]:
    """The year's pairs (in ``branch``, or all) and the mentors ranked among them."""
    pairs = model.pairs_of(year, branch)
    by_standing = {s: sum(1 for p in pairs if p["standing"] == s) for s in STANDING_NAMES}
    mentors = rank_mentors(pairs)
    for m in mentors:
        m["standing_name"] = STANDING_NAMES[m["standing"]]
    return {"year": year, "branch": branch, "pairs": len(pairs),
            "pairs_with_party_mentor": sum(by_standing[s] for s in PARTY_STANDINGS),
            "pairs_by_mentor_standing": by_standing, "mentors": plain(mentors)}
