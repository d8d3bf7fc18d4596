"""Approved vs now (审批时与当前对照) read from the log, for every surface that shows one (CLI,
HTTP and so the web pages): one place reads the log, folds it and refuses a period that was
never approved; the comparison itself is ``projections/compare.py``.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from adapters.store.logreader import LogReader
from domain.errors import InvalidInput
from domain.periods import check_quarter, check_year, quarter_months
from projections.model import AssessmentModel


def quarter_diff_now(engine: Engine, period: str) -> dict[str, Any]:
    """``quarter_diff`` of the whole log. Raises :class:`InvalidInput` (field ``period``) for a
    malformed or never approved quarter. Reads the quarter's sections of the maintained view
    and its months' events after the approval (adapters/store/slices.py), not the whole log."""
    from adapters.store.slices import events_after, quarter_sections, sliced_model
    from projections.compare import quarter_diff
    check_quarter(period)
    model = sliced_model(engine, quarter_sections(period))
    if period not in model.quarters:
        raise InvalidInput(f"{period} 尚未审批，没有可对照的审批结果", "period")
    after = events_after(engine, quarter_months(period), model.quarters[period]["position"], model.position)
    return quarter_diff(model, period, after)


def quarter_whatif_now(engine: Engine, period: str, refs: set[str], points: dict[str, Decimal]) -> dict[str, Any]:
    """``quarter_whatif`` of the whole log: from the quarter's sections and the few events the
    refs name where they are entries, voids or corrections of its months
    (adapters/store/slices.py); otherwise the whole log replayed. Precondition: ``period``
    is a well-formed quarter; refs are positions or UUID texts."""
    from adapters.store.slices import NeedsReplay, quarter_whatif_models
    from projections.compare import quarter_whatif, whatif_rows
    try:
        today, replayed = quarter_whatif_models(engine, period, refs, points)
    except NeedsReplay:
        return quarter_whatif(list(LogReader(engine).read()), period, refs, points)
    return whatif_rows(today, replayed, period, refs, points)


def year_diff_now(engine: Engine, year: str) -> dict[str, Any]:
    """``year_diff`` of the whole log. Raises :class:`InvalidInput` (field ``year``) for a
    malformed or never approved year."""
    from projections.compare import year_diff
    check_year(year)
    events = list(LogReader(engine).read())
    model = AssessmentModel().apply_all(events)
    if (model.years.get(year) or {}).get("approval") is None:
        raise InvalidInput(f"{year} 年度总评尚未审批，没有可对照的审批结果", "year")
    return year_diff(model, year, events)
