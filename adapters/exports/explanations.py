"""The inputs of an explanation read from the log, for every surface that shows one (CLI,
HTTP and so the web pages and Excel, the demo): one place decides which events an
explanation (projections/explain.py) and a month's entry rows (projections/entries.py) see.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from adapters.store.logreader import LogReader
from domain.ids import month_id
from domain.periods import quarter_months
from projections.model import AssessmentModel

ENTRY_EVENTS = ("AssessmentMonth.ScoreRecorded", "AssessmentMonth.EntryCorrected", "AssessmentMonth.EntryVoided")
APPEAL_EVENTS = ("EntryAppeals.Filed", "EntryAppeals.Decided")


def month_entries(engine: Engine, period: str, position: int) -> list[Any]:
    """The month's entries, corrections and voids up to ``position``."""
    return list(LogReader(engine).read(upto=position, aggregate_id=month_id(period), topic_suffixes=ENTRY_EVENTS))


def appeal_events(engine: Engine, position: int) -> list[Any]:
    """Every appeal filed or decided up to ``position``."""
    return list(LogReader(engine).read(upto=position, topic_suffixes=APPEAL_EVENTS))


def explain_month_at(engine: Engine, model: AssessmentModel, period: str, branch: str) -> dict[str, Any]:
    """``explain_month`` of the log as far as ``model`` has folded it."""
    from projections.explain import explain_month
    return explain_month(model, period, branch, month_entries(engine, period, model.position),
                         appeal_events(engine, model.position))


def explain_quarter_at(engine: Engine, model: AssessmentModel, period: str, branch: str) -> dict[str, Any]:
    """``explain_quarter`` of the log as far as ``model`` has folded it. Reads the branch's
    entries of the three months and the appeals against them only
    (``adapters.store.slices.explained_events``): an explanation uses no other."""
    from adapters.store.slices import explained_events
    from projections.explain import explain_quarter
    by_month, appeals = explained_events(engine, quarter_months(period), branch, model.position)
    entries = {m: [e for e in found if e.name in ENTRY_EVENTS] for m, found in by_month.items()}
    return explain_quarter(model, period, branch, entries, [a for a in appeals if a.name in APPEAL_EVENTS])


def entries_at(engine: Engine, model: AssessmentModel, period: str, branch: str | None) -> list[dict[str, Any]]:
    """``entry_rows`` of the log as far as ``model`` has folded it."""
    from projections.entries import entry_rows
    return entry_rows(model, month_entries(engine, period, model.position), period, branch,
                      appeal_events(engine, model.position))
