"""Named refusals. Each names the field at fault and the reason, in Chinese for people."""
from __future__ import annotations

from dataclasses import dataclass


class LedgerError(Exception):
    """A command refused by a domain rule; nothing was written.

    ``field`` names the input field at fault (or ``None`` when the refusal concerns the
    whole command); ``reason`` is a sentence for people, in Chinese.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class InvalidInput(LedgerError):
    """A field's value has the wrong shape (type, format, decimals, sign)."""


class NotInitialized(LedgerError):
    """The ledger has no rulebook yet: ``ledger init`` was not run."""


class DocumentOrderConflict(LedgerError):
    """On the document clock (按单据日期), an event's document is dated before an event it
    depends on (a secretary appointed in a branch registered later on paper): the replay
    cannot be built, and says which position."""


class BackupRefused(LedgerError):
    """``ledger backup`` or ``ledger restore`` refused: a part missing or altered, a target
    that is not empty, a restored ledger that does not verify against its manifest."""


class CheckpointRefused(LedgerError):
    """An on-demand checkpoint asked for sooner than the ledger's interval allows."""


class BranchNotFound(LedgerError):
    """The branch code names no registered branch."""


class BranchAlreadyRegistered(LedgerError):
    """A branch with this code exists already."""


class BranchNotTakingPart(LedgerError):
    """The branch takes part only from a later month."""


class WrongDepartment(LedgerError):
    """The department does not score this category under the rulebook."""


class MonthNotOpenForEntries(LedgerError):
    """The month is submitted or approved: entries are refused."""


class MonthStateConflict(LedgerError):
    """Submit, return or approve asked of a month in the wrong state."""


class QuarterNotReady(LedgerError):
    """Not all three months of the quarter are approved."""


class QuarterAlreadyApproved(LedgerError):
    """The quarter has been approved already."""


class YearAlreadyApproved(LedgerError):
    """The year's evaluation is approved: no new inputs, no second approval."""


class YearNotReady(LedgerError):
    """Months, quarters or annual inputs missing for the year's approval."""


class RulebookRefused(LedgerError):
    """A rulebook version that would change an approved period, or is malformed."""


class AppealRefused(LedgerError):
    """An appeal filed or decided against the rules (branch, open, decided, window)."""


class EntryNotFound(LedgerError):
    """No score entry with that id or import key."""


class AttachmentNotFound(LedgerError):
    """No appeal with that id, or the appeal has no attached file."""


class DuplicateKey(LedgerError):
    """An import key is used twice in one file, or with other content than in the ledger."""


class ConcurrentWrite(LedgerError):
    """Another writer changed the same aggregate first; the command may be retried."""


class PersonNotFound(LedgerError):
    """No member or employee registered under that person id."""


class PersonAlreadyRegistered(LedgerError):
    """A person with this id is registered already."""


class MembershipRefused(LedgerError):
    """An enrolment, class change, transfer or departure against the member's record."""


class MemberPointsRefused(LedgerError):
    """A member-points, group-points or appraisal entry (or its voiding) against the rules:
    not a member of the branch that month, unknown group, item not open to typed entries."""


class LinkRefused(LedgerError):
    """A 1+N link, unlink or per-group N against the rules (not a member or employee of the
    branch, employee linked already, duplicate link, unknown group)."""


class ProjectNotFound(LedgerError):
    """No one-thing-a-year project registered under that project id."""


class ProjectRefused(LedgerError):
    """A project registration, progress or completion against the rules."""


class ProposalRefused(LedgerError):
    """An innovation proposal or points award against the rules (duplicate id, person not in
    the branch, points not positive)."""


class SelectionNotFound(LedgerError):
    """No competitive selection (竞聘) opened under that id."""


class SelectionRefused(LedgerError):
    """A selection opened, a score sheet recorded or a selection closed against the rules."""


class MentorshipNotFound(LedgerError):
    """No mentor-apprentice pair under that id in the branch and year."""


class MentorshipRefused(LedgerError):
    """A pair, appraisal or skill-competition result against the rules (导师带徒)."""


class OccasionNotFound(LedgerError):
    """No talk or visit occasion (六必谈 / 六必访) under that id or import key."""


class OccasionRefused(LedgerError):
    """An occasion raised or answered against the rules (branch, dates, answered already,
    person's key erased)."""


class VaultUnavailable(LedgerError):
    """No key store is configured: summaries cannot be sealed or opened."""


class PermissionDenied(LedgerError):
    """The acting user lacks the role the command needs (recorded in the security log)."""


class SeparationOfDuties(LedgerError):
    """The same user may not do both steps (submit and approve; record and decide)."""


class UserRefused(LedgerError):
    """A user, role or token command against the directory's rules."""


class MeetingNotFound(LedgerError):
    """No meeting of that branch, kind, date (and group) is recorded."""


class MeetingRefused(LedgerError):
    """A meeting or its attendance recorded against the rules (三会一课: attendees not members
    of the branch or group, a member missing from the list, 两会 without the 三问)."""


class DuesRefused(LedgerError):
    """A dues base, payment or publication against the rules (党费)."""


class PaymentNotFound(LedgerError):
    """No dues payment under that id or import key."""


class CorruptLog(LedgerError):
    """A stored event that cannot be read or folded (a payload that is not JSON, an event of
    an aggregate never opened, a payload missing its fields): the log was altered or damaged.
    Reads stop at it and name its position; ``ledger verify`` lists every such event."""

    def __init__(self, position: int | None, what: str) -> None:
        where = f"日志位置 {position} 的事件" if position is not None else "一个存储的事件"
        super().__init__(f"{where}无法读取（{what}）：账本可能被篡改或损坏，读取已停止；"
                         "请运行 ledger verify 列出全部问题", None)
        self.position = position
        self.what = what


@dataclass
class LineError:
    """A refused import line: 1-based line number, field at fault, reason."""

    line: int
    field: str | None
    reason: str


class ImportRefused(LedgerError):
    """A batch with at least one invalid line; nothing was written."""

    def __init__(self, errors: list[LineError]) -> None:
        first = errors[0]
        super().__init__(f"第 {first.line} 行：{first.reason}", first.field)
        self.errors = errors
