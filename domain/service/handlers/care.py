"""The handlers of ``domain/members/care.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from uuid import UUID, uuid4

from domain.errors import OccasionNotFound, OccasionRefused
from domain.ids import occasion_id_for_key, person_key_id, personnel_id_for_key
from domain.members.care import (
    OCCASIONS,
    PERSONNEL_KINDS,
    AnswerOccasion,
    ErasePersonKey,
    Occasion,
    PersonKey,
    PersonnelDecision,
    RaiseOccasion,
    RecordPersonnelEvent,
    vault_of,
)
from domain.service.handlers import handles
from domain.service.handlers.people import find_person
from domain.service.unit_of_work import UnitOfWork


def _erased(uow: UnitOfWork, person: str) -> bool:
    return uow.find(person_key_id(person), for_update=False) is not None


def _raise(uow: UnitOfWork, occasion_id: UUID, code: str, person: str, branch: str, date: str,
           cause: str | None, decision_id: UUID | None, actor: str, key: str | None) -> Occasion:
    """Check the person stood in ``branch`` on ``date`` and open the occasion."""
    record = find_person(uow, person)
    month = date[:7]
    placed = record.standing_in(month)
    if placed is None:
        gone = record.left is not None and record.left <= month
        raise OccasionRefused(f"{person} 已于 {record.left} 离开" if gone else
                              f"{person} 自 {record.history[0][0]} 起登记，{date} 尚未登记", "date")
    if placed[0] != branch:
        raise OccasionRefused(f"{person} 在 {month} 属于支部 {placed[0]}，不属于支部 {branch}", "branch")
    if _erased(uow, person):
        raise OccasionRefused(f"{person} 的谈话走访密钥已销毁，不再登记新的事由", "person")
    if uow.find(occasion_id, for_update=False) is not None:
        raise OccasionRefused("该事由已登记", "key")
    kind = OCCASIONS[code][0]
    occasion = Occasion(id=occasion_id, occasion=code, kind=kind, person=person, branch=branch, date=date,
                        cause=cause, decision_id=decision_id, actor=actor, key=key)
    uow.add(occasion)
    return occasion


@handles(RaiseOccasion)
def raise_occasion(uow: UnitOfWork, cmd: RaiseOccasion) -> UUID:
    occasion_id = occasion_id_for_key(cmd.key) if cmd.key else uuid4()
    _raise(uow, occasion_id, cmd.occasion, cmd.person, cmd.branch, cmd.date, None, None, cmd.actor, cmd.key)
    return occasion_id


@handles(RecordPersonnelEvent)
def record_personnel_event(uow: UnitOfWork, cmd: RecordPersonnelEvent) -> UUID:
    """The decision and the talk occasion it raises, in one unit of work; returns the occasion id."""
    decision_id = personnel_id_for_key(cmd.key) if cmd.key else uuid4()
    occasion_id = occasion_id_for_key(cmd.key) if cmd.key else uuid4()
    _raise(uow, occasion_id, PERSONNEL_KINDS[cmd.kind][0], cmd.person, cmd.branch, cmd.date, cmd.kind,
           decision_id, cmd.actor, cmd.key)
    uow.add(PersonnelDecision(id=decision_id, person=cmd.person, branch=cmd.branch, kind=cmd.kind, date=cmd.date,
                              occasion_id=occasion_id, actor=cmd.actor, key=cmd.key))
    return occasion_id


@handles(AnswerOccasion)
def answer_occasion(uow: UnitOfWork, cmd: AnswerOccasion) -> UUID:
    occasion_id = cmd.target()
    occasion = uow.find(occasion_id, for_update=True)
    if not isinstance(occasion, Occasion):
        field = "occasion_id" if cmd.occasion_id is not None else "occasion_key"
        raise OccasionNotFound("没有这个谈话走访事由", field)
    if _erased(uow, occasion.person):
        raise OccasionRefused(f"{occasion.person} 的密钥已销毁，不能再记录其谈话走访摘要", "summary")
    occasion.check_answer(cmd.branch, cmd.date)  # before sealing: a refused answer creates no key
    sealed = vault_of(uow.app).seal(occasion.person, cmd.summary)
    occasion.answer(cmd.branch, cmd.conducted_by, cmd.date, sealed, cmd.actor, cmd.key)
    return occasion_id


@handles(ErasePersonKey)
def erase_person_key(uow: UnitOfWork, cmd: ErasePersonKey) -> bool:
    """``ledger person erase``: record ``PersonKey.Erased`` in the log, then, once the unit of
    work is saved, destroy the key in the vault. In this order a failure in between leaves a
    key that the log already calls erased — inert (nothing seals or opens it) and destroyed
    by running this again; the other order could destroy a key with no record of why.
    Idempotent; returns True if the erasure was newly recorded (False: recorded before, the
    key is destroyed again). Precondition: none; without a vault, refused before anything
    is written (:class:`VaultUnavailable`)."""
    vault = vault_of(uow.app)
    find_person(uow, cmd.person)
    recorded = not _erased(uow, cmd.person)
    if recorded:
        uow.add(PersonKey(person=cmd.person, reason=cmd.reason, actor=cmd.actor))
    uow.after_save(lambda: vault.erase(cmd.person))
    return recorded
