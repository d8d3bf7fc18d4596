"""Mentor and apprentice (导师带徒): pairs, the apprentice's appraisals and skill results,
and the yearly ranking of mentors.

Seed: pairs are declared by each party branch ("以党支部为单位推行", "各党支部已申报师徒37对，
师傅是党员及入党积极分子的有18对"); "评选年度优秀师徒时，重点考察徒弟在日常工作中的表现和技术
比武中的成绩，以徒弟的进步大小作为评价导师的第一标准".

One aggregate per branch and year (``BranchMentoring``) holds the branch's pairs of that
year, each apprentice's appraisals (dated, 0–100) and skill-competition results (a rank,
1 = first). A pair belongs to one year; its appraisals and results are dated in that year.

The mentor is recorded with a standing fixed at registration: ``member`` (党员),
``activist`` (入党积极分子, as the branch's declaration states it: ``mentor_is_activist``)
or ``employee`` — the seed's own figures (18 of 37) show that mentors who are neither are
declared too, so they are recorded, and counted apart.

Ranking (:func:`rank_mentors`): first by the apprentices' progress — per pair, the last
appraisal of the year minus the first (at least two appraisals); a mentor's progress is the
mean over their apprentices with a progress, two decimals half-up — then by the best
(lowest) skill-competition rank any of their apprentices reached that year (none: after
any rank). Equal on both: the same rank (1, 2, 2, 4). Mentors with no apprentice
appraised twice cannot be judged by the first standard: listed without a rank, last.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import Field, StrictBool, StrictInt

from domain import commands as c
from domain import vocabulary
from domain.errors import InvalidInput, MentorshipNotFound, MentorshipRefused
from domain.ids import mentoring_id
from domain.members.selection import Date, half_up  # shared helpers: ISO dates, exact half-up rounding

MENTOR_MEMBER = "member"  # 党员
MENTOR_ACTIVIST = "activist"  # 入党积极分子
MENTOR_EMPLOYEE = "employee"  # 其他职工
STANDING_NAMES = vocabulary.MENTOR_STANDINGS
PARTY_STANDINGS = (MENTOR_MEMBER, MENTOR_ACTIVIST)
SCORE_MIN, SCORE_MAX = Decimal(0), Decimal(100)


class BranchMentoring(Aggregate):
    """A branch's pairs of one year: ``pairs[pair] = {mentor, apprentice, standing}``,
    ``appraisals[pair][date] = score``, ``skills[pair][competition] = rank``."""

    @staticmethod
    def create_id(branch: str, year: str, **_: Any) -> UUID:
        return mentoring_id(branch, year)

    @event("Opened")
    def __init__(self, branch: str, year: str) -> None:
        self.branch = branch
        self.year = year
        self.pairs: dict[str, dict[str, str]] = {}
        self.apprentices: dict[str, str] = {}  # apprentice → pair
        self.appraisals: dict[str, dict[str, Decimal]] = {}
        self.skills: dict[str, dict[str, int]] = {}

    def register(self, pair: str, mentor: str, mentor_name: str, standing: str, apprentice: str,
                 apprentice_name: str, actor: str, key: str | None) -> None:
        if pair in self.pairs:
            raise MentorshipRefused(f"支部 {self.branch} {self.year} 年已有师徒对 {pair}", "pair")
        if apprentice == mentor:
            raise MentorshipRefused("导师与徒弟不能是同一人", "apprentice")
        if apprentice in self.apprentices:
            raise MentorshipRefused(f"{apprentice} {self.year} 年已在师徒对 {self.apprentices[apprentice]} 中拜师",
                                    "apprentice")
        self._register(pair=pair, mentor=mentor, mentor_name=mentor_name, standing=standing,
                       apprentice=apprentice, apprentice_name=apprentice_name, actor=actor, key=key)

    @event("PairRegistered")
    def _register(self, pair: str, mentor: str, mentor_name: str, standing: str, apprentice: str,
                  apprentice_name: str, actor: str, key: str | None) -> None:
        self.pairs[pair] = {"mentor": mentor, "apprentice": apprentice, "standing": standing}
        self.apprentices[apprentice] = pair
        self.appraisals[pair] = {}
        self.skills[pair] = {}

    def _pair(self, pair: str) -> None:
        if pair not in self.pairs:
            raise MentorshipNotFound(f"支部 {self.branch} {self.year} 年没有师徒对 {pair}"
                                     "（考评与比武成绩按其日期所在年度归入师徒对）", "pair")

    def record_appraisal(self, pair: str, date: str, score: Decimal, actor: str, key: str | None) -> None:
        """The apprentice's appraisal at work (日常工作表现), one per pair and date."""
        self._pair(pair)
        if not SCORE_MIN <= score <= SCORE_MAX:
            raise InvalidInput(f"评分 {score} 超出 0–100", "score")
        if date in self.appraisals[pair]:
            raise MentorshipRefused(f"师徒对 {pair} 在 {date} 已有考评", "date")
        self._record_appraisal(pair=pair, date=date, score=score, actor=actor, key=key)

    @event("AppraisalRecorded")
    def _record_appraisal(self, pair: str, date: str, score: Decimal, actor: str, key: str | None) -> None:
        self.appraisals[pair][date] = score

    def record_skill_result(self, pair: str, competition: str, rank: int, date: str, actor: str,
                            key: str | None) -> None:
        """The apprentice's place in a skill competition (技术比武名次), once per competition."""
        self._pair(pair)
        if competition in self.skills[pair]:
            raise MentorshipRefused(f"师徒对 {pair} 在“{competition}”的成绩已录入", "competition")
        self._record_skill(pair=pair, competition=competition, rank=rank, date=date, actor=actor, key=key)

    @event("SkillResultRecorded")
    def _record_skill(self, pair: str, competition: str, rank: int, date: str, actor: str,
                      key: str | None) -> None:
        self.skills[pair][competition] = rank


# -- the ranking (pure: the projection calls it) -----------------------------------------------
def progress(appraisals: dict[str, Decimal]) -> Decimal | None:
    """Last appraisal minus first (by date); None with fewer than two."""
    if len(appraisals) < 2:
        return None
    dates = sorted(appraisals)
    return appraisals[dates[-1]] - appraisals[dates[0]]


def _signed_half_up(value: Fraction) -> Decimal:
    return half_up(value) if value >= 0 else -half_up(-value)


def rank_mentors(pairs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mentors ranked by their apprentices' progress, then best skill rank.

    ``pairs``: dicts with ``pair, branch, mentor, mentor_name, standing, apprentice,
    apprentice_name, appraisals {date: score}, skills {competition: {rank, date}}``.
    Returns one dict per mentor (``rank`` None if no apprentice has a progress), ranked
    first, then unranked; within equal standing by mentor id.
    """
    by_mentor: dict[str, list[dict[str, Any]]] = {}
    for p in pairs:
        by_mentor.setdefault(p["mentor"], []).append(p)
    rows = []
    for mentor, own in by_mentor.items():
        own.sort(key=lambda p: (p["branch"], p["pair"]))
        apprentices = []
        for p in own:
            ranks = [s["rank"] for s in p["skills"].values()]
            apprentices.append({"branch": p["branch"], "pair": p["pair"], "apprentice": p["apprentice"],
                                "name": p["apprentice_name"], "appraisals": len(p["appraisals"]),
                                "first": _first_last(p["appraisals"], 0), "last": _first_last(p["appraisals"], -1),
                                "progress": progress(p["appraisals"]), "best_skill_rank": min(ranks, default=None),
                                "skill_results": len(ranks)})
        measured = [a["progress"] for a in apprentices if a["progress"] is not None]
        mean = (None if not measured else
                _signed_half_up(sum((Fraction(v) for v in measured), Fraction(0)) / len(measured)))
        best = min((a["best_skill_rank"] for a in apprentices if a["best_skill_rank"] is not None), default=None)
        last = own[-1]
        rows.append({"mentor": mentor, "name": last["mentor_name"], "standing": last["standing"],
                     "branch": last["branch"], "progress": mean, "assessed": len(measured),
                     "best_skill_rank": best, "apprentices": apprentices, "rank": None})

    def criteria(r: dict[str, Any]) -> tuple[Decimal, int]:
        return (-r["progress"], r["best_skill_rank"] if r["best_skill_rank"] is not None else 1 << 30)

    ranked = sorted((r for r in rows if r["progress"] is not None), key=lambda r: (criteria(r), r["mentor"]))
    for r in ranked:
        r["rank"] = 1 + sum(1 for o in ranked if criteria(o) < criteria(r))
    unranked = sorted((r for r in rows if r["progress"] is None), key=lambda r: r["mentor"])
    return ranked + unranked


def _first_last(appraisals: dict[str, Decimal], at: int) -> dict[str, Any] | None:
    if not appraisals:
        return None
    date = sorted(appraisals)[at]
    return {"date": date, "score": appraisals[date]}


# -- commands ------------------------------------------------------------------------------
class RegisterMentorship(c.Command):
    """A mentor-apprentice pair declared by the branch for a year (师徒结对申报). The mentor
    is a member, or an employee the declaration names an activist (``mentor_is_activist``),
    or another employee (recorded, counted apart)."""
    op: Literal["register_mentorship"] = "register_mentorship"
    roles = ("secretary",)
    branch: c.Code
    pair: c.Code
    mentor: c.Code
    mentor_is_activist: StrictBool = False
    apprentice: c.Code
    year: c.Year
    actor: c.Text


class RecordApprenticeAppraisal(c.Command):
    """The apprentice's appraisal at work on ``date`` (0–100); the pair of that year."""
    op: Literal["record_apprentice_appraisal"] = "record_apprentice_appraisal"
    roles = ("secretary",)
    branch: c.Code
    pair: c.Code
    date: Date
    score: c.ExactDecimal
    actor: c.Text


class RecordSkillResult(c.Command):
    """The apprentice's rank in a skill competition (技术比武, 1 = first) on ``date``."""
    op: Literal["record_skill_result"] = "record_skill_result"
    roles = ("secretary",)
    branch: c.Code
    pair: c.Code
    competition: c.Text
    rank: StrictInt = Field(ge=1)
    date: Date
    actor: c.Text
