"""Appeals (申诉), voids (作废) and committee corrections (更正): the application's
commands for changing what an entry counts, always by a new event that references it.

Plain functions ``(uow, cmd)`` registered with :func:`~domain.service.handlers.handles`; the
unit of work (``domain/service/unit_of_work.py``) loads and saves.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from domain import commands as c
from domain.assessment.appeal import EntryAppeals, shelf_of
from domain.assessment.month_and_quarter import APPROVED, AssessmentMonth
from domain.errors import AppealRefused, EntryNotFound, InvalidInput, SeparationOfDuties
from domain.ids import appeal_id_for_key, appeals_id
from domain.service.handlers import handles
from domain.service.permissions import check_scorer_of
from domain.service.unit_of_work import UnitOfWork


def _entry(uow: UnitOfWork, entry_id: UUID) -> tuple[AssessmentMonth, dict[str, Any]]:
    """The month holding the entry and the entry as it counts now (after corrections)."""
    month_agg = (uow.holder_of("ScoreRecorded", "entry_id", entry_id)
                 or uow.index.find_event("AssessmentMonth.ScoreRecorded", entry_id))
    month = None if month_agg is None else uow.find(month_agg, for_update=True)
    if month is None:
        raise EntryNotFound(f"没有编号为 {entry_id} 的分值条目", "entry_id")
    entry: dict[str, Any] | None = None
    for e in [*uow.stored_events(month), *month.pending_events]:
        if getattr(e, "entry_id", None) != entry_id:
            continue
        if isinstance(e, AssessmentMonth.ScoreRecorded):
            # ``by``: the acting user stamped on the stored event (this command's, if pending)
            by = e.__dict__.get("by")  # None: recorded before users existed (unknown)
            entry = {"branch": e.branch, "category": e.category, "points": e.points, "voided": False,
                     "department": e.department, "recorded_by": by}
        elif entry is not None and type(e).__name__ == "EntryCorrected":
            entry["points"] = e.new_points
        elif entry is not None and type(e).__name__ == "EntryVoided":
            entry["voided"] = True
    assert entry is not None
    if entry["voided"]:
        raise EntryNotFound(f"条目 {entry_id} 已作废", "entry_id")
    return month, entry


@handles(c.FileAppeal)
def file_appeal(uow: UnitOfWork, cmd: c.FileAppeal) -> UUID:
    org = uow.organization()
    entry_id = cmd.target()
    month, entry = _entry(uow, entry_id)
    approved_in_store = month.approved_version <= month.version - len(month.pending_events)
    if month.status == APPROVED and approved_in_store:  # approved in this batch: the window just opened
        window = org.rulebook_in_force(month.period).appeal_window_days
        index = uow.index
        approved_at = index.recorded_at(month.id, month.approved_version)
        if index.clock() > approved_at + window * 86_400_000_000:
            raise AppealRefused(f"{month.period} 审批已超过 {window} 天，申诉期已过", "entry_id")
    appeals = uow.find_or_open(appeals_id(entry_id), lambda: EntryAppeals(
        entry_id=entry_id, period=month.period, branch=entry["branch"]))
    attachment = None
    if cmd.attachment is not None:  # the log names only a file the store holds
        if not shelf_of(uow.app).holds(cmd.attachment.sha256, cmd.attachment.size):
            raise InvalidInput("附件库中没有这个文件（SHA-256 与大小须与上传的文件一致）：请先上传附件", "attachment")
        attachment = cmd.attachment.model_dump()
    # An import key names the appeal, so later lines of a migration can decide it.
    given = None if cmd.key is None else appeal_id_for_key(cmd.key)
    return appeals.file(cmd.branch, cmd.reason, cmd.actor, cmd.key, appeal_id=given,
                        user=None if uow.auth is None else uow.auth.user, attachment=attachment)


@handles(c.DecideAppeal)
def decide_appeal(uow: UnitOfWork, cmd: c.DecideAppeal) -> UUID:
    appeal_id = cmd.target()
    holder = (uow.holder_of("Filed", "appeal_id", appeal_id)
              or uow.index.find_event("EntryAppeals.Filed", appeal_id))
    appeals = None if holder is None else uow.find(holder, for_update=True)
    if appeals is None:
        raise AppealRefused(f"没有编号为 {appeal_id} 的申诉", "appeal_id")
    month, entry = _entry(uow, appeals.entry_id)
    _not_recorder(uow, entry, "申诉不能由同一用户决定")
    auth = uow.auth
    if auth is not None and not auth.migrated and getattr(appeals, "filed_by", None) == auth.user:
        raise SeparationOfDuties(f"该申诉由 {auth.user} 提出，不能由同一用户决定", "appeal_id")
    appeals.decide(appeal_id, cmd.decision, cmd.points, entry["points"], cmd.reason, cmd.actor, cmd.key)
    # (decide refused "upheld" without points)
    if cmd.decision == "upheld" and cmd.points is not None and cmd.points != entry["points"]:
        month.correct_entry(appeals.entry_id, entry["branch"], entry["category"], entry["points"],
                            cmd.points, cmd.reason, "appeal", appeal_id, cmd.actor, cmd.key)
    if month.status == APPROVED:
        uow.checkpoint(f"decide_appeal {appeal_id}")
    return appeal_id


@handles(c.VoidEntry)
def void_entry(uow: UnitOfWork, cmd: c.VoidEntry) -> UUID:
    uow.organization()
    entry_id = cmd.target()
    month, entry = _entry(uow, entry_id)
    check_scorer_of(uow.auth, entry["department"])
    month.void_entry(entry_id, entry["branch"], entry["category"], entry["points"], cmd.reason,
                     cmd.actor, cmd.key)
    return entry_id


@handles(c.CorrectEntry)
def correct_entry(uow: UnitOfWork, cmd: c.CorrectEntry) -> UUID:
    uow.organization()
    entry_id = cmd.target()
    month, entry = _entry(uow, entry_id)
    _not_recorder(uow, entry, "不能由同一用户更正")
    month.correct_entry(entry_id, entry["branch"], entry["category"], entry["points"], cmd.points,
                        cmd.reason, "committee", None, cmd.actor, cmd.key)
    return entry_id


def _not_recorder(uow: UnitOfWork, entry: dict[str, Any], what: str) -> None:
    """Separation of duties: the user who recorded an entry does not decide on it."""
    auth = uow.auth
    if auth is not None and not auth.migrated and entry["recorded_by"] == auth.user:
        raise SeparationOfDuties(f"该条目由 {auth.user} 录入，{what}", "entry_id")
