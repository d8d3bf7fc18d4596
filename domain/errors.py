"""Named refusals. Each names the field at fault and the reason, in Chinese for people."""
from __future__ import annotations


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
