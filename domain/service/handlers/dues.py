"""The handlers of ``domain/members/dues.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from uuid import UUID

from domain.errors import DuesRefused, PaymentNotFound
from domain.ids import dues_account_id, dues_statement_id, roster_id
from domain.members.dues import (
    ZERO,
    DuesAccount,
    DuesStatement,
    PublishDues,
    RecordDuesPayment,
    SetDuesBase,
    VoidDuesPayment,
    branch_member_months,
    dues_months,
    statement,
    statement_row,
)
from domain.members.member_points import member_placement
from domain.members.people import BranchRoster, Person
from domain.periods import half_months
from domain.service.handlers import handles
from domain.service.handlers.people import find_person
from domain.service.unit_of_work import UnitOfWork


def _member_in(uow: UnitOfWork, person: str, branch: str, month: str, field: str = "person") -> str:
    """``person`` is a party member placed in ``branch`` in ``month``; returns the name."""
    found = find_person(uow, person)
    placement = member_placement(found, month)
    if placement is None:
        raise DuesRefused(f"{person} 在 {month} 不是党员", field)
    if placement[0] != branch:
        raise DuesRefused(f"{person} 在 {month} 属于支部 {placement[0]}，不属于支部 {branch}", "branch")
    return found.name


def _account(uow: UnitOfWork, person: str) -> DuesAccount:
    return uow.find_or_open(dues_account_id(person), lambda: DuesAccount(person=person))


@handles(SetDuesBase)
def set_dues_base(uow: UnitOfWork, cmd: SetDuesBase) -> str:
    uow.organization().branch(cmd.branch)
    _member_in(uow, cmd.person, cmd.branch, cmd.from_month, "from")
    _account(uow, cmd.person).set_base(cmd.branch, cmd.from_month, cmd.category, cmd.base, cmd.actor, cmd.key)
    return cmd.person


@handles(RecordDuesPayment)
def record_dues_payment(uow: UnitOfWork, cmd: RecordDuesPayment) -> UUID:
    uow.organization().branch(cmd.branch)
    _member_in(uow, cmd.person, cmd.branch, cmd.month, "month")
    return _account(uow, cmd.person).record_payment(cmd.branch, cmd.month, cmd.amount, cmd.channel,
                                                    cmd.paid_on, cmd.actor, cmd.key)


@handles(VoidDuesPayment)
def void_dues_payment(uow: UnitOfWork, cmd: VoidDuesPayment) -> UUID:
    uow.organization().branch(cmd.branch)
    payment_id = cmd.target()
    account = uow.find(dues_account_id(cmd.person), for_update=True)
    if account is None:
        raise PaymentNotFound(f"{cmd.person} 没有交纳记录", "payment_id")
    account.void_payment(payment_id, cmd.branch, cmd.reason, cmd.actor, cmd.key)
    return payment_id


@handles(PublishDues)
def publish_dues(uow: UnitOfWork, cmd: PublishDues) -> int:
    """Compute the branch's statement for the half-year from the accounts and placements as
    they stand, refuse it while a member-month has no base, record it, ask for a checkpoint."""
    org = uow.organization()
    record = org.branch(cmd.branch)
    months = half_months(cmd.half)
    found = uow.find_as(BranchRoster, roster_id(cmd.branch), for_update=False)
    persons: dict[str, Person] = {}

    def placed(person: str, month: str) -> bool:
        p = persons.setdefault(person, find_person(uow, person))
        placement = member_placement(p, month)
        return placement is not None and placement[0] == cmd.branch

    member_months = branch_member_months(found.spans if found is not None else {}, months, placed)
    if not member_months:
        raise DuesRefused(f"支部 {cmd.branch} 在 {cmd.half} 没有党员", "half")
    rows = []
    for person, mine in member_months.items():
        account = uow.find_as(DuesAccount, dues_account_id(person), for_update=False)
        lines = dues_months(mine, account.base_in if account else (lambda m: None),
                            account.paid_in if account else (lambda m: ZERO), org.rulebook_in_force)
        unassessed = [m.month for m in lines if m.due is None]
        if unassessed:
            raise DuesRefused(f"{person} 在 {unassessed[0]} 尚未核定党费基数（set_dues_base），不能公示", "half")
        rows.append(statement_row(person, persons[person].name, lines))
    published = statement(cmd.branch, record["name"], cmd.half, rows)
    versions = {m: org.rulebook_in_force(m).version for m in months}
    book = uow.find_or_open(dues_statement_id(cmd.branch, cmd.half),
                            lambda: DuesStatement(branch=cmd.branch, half=cmd.half))
    number = book.publish(published, versions, cmd.actor, cmd.key)
    uow.checkpoint(f"publish_dues {cmd.branch} {cmd.half} #{number}")
    return number
