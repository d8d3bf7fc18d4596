"""A model of a few periods at an earlier position, from today's sections and the tail.

A month's sums are a sum over its events: an entry adds its points, a void takes them out,
a correction replaces old points by new; none of them depends on the month's state. So the
month as of position P is the month now less the contributions of its entries, voids and
corrections after P, as long as no other kind of event of that month (a submission, an
approval, a business score, its opening) came after P. The same holds for a what-if: the
log without some of those events is today's month less their contributions plus those of
what replaces them. Everything else (the organization, a quarter's approvals) is folded
from its own events, which are few. Pure: the adapters read the events
(``adapters/store/slices.py``); the result is what :class:`AssessmentModel` folds from the
whole log (``tests/contract/test_slices.py`` compares both).
"""
from __future__ import annotations

from typing import Iterable

from domain.integrity.log import LoggedEvent
from projections.model import AssessmentModel, MonthState

ADDITIVE = frozenset({"AssessmentMonth.ScoreRecorded", "AssessmentMonth.EntryVoided",
                      "AssessmentMonth.EntryCorrected"})


def additive(events: Iterable[LoggedEvent]) -> bool:
    """True if every event only adds to a month's sums (an entry, a void, a correction)."""
    return all(e.name in ADDITIVE for e in events)


def contributions(names: dict[object, str], events: Iterable[LoggedEvent]) -> dict[str, MonthState]:
    """What ``events`` (additive, of months named in ``names``) add to each month: sums and
    entry counts folded from nothing."""
    scratch = AssessmentModel()
    scratch.names.update(names)
    for e in events:
        period = names[e.aggregate_id]
        if period not in scratch.months:
            scratch.months[period] = MonthState()
        scratch.apply(e)
    return scratch.months


def shifted(month: MonthState, delta: MonthState | None, sign: int) -> MonthState:
    """A copy of ``month`` with ``delta``'s sums and entries added (``sign`` 1) or taken
    away (``sign`` -1); status, approval and business scores as in ``month``."""
    out = MonthState()
    out.status, out.approval, out.business = month.status, month.approval, dict(month.business)
    out.sums = {b: dict(cats) for b, cats in month.sums.items()}
    out.entries = month.entries
    if delta is not None:
        for branch, cats in delta.sums.items():
            into = out.sums.setdefault(branch, {})
            for category, cents in cats.items():
                into[category] = into.get(category, 0) + sign * cents
        out.entries += sign * delta.entries
    return out


def rewound(now: AssessmentModel, period: str, tail: list[LoggedEvent]) -> MonthState | None:
    """Month ``period`` before the events ``tail`` (all of them that month's events after
    some position, in log order), from its state ``now``; None if the tail is not
    :func:`additive` (the month must then be folded from its own events)."""
    if not additive(tail):
        return None
    month = now.months[period]
    return shifted(month, contributions(now.names, tail).get(period), -1)
