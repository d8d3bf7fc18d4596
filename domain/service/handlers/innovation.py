"""The handlers of ``domain/members/innovation.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from decimal import Decimal

from domain.errors import ProposalRefused
from domain.ids import innovation_account_id, proposal_id
from domain.members.innovation import AwardInnovationPoints, InnovationAccount, Proposal, SubmitProposal
from domain.service.handlers import handles
from domain.service.handlers.placement import require_in_branch
from domain.service.unit_of_work import UnitOfWork


@handles(SubmitProposal)
def submit_proposal(uow: UnitOfWork, cmd: SubmitProposal) -> str:
    org = uow.organization()
    org.branch(cmd.branch)
    if uow.find(proposal_id(cmd.proposal), for_update=False) is not None:
        raise ProposalRefused(f"建议编号 {cmd.proposal!r} 已登记", "proposal")
    month = cmd.date[:7]
    require_in_branch(uow, cmd.person, cmd.branch, None, [month], "person", ProposalRefused)
    rulebook = org.rulebook_in_force(month)
    uow.add(Proposal(proposal=cmd.proposal, branch=cmd.branch, person=cmd.person, title=cmd.title, date=cmd.date,
                     reward=rulebook.proposal_reward.quantize(Decimal("0.01")), rulebook_version=rulebook.version,
                     actor=cmd.actor, key=cmd.key))
    return cmd.proposal


@handles(AwardInnovationPoints)
def award_innovation_points(uow: UnitOfWork, cmd: AwardInnovationPoints) -> str:
    uow.organization().branch(cmd.branch)
    if cmd.points <= 0:
        raise ProposalRefused("奖励积分必须大于 0", "points")
    require_in_branch(uow, cmd.person, cmd.branch, None, [cmd.date[:7]], "person", ProposalRefused)
    if cmd.proposal is not None:
        found = uow.find(proposal_id(cmd.proposal), for_update=False)
        if found is None:
            raise ProposalRefused(f"建议 {cmd.proposal!r} 未登记", "proposal")
        if found.person != cmd.person:
            raise ProposalRefused(f"建议 {cmd.proposal} 由 {found.person} 提出，不是 {cmd.person}", "proposal")
    account = uow.find_or_open(innovation_account_id(cmd.person), lambda: InnovationAccount(person=cmd.person))
    account.award(cmd.branch, cmd.points, cmd.reason, cmd.date, cmd.proposal, cmd.actor, cmd.key)
    return cmd.person
