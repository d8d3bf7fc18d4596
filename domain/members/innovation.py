"""创新创效 (innovation): proposals rewarded per piece, awards of points into a personal
account, and pay-grade steps from the points.

Seed: "10 yuan per proposal; awards add personal-account points; every 10 points raise pay
by one grade". Two aggregates: ``Proposal`` (one per proposal id: an id is submitted once;
it records the reward of the rulebook in force in its month, so a later rulebook never
changes money already due) and ``InnovationAccount`` (one per person: the points awarded).

Choices where the seed is silent (README):
- the account is cumulative (a personal account is not reset each year): grade steps =
  floor(cumulative points / ``points_per_grade``), the divisor of the rulebook in force at the
  end of the period shown;
- members and non-member employees alike may submit proposals and receive points; the person
  must be in the command's branch in the month of the date;
- proposals and awards are recorded by the Party-Mass Work Dept (role ``party_mass``), which
  runs the company's innovation scheme and pays the rewards: not the branch secretary.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import commands as c
from domain.errors import ProposalRefused
from domain.ids import innovation_account_id, proposal_id
from domain.members.projects import Date


class Proposal(Aggregate):
    """One proposal (合理化建议) and the reward it earned."""

    @staticmethod
    def create_id(proposal: str, **_: Any) -> UUID:
        return proposal_id(proposal)

    @event("Submitted")
    def __init__(self, proposal: str, branch: str, person: str, title: str, date: str, reward: Decimal,
                 rulebook_version: int, actor: str, key: str | None) -> None:
        self.proposal = proposal
        self.person = person


class InnovationAccount(Aggregate):
    """A person's innovation points (创新积分个人账户): ``total`` of every award."""

    @staticmethod
    def create_id(person: str, **_: Any) -> UUID:
        return innovation_account_id(person)

    @event("Opened")
    def __init__(self, person: str) -> None:
        self.person = person
        self.total = Decimal(0)

    def award(self, branch: str, points: Decimal, reason: str, date: str, proposal: str | None, actor: str,
              key: str | None) -> None:
        if points <= 0:
            raise ProposalRefused("奖励积分必须大于 0", "points")
        self._award(branch=branch, points=points, reason=reason, date=date, proposal=proposal, actor=actor, key=key)

    @event("PointsAwarded")
    def _award(self, branch: str, points: Decimal, reason: str, date: str, proposal: str | None, actor: str,
               key: str | None) -> None:
        self.total += points


def grade_steps(points: Decimal, per_grade: int) -> int:
    """Pay-grade steps (晋升工资档次) earned by ``points``: one per full ``per_grade`` points."""
    return int(points // per_grade) if points > 0 else 0


# -- commands ------------------------------------------------------------------------------
class SubmitProposal(c.Command):
    """A proposal by a member or employee, rewarded ``proposal_reward`` yuan (seed: 10)."""
    op: Literal["submit_proposal"] = "submit_proposal"
    roles = ("party_mass",)
    branch: c.Code
    person: c.Code
    proposal: c.Code
    title: c.Text
    date: Date
    actor: c.Text


class AwardInnovationPoints(c.Command):
    """Points into the person's account (e.g. for an adopted proposal or an innovation result)."""
    op: Literal["award_innovation_points"] = "award_innovation_points"
    roles = ("party_mass",)
    branch: c.Code
    person: c.Code
    points: c.ExactDecimal
    reason: c.Text
    date: Date
    proposal: c.Code | None = None
    actor: c.Text
