"""Enrolment spans (党员在册): which members a branch's roster counts in a month.

Pure functions over the roster's spans, kept apart from the aggregates and commands of
:mod:`domain.members.people` so that the folds (``projections/``) need neither."""
from __future__ import annotations


def span_covers(span: list[str | None], month: str) -> bool:
    """A roster span ``[start, end]`` covers ``month`` (its end month is not covered; end
    None: still enrolled). Precondition: ``start`` is set (every enrolment sets it)."""
    start, end = span
    return start is not None and start <= month and (end is None or month < end)


def count_in(spans: dict[str, list[list[str | None]]], month: str) -> int:
    """Members whose span covers ``month`` (a span's end month is not covered)."""
    return sum(1 for rows in spans.values() if any(span_covers(span, month) for span in rows))


def enrolled_count(spans: dict[str, list[list[str | None]]], month: str) -> int | None:
    """The enrolments in force in ``month``, or None where enrolment does not yet speak for
    the branch: no enrolments, or ``month`` before the first (then the declared count holds)."""
    if not spans or month < min(start for rows in spans.values() for start, _ in rows if start is not None):
        return None
    return count_in(spans, month)
