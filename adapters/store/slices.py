"""The assessment model of a few periods (a quarter's three months and the quarter itself),
read from only those aggregates' events: as-of replays, diffs, what-ifs and explanations
cost what the periods hold, not what the whole log holds (issue 18).

Today's periods come from the maintained view (``adapters/store/views.py``). At an earlier
position P: the organization (with its rosters) and the quarters are folded from their own
events up to P; each month is today's section less its entries, voids and corrections after
P (``projections/slices.py``), or, when other kinds of its events came after P, folded from
its own events up to P. The result shows exactly what the fold of the whole log up to P
shows for those periods (``tests/contract/test_slices.py``).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable
from uuid import UUID

from sqlalchemy.engine import Engine

from adapters.store.gcpause import gc_paused
from adapters.store.logreader import DECODE, LogReader
from adapters.store.views import MaintainedView
from domain.ids import month_id, organization_id, quarter_id, roster_id
from domain.integrity.log import LoggedEvent
from domain.periods import quarter_months
from projections.model import ORG, AssessmentModel
from projections.slices import ADDITIVE, contributions, rewound, shifted


def periods_of(sections: Iterable[str]) -> tuple[list[str], list[str]]:
    """(months, quarters) named by view sections (``month:YYYY-MM``, ``quarter:YYYYQn``)."""
    months, quarters = [], []
    for name in sections:
        kind, _, period = name.partition(":")
        if kind == "month":
            months.append(period)
        elif kind == "quarter":
            quarters.append(period)
        elif name != ORG:
            raise ValueError(f"not a month or quarter section: {name}")
    return months, quarters


def quarter_sections(period: str) -> list[str]:
    """The view sections a quarter's ranking reads: its three months and itself."""
    return [*("month:" + m for m in quarter_months(period)), "quarter:" + period]


def sliced_model(engine: Engine, sections: list[str], upto: int | None = None) -> AssessmentModel:
    """The model of the organization and the periods ``sections`` names (months and
    quarters), as of log position ``upto`` (None: now); ``position`` is ``upto`` (or the
    log's end). Other periods are absent. Precondition: ``upto`` is a position of the log
    (as ``LogReader.position_recorded_by`` gives) or None."""
    now = MaintainedView(engine).model(sections)
    if upto is None or upto >= now.position:
        return now
    months, quarters = periods_of(sections)
    reader = LogReader(engine)
    rosters = [roster_id(code) for code in now.org.get("rosters", {})]  # they only grow: none now, none then
    org_ids = {organization_id(), *rosters}
    wanted = [*org_ids, *map(quarter_id, quarters), *(month_id(m) for m in months if m in now.months)]
    tails: dict[UUID, list[LoggedEvent]] = {i: [] for i in wanted}
    model = AssessmentModel()
    with gc_paused():
        for e in reader.events(after=upto, upto=now.position, aggregate_ids=wanted):
            tails[e.aggregate_id].append(e)
        if any(tails[i] for i in org_ids):
            model.apply_rows(reader.rows(upto=upto, aggregate_ids=[organization_id()]), DECODE)
            if rosters:
                model.apply_rows(reader.rows(upto=upto, aggregate_ids=rosters), DECODE)
        else:  # unchanged since: today's organization is the one then
            model.org = now.org
        replay = []
        for q in quarters:
            if tails.get(quarter_id(q)):
                replay.append(quarter_id(q))
            elif q in now.quarters:
                model.quarters[q] = now.quarters[q]
                model.names[quarter_id(q)] = q
        for m in months:
            month = rewound(now, m, tails[month_id(m)]) if m in now.months else None
            if month is None:
                replay.append(month_id(m))
            else:
                model.months[m] = month
                model.names[month_id(m)] = m
        if replay:
            model.apply_rows(reader.rows(upto=upto, aggregate_ids=replay), DECODE)
    model.position = upto
    model.dirty = set()
    return model


class NeedsReplay(Exception):
    """A what-if touches events that do not only add to a month's sums: replay the log."""


def quarter_whatif_models(engine: Engine, period: str, refs: set[str],
                          points: dict[str, Decimal]) -> tuple[AssessmentModel, AssessmentModel]:
    """(today, replayed) for ``projections.compare.quarter_whatif``: today's quarter, and the
    quarter over the log without ``refs`` / with ``points`` (``projections.compare.without``).

    Only the events a ref can name are read: those at the positions given, and the quarter's
    months' and quarter's events whose payload holds an id given. If every one of them that
    belongs to the quarter's aggregates (the organization, its rosters, the three months, the
    quarter) is an entry, a void or a correction of those months, the replayed months are
    today's less what those events add and plus what their replacements add. Otherwise
    :class:`NeedsReplay` (the caller folds the whole log)."""
    from projections.compare import without
    sections = quarter_sections(period)
    today = sliced_model(engine, sections)
    months = quarter_months(period)
    month_ids = {month_id(m) for m in months}
    needles = [UUID(r).hex for r in {*refs, *points} if not r.isdigit()]
    positions = [int(r) for r in refs if r.isdigit()]
    found = LogReader(engine).containing(needles, [*month_ids, quarter_id(period)], positions)
    ours = {organization_id(), quarter_id(period), *month_ids, *(roster_id(b) for b in today.org.get("rosters", {}))}
    touched = [e for e in found if e.aggregate_id in ours]
    if any(e.aggregate_id not in month_ids or e.name not in ADDITIVE for e in touched):
        raise NeedsReplay()
    replayed = AssessmentModel()
    replayed.org, replayed.quarters, replayed.names = today.org, today.quarters, dict(today.names)
    replayed.position = today.position
    taken = contributions(today.names, touched)
    given = contributions(today.names, list(without(touched, refs, points)))
    for m in months:
        if m in today.months:
            month = shifted(today.months[m], taken.get(m), -1)
            replayed.months[m] = shifted(month, given.get(m), 1)
    return today, replayed


def explained_events(engine: Engine, months: list[str], branch: str, position: int | None) -> tuple[
        dict[str, list[LoggedEvent]], list[LoggedEvent]]:
    """For an explanation of ``branch``: per month its entries, voids and corrections up to
    ``position`` (``adapters/exports/explanations.py`` picks the kinds), and the appeals
    filed or decided against those entries up to ``position``. Read by the branch's code in
    the months' payloads and by the entries' appeal aggregates, not by a scan of the log."""
    from domain.ids import appeals_id
    reader = LogReader(engine)
    found = reader.containing([f'"{branch}"'], [month_id(m) for m in months], [])
    names = {month_id(m): m for m in months}
    by_month: dict[str, list[LoggedEvent]] = {m: [] for m in months}
    entries: set[UUID] = set()
    for e in found:
        if (position is None or e.position <= position) and e.raw.get("branch") == branch:
            by_month[names[e.aggregate_id]].append(e)
            entry = e.data.get("entry_id")
            if isinstance(entry, UUID):
                entries.add(entry)
    appeals = list(reader.events(upto=position, aggregate_ids=sorted(appeals_id(x) for x in entries))) \
        if entries else []
    return by_month, appeals


def events_after(engine: Engine, months: list[str], after: int, upto: int) -> list[LoggedEvent]:
    """The months' events logged after position ``after`` up to ``upto``, in log order."""
    return list(LogReader(engine).events(after=after, upto=upto, aggregate_ids=[month_id(m) for m in months]))
