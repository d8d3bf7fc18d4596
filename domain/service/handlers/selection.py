"""The handlers of ``domain/members/selection.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from domain.errors import PersonNotFound, SelectionNotFound, SelectionRefused
from domain.ids import person_id, selection_id
from domain.members.selection import (
    CloseSelection,
    OpenSelection,
    RecordLeaderSheet,
    RecordRepresentativeSheet,
    Selection,
)
from domain.service.handlers import handles
from domain.service.unit_of_work import UnitOfWork


def find_selection(uow: UnitOfWork, selection: str) -> Selection:
    found = uow.find_as(Selection, selection_id(selection), for_update=True)
    if found is None:
        raise SelectionNotFound(f"竞聘 {selection!r} 未登记", "selection")
    return found


@handles(OpenSelection)
def open_selection(uow: UnitOfWork, cmd: OpenSelection) -> str:
    uow.organization()
    if uow.find(selection_id(cmd.selection), for_update=False) is not None:
        raise SelectionRefused(f"竞聘 {cmd.selection!r} 已登记", "selection")
    names: dict[str, str] = {}
    for cand in cmd.candidates:
        if cand in names:
            raise SelectionRefused(f"候选人 {cand} 重复", "candidates")
        person = uow.find(person_id(cand), for_update=False)
        if person is None:
            raise PersonNotFound(f"候选人 {cand!r} 未登记", "candidates")
        if person.left is not None:
            raise SelectionRefused(f"候选人 {cand} 已于 {person.left} 离开", "candidates")
        names[cand] = person.name
    uow.add(Selection(selection=cmd.selection, position=cmd.position, date=cmd.date, candidates=list(cmd.candidates),
                      names=names, actor=cmd.actor, key=cmd.key))
    return cmd.selection


@handles(RecordRepresentativeSheet)
def record_representative_sheet(uow: UnitOfWork, cmd: RecordRepresentativeSheet) -> str:
    find_selection(uow, cmd.selection).record_representative_sheet(cmd.sheet, cmd.scores, cmd.actor, cmd.key)
    return cmd.selection


@handles(RecordLeaderSheet)
def record_leader_sheet(uow: UnitOfWork, cmd: RecordLeaderSheet) -> str:
    find_selection(uow, cmd.selection).record_leader_sheet(cmd.leader, cmd.scores, cmd.actor, cmd.key)
    return cmd.selection


@handles(CloseSelection)
def close_selection(uow: UnitOfWork, cmd: CloseSelection) -> str:
    selection = find_selection(uow, cmd.selection)
    rulebook = uow.organization().rulebook_in_force(selection.date[:7])
    return selection.close(rulebook, cmd.actor, cmd.key)
