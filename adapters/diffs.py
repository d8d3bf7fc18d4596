"""Approved vs now (审批时与当前对照) read from the log, for every surface that shows one (CLI,
HTTP and so the web pages): one place reads the log, folds it and refuses a period that was
never approved; the comparison itself is ``projections/compare.py``.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from adapters.store.logreader import LogReader
from adapters.store.replay import document_slice, events_at, stamp, stamp_fields, upto_of
from domain.asof import AsOf
from domain.errors import InvalidInput
from domain.periods import check_quarter, check_year, quarter_months
from projections.documents import fold_in_document_order
from projections.model import AssessmentModel


def quarter_diff_now(engine: Engine, period: str, point: AsOf | None = None) -> dict[str, Any]:
    """``quarter_diff`` of the whole log, or of the replay at ``point`` (either clock). Raises
    :class:`InvalidInput` (field ``period``) for a malformed quarter or one not approved (at
    ``point``). Now and on the log clock reads the quarter's sections and its months' events
    after the approval (adapters/store/slices.py), not the whole log."""
    from adapters.store.slices import events_after, quarter_sections, sliced_model
    from projections.compare import quarter_diff
    check_quarter(period)
    if point is not None and point.by_document:
        chosen = document_slice(engine, point, AssessmentModel.topic_filter())
        model = fold_in_document_order(AssessmentModel(), chosen)
        _approved(period in model.quarters, period)
        return _stamped(quarter_diff(model, period, chosen.events), model, point)
    model = sliced_model(engine, quarter_sections(period), upto_of(engine, point))
    _approved(period in model.quarters, period)
    after = events_after(engine, quarter_months(period), model.quarters[period]["position"], model.position)
    return _stamped(quarter_diff(model, period, after), model, point)


def _stamped(data: dict[str, Any], model: AssessmentModel, point: AsOf | None) -> dict[str, Any]:
    """A replay's comparison says which replay it is (adapters/store/replay.py); now's is as it was."""
    return data if point is None else stamp(data, model, point)


def _approved(approved: bool, period: str) -> None:
    if not approved:
        field = "year" if len(period) == 4 else "period"
        what = f"{period} 年度总评" if len(period) == 4 else period
        raise InvalidInput(f"{what} 尚未审批（在所示时刻），没有可对照的审批结果", field)


def quarter_whatif_now(engine: Engine, period: str, refs: set[str], points: dict[str, Decimal],
                       point: AsOf | None = None) -> dict[str, Any]:
    """``quarter_whatif`` of the whole log: from the quarter's sections and the few events the
    refs name where they are entries, voids or corrections of its months
    (adapters/store/slices.py); otherwise the whole log replayed. At ``point`` (either
    clock), the replay's events. Precondition: ``period`` is a well-formed quarter; refs
    are positions or UUID texts."""
    from adapters.store.slices import NeedsReplay, quarter_whatif_models
    from projections.compare import quarter_whatif, whatif_rows
    if point is not None:
        events = list(events_at(engine, point, AssessmentModel.topic_filter()))
        result = quarter_whatif(events, period, refs, points)
        return {**result, **stamp_fields(point)}
    try:
        today, replayed = quarter_whatif_models(engine, period, refs, points)
    except NeedsReplay:
        return quarter_whatif(list(LogReader(engine).read()), period, refs, points)
    return whatif_rows(today, replayed, period, refs, points)


def year_diff_now(engine: Engine, year: str, point: AsOf | None = None) -> dict[str, Any]:
    """``year_diff`` of the whole log, or of the replay at ``point`` (either clock). Raises
    :class:`InvalidInput` (field ``year``) for a malformed year or one not approved (at
    ``point``)."""
    from projections.compare import year_diff
    check_year(year)
    if point is not None and point.by_document:
        chosen = document_slice(engine, point, AssessmentModel.topic_filter())
        events = chosen.events
        model = fold_in_document_order(AssessmentModel(), chosen)
    else:
        events = list(LogReader(engine).read(upto=upto_of(engine, point)))
        model = AssessmentModel().apply_all(events)
    _approved((model.years.get(year) or {}).get("approval") is not None, year)
    return _stamped(year_diff(model, year, events), model, point)
