"""The batch import's compact path for score entries (issue 18).

A batch whose every line is ``record_score`` (a month's entries from a department's sheet,
a migration of history) is applied without one library event object per line: the lines
are validated at once (:class:`~domain.commands.ScoreLineReader`), the permission check
runs once per distinct (branch, department, ``occurred_at``) of the batch, each month's
invariants are checked on the month aggregate's compact state
(:meth:`~domain.assessment.month_and_quarter.AssessmentMonth.check_entry`, the same checks
``record_score`` makes, in the same order), and each entry becomes the payload the library
would have stored for its ``ScoreRecorded`` event — the same keys in the same order, the
same stamps (``by``, ``migrated``, ``occurred_at``), encoded by the application's own
transcoder. The unit of work stores them after the month's own pending events (an
``Opened``), in the order the one-command path stores them, so the log, its leaves and
its tree are byte for byte what that path writes (``tests/contract/test_score_batch.py``
compares both paths on the same input, on both databases).
"""
from __future__ import annotations

from typing import Any, Callable
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.assessment.month_and_quarter import AssessmentMonth
from domain.assessment.organization import takes_part
from domain.commands import ScoreLine
from domain.errors import (
    BranchNotTakingPart,
    DuplicateKey,
    LedgerError,
    LineError,
    PermissionDenied,
    SeparationOfDuties,
    UserRefused,
)
from domain.service.permissions import Authorization
from domain.service.unit_of_work import ImportResult, UnitOfWork

SCORE_TOPIC = get_topic(AssessmentMonth.ScoreRecorded)
REFUSALS = (PermissionDenied, SeparationOfDuties, UserRefused)


class _MonthBatch:
    """The entries of one month in this batch: payloads in line order, the last timestamp."""

    __slots__ = ("month", "rulebook", "states")

    def __init__(self, month: AssessmentMonth, rulebook: Any) -> None:
        self.month = month
        self.rulebook = rulebook
        self.states: list[dict[str, Any]] = []


def apply_scores(uow: UnitOfWork, user: str | None, lines: list[tuple[int, ScoreLine]], known: dict[str, str],
                 encode: Callable[[Any], bytes], refused: Callable[[str | None, str, LedgerError], None],
                 ) -> tuple[ImportResult, list[LineError]]:
    """Apply ``lines`` (line number, validated line) to ``uow`` as the one-command path would:
    returns the result and the refused lines (nothing is stored when there are any; the
    caller raises). ``known``: digests of the batch's keys already in the ledger.
    ``encode``: the application's transcoder. ``refused``: logs a refusal for want of a role.
    Precondition: the batch's keys are unique (checked when the lines were read)."""
    result, failures = ImportResult(), []
    org = uow.organization()
    auths: dict[tuple[str, str, str | None], Authorization | LedgerError] = {}
    months: dict[str, _MonthBatch] = {}
    branches: dict[tuple[str, str], str | None] = {}  # (branch, period) → refusal reason, None if it takes part
    timestamp = AssessmentMonth.ScoreRecorded.create_timestamp
    for number, line in lines:
        try:
            auth = _authorized(uow, user, line, auths)
            uow.auth = auth
            if line.key is not None:
                stored = known.get(line.key)
                if stored is not None:
                    if stored != line.digest:
                        raise DuplicateKey(f"键 {line.key!r} 已在账本中，但内容不同", "key")
                    result.skipped += 1
                    result.ids[line.key] = str(line.entry_id)
                    continue
                uow.keys.append((line.key, line.digest, "record_score", str(line.entry_id)))
            _taking_part(org, line.branch, line.period, branches)
            batch = months.get(line.period)
            if batch is None:
                batch = months[line.period] = _MonthBatch(uow.month(line.period), org.rulebook_in_force(line.period))
                uow.stamp()  # a month opened here: its Opened event is stamped by this line's user
                uow.prepared[batch.month.id] = _later(batch, encode)
            entry_id = line.entry_id or uuid4()
            note = batch.month.check_entry(branch=line.branch, category=line.category, points=line.points,
                                           reason=line.reason, department=line.department,
                                           rulebook=batch.rulebook)
            batch.month.count_entry(line.branch, line.category, line.points)
            state = {"timestamp": timestamp(), "entry_id": entry_id, "branch": line.branch,
                     "category": line.category, "points": line.points, "reason": line.reason,
                     "department": line.department, "actor": line.actor, "key": line.key, "by": auth.user}
            if auth.migrated:
                state["migrated"] = True
                if auth.occurred_at is not None:
                    state["occurred_at"] = auth.occurred_at
            batch.states.append(state)
            result.appended += 1
            if note is not None:
                uow.warnings.append(note)
                result.warnings.append({"line": number, **note})
        except REFUSALS as e:
            refused(user, "record_score", e)
            failures.append(LineError(number, e.field, e.reason))
        except LedgerError as e:
            failures.append(LineError(number, e.field, e.reason))
        if line.key is not None:
            result.ids[line.key] = str(line.entry_id)
    return result, failures


def _later(batch: _MonthBatch, encode: Callable[[Any], bytes]) -> Callable[[], list[StoredEvent]]:
    return lambda: stored_entries(batch.month, batch.states, encode)


def _authorized(uow: UnitOfWork, user: str | None, line: ScoreLine,
                auths: dict[tuple[str, str, str | None], Authorization | LedgerError]) -> Authorization:
    """The permission check of ``line``, once per distinct (branch, department, occurred_at):
    what the check reads of a ``record_score`` command (the secretary role is per branch, the
    scorer role per department, a migration's document date). Raises the refusal again
    for each further line it applies to."""
    key = (line.branch, line.department, line.occurred_at)
    found = auths.get(key)
    if found is None:
        try:
            found = uow.authorize(user, line.command())
        except LedgerError as e:
            found = e
        auths[key] = found
    if isinstance(found, LedgerError):
        raise found  # the same refusal (reason, field) for each line it applies to
    return found


def _taking_part(org: Any, branch: str, period: str, seen: dict[tuple[str, str], str | None]) -> None:
    """``record_score``'s branch check (registered, taking part in ``period``), once per pair."""
    key = (branch, period)
    if key not in seen:
        record = org.branch(branch)  # BranchNotFound propagates, as in the one-command path (not remembered)
        seen[key] = None if takes_part(record, period) else \
            f"支部 {branch} 自 {record['from_month']} 起参加考核，不能录入 {period}"
    reason = seen[key]
    if reason is not None:
        raise BranchNotTakingPart(reason, "period")


def stored_entries(month: AssessmentMonth, states: list[dict[str, Any]],
                   encode: Callable[[Any], bytes]) -> list[StoredEvent]:
    """The stored events of a month's batch entries, numbered after its current version
    (its own pending events included), and the month brought to the version and
    ``modified_on`` the events give it (its counts were applied while checking).
    Precondition: called once, when the unit of work is saved."""
    first = month.version + 1
    events = [StoredEvent(originator_id=month.id, originator_version=first + n, topic=SCORE_TOPIC,
                          state=encode(state)) for n, state in enumerate(states)]
    if states:
        month.version = first + len(states) - 1
        month.modified_on = states[-1]["timestamp"]
    return events
