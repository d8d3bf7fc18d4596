"""The inputs of an explanation read from the log, for every surface that shows one (CLI,
HTTP and so the web pages and Excel, the demo): one place decides which events an
explanation (projections/explain.py) and a month's entry rows (projections/entries.py) see.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy.engine import Engine

from adapters.store.logreader import LogReader
from domain.asof import AsOf
from domain.ids import month_id
from domain.integrity.log import LoggedEvent
from domain.periods import quarter_months
from projections.documents import documented_by
from projections.model import AssessmentModel

ENTRY_EVENTS = ("AssessmentMonth.ScoreRecorded", "AssessmentMonth.EntryCorrected", "AssessmentMonth.EntryVoided")
APPEAL_EVENTS = ("EntryAppeals.Filed", "EntryAppeals.Decided")


def _seen(events: Iterable[LoggedEvent], point: AsOf | None) -> list[LoggedEvent]:
    """The events a replay at ``point`` counts: on the document clock those documented by it."""
    if point is None or not point.by_document:
        return list(events)
    return [e for e in events if documented_by(e, point.moment_us)]


def _upto(model: AssessmentModel, point: AsOf | None) -> int | None:
    """How far to read: as far as ``model`` has folded the log, or (document clock) all of it,
    then :func:`_seen`."""
    return None if point is not None and point.by_document else model.position


def month_entries(engine: Engine, period: str, position: int | None, point: AsOf | None = None) -> list[Any]:
    """The month's entries, corrections and voids up to ``position`` (seen at ``point``)."""
    return _seen(LogReader(engine).read(upto=position, aggregate_id=month_id(period), topic_suffixes=ENTRY_EVENTS),
                 point)


def appeal_events(engine: Engine, position: int | None, point: AsOf | None = None) -> list[Any]:
    """Every appeal filed or decided up to ``position`` (seen at ``point``)."""
    return _seen(LogReader(engine).read(upto=position, topic_suffixes=APPEAL_EVENTS), point)


def explain_month_at(engine: Engine, model: AssessmentModel, period: str, branch: str,
                     point: AsOf | None = None) -> dict[str, Any]:
    """``explain_month`` of the log as far as ``model`` has folded it (``point``: the replay
    ``model`` was folded at, if any)."""
    from projections.explain import explain_month
    upto = _upto(model, point)
    return explain_month(model, period, branch, month_entries(engine, period, upto, point),
                         appeal_events(engine, upto, point))


def explain_quarter_at(engine: Engine, model: AssessmentModel, period: str, branch: str,
                       point: AsOf | None = None) -> dict[str, Any]:
    """``explain_quarter`` of the log as far as ``model`` has folded it. Reads the branch's
    entries of the three months and the appeals against them only
    (``adapters.store.slices.explained_events``): an explanation uses no other."""
    from adapters.store.slices import explained_events
    from projections.explain import explain_quarter
    by_month, appeals = explained_events(engine, quarter_months(period), branch, _upto(model, point))
    entries = {m: _seen((e for e in found if e.name in ENTRY_EVENTS), point) for m, found in by_month.items()}
    return explain_quarter(model, period, branch, entries, _seen((a for a in appeals if a.name in APPEAL_EVENTS), point))


def entries_at(engine: Engine, model: AssessmentModel, period: str, branch: str | None,
               point: AsOf | None = None) -> list[dict[str, Any]]:
    """``entry_rows`` of the log as far as ``model`` has folded it."""
    from projections.entries import entry_rows
    upto = _upto(model, point)
    return entry_rows(model, month_entries(engine, period, upto, point), period, branch,
                      appeal_events(engine, upto, point))
