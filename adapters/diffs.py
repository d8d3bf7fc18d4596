"""Approved vs now (审批时与当前对照) read from the log, for every surface that shows one (CLI,
HTTP and so the web pages): one place reads the log, folds it and refuses a period that was
never approved; the comparison itself is ``projections/compare.py``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from adapters.store.logreader import LogReader
from domain.errors import InvalidInput
from domain.periods import check_quarter, check_year
from projections.model import AssessmentModel


def quarter_diff_now(engine: Engine, period: str) -> dict[str, Any]:
    """``quarter_diff`` of the whole log. Raises :class:`InvalidInput` (field ``period``) for a
    malformed or never approved quarter."""
    from projections.compare import quarter_diff
    check_quarter(period)
    events = list(LogReader(engine).read())
    model = AssessmentModel().apply_all(events)
    if period not in model.quarters:
        raise InvalidInput(f"{period} 尚未审批，没有可对照的审批结果", "period")
    return quarter_diff(model, period, events)


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
