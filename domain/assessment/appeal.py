"""Appeals (申诉) against one score entry: filed by the branch, decided by the committee.

One aggregate per entry guards: at most one open appeal, none after a decision, a decision
once. Upholding appends a correction to the month (the application does it in the same
unit of work).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import AppealRefused, InvalidInput
from domain.ids import appeals_id

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # a scanned page or a few: 10 MiB
UPHELD = "upheld"  # 申诉成立
REJECTED = "rejected"  # 申诉驳回


class AttachmentShelf(Protocol):
    """Where attached files live (outside the log), by SHA-256. Implemented by
    ``adapters/store/attachments.AttachmentStore``; handlers reach it as ``uow.app.attachments``."""

    def holds(self, sha256: str, size: int) -> bool:
        """Whether the file with this SHA-256 and size is stored (and still has that hash)."""


def shelf_of(app: Any) -> AttachmentShelf:
    """The application's attachment store, or :class:`InvalidInput` (field ``attachment``)."""
    shelf: AttachmentShelf | None = getattr(app, "attachments", None)
    if shelf is None:
        raise InvalidInput("未配置附件库（LEDGER_ATTACHMENTS），不能附上文件", "attachment")
    return shelf


class EntryAppeals(Aggregate):
    """The appeals against one entry."""

    @staticmethod
    def create_id(entry_id: UUID, **_: Any) -> UUID:
        return appeals_id(entry_id)

    @event("Opened")
    def __init__(self, entry_id: UUID, period: str, branch: str) -> None:
        self.entry_id = entry_id
        self.period = period
        self.branch = branch
        self.open: UUID | None = None
        self.decided = False

    def file(self, branch: str, reason: str, actor: str, key: str | None,
             appeal_id: UUID | None = None, user: str | None = None,
             attachment: dict[str, Any] | None = None) -> UUID:
        """File an appeal; its id is ``appeal_id`` if given (derived from an import key).
        ``attachment``: the attached file's ``sha256``, ``name``, ``media_type`` and ``size``
        (validated by the command; the caller has checked the file is stored)."""
        if branch != self.branch:
            raise AppealRefused(f"该条目属于支部 {self.branch}，不能由支部 {branch} 申诉", "branch")
        if self.open is not None:
            raise AppealRefused("该条目已有未决申诉", "entry_id")
        if self.decided:
            raise AppealRefused("该条目的申诉已有决定，不能再次申诉", "entry_id")
        if not reason.strip():
            raise InvalidInput("申诉必须写明理由", "reason")
        appeal_id = appeal_id or uuid5(self.id, f"appeal:{self.version + len(self.pending_events)}")
        self._file(appeal_id=appeal_id, entry_id=self.entry_id, period=self.period, branch=branch,
                   reason=reason, actor=actor, key=key, user=user, attachment=attachment)
        return appeal_id

    @event("Filed")
    def _file(self, appeal_id: UUID, entry_id: UUID, period: str, branch: str, reason: str, actor: str,
              key: str | None, user: str | None = None, attachment: dict[str, Any] | None = None) -> None:
        self.open = appeal_id
        self.filed_by = user  # who filed the open appeal: they do not decide it

    def decide(self, appeal_id: UUID, decision: str, points: Decimal | None, original: Decimal, reason: str,
               actor: str, key: str | None) -> None:
        """Upheld: ``points`` between the original points and 0 (0 removes the deduction)."""
        if self.open != appeal_id:
            raise AppealRefused("该申诉已有决定或不存在", "appeal_id")
        if not reason.strip():
            raise InvalidInput("决定必须写明理由", "reason")
        if decision == UPHELD:
            if points is None or not (min(original, Decimal(0)) <= points <= max(original, Decimal(0))):
                raise InvalidInput(f"更正后的分值应在原分值 {original} 与 0 之间", "points")
        elif decision == REJECTED:
            if points is not None:
                raise InvalidInput("驳回时不填分值", "points")
        else:
            raise InvalidInput("决定应为 upheld（成立）或 rejected（驳回）", "decision")
        self._decide(appeal_id=appeal_id, decision=decision, points=points, reason=reason, actor=actor, key=key)

    @event("Decided")
    def _decide(self, appeal_id: UUID, decision: str, points: Decimal | None, reason: str, actor: str,
                key: str | None) -> None:
        self.open = None
        self.decided = True
