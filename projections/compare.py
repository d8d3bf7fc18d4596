"""Approved vs now (diff) and what-if replays of a quarter: pure folds over a changed log.

``diff``: the quarter's ranking (or the year's results) as approved (recorded in the latest
approval) beside today's, and the events after the approval that changed the period's
months (corrections, voids, late entries) — for a year also the member counts its quotas
are computed from — for each branch. ``adjustments``: what a re-approval recorded. ``whatif``: the same fold over the log without
some events (an entry and its corrections; an appeal's decision and the correction it
caused; any position) or with an entry counting other points. Nothing is written.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Iterator

from domain.integrity.log import LoggedEvent
from domain.periods import month_range, quarter_months
from projections.annual import YEAR_LINE, year_json
from projections.model import AssessmentModel, plain
from projections.views import quarter_json

MONTH_CHANGES = ("AssessmentMonth.ScoreRecorded", "AssessmentMonth.EntryCorrected", "AssessmentMonth.EntryVoided")
MEMBER_CHANGES = ("Organization.MembersSet", "BranchRoster.MemberJoined", "BranchRoster.MemberLeft")
LINE = ("score", "rank", "award", "fine")


def _month_causes(model: AssessmentModel, months: set[str], after: int,
                  events: Iterable[LoggedEvent]) -> dict[str, list[dict[str, Any]]]:
    """Per branch, the entries, corrections and voids in ``months`` logged after ``after``."""
    causes: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e.position <= after or e.name not in MONTH_CHANGES:
            continue
        if model.names.get(e.aggregate_id) not in months:
            continue
        d = e.data
        causes.setdefault(d["branch"], []).append({
            "position": e.position, "event": e.name.rpartition(".")[2], "entry_id": str(d["entry_id"]),
            "period": model.names[e.aggregate_id], "points": str(d.get("new_points", d.get("points"))),
            "appeal_id": None if d.get("appeal_id") is None else str(d["appeal_id"]),
            "actor": d["actor"], "reason": d["reason"]})
    return causes


def quarter_diff(model: AssessmentModel, period: str, events: Iterable[LoggedEvent]) -> dict[str, Any]:
    """Precondition: the quarter is approved in ``model``; ``events`` is the log the model
    folded (in the replay's order), or only its months' events; the causes are those of
    them logged after the approval (it could not have counted them)."""
    approval = model.quarters[period]
    approved = {r["branch"]: {k: str(r[k]) if k != "rank" else r[k] for k in LINE} for r in approval["ranking"]}
    now = {b["branch"]: {k: b[k] for k in LINE} for b in quarter_json(model, period)["branches"]}
    causes = _month_causes(model, set(quarter_months(period)), approval["position"], events)
    return {"period": period, "approval_id": approval["approval_id"], "approved_at_position": approval["position"],
            "branches": _rows(approved, now, causes)}


def _rows(approved: dict[str, Any], now: dict[str, Any], causes: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for branch in sorted(set(approved) | set(now), key=lambda b: (now.get(b, {}).get("rank") or 10**9, b)):
        a, n = approved.get(branch), now.get(branch)
        rows.append({"branch": branch, "approved": a, "now": n, "changed": a != n,
                     "causes": causes.get(branch, [])})
    return rows


def year_diff(model: AssessmentModel, year: str, events: Iterable[LoggedEvent]) -> dict[str, Any]:
    """The year's results as last approved beside today's, with the causes: entries,
    corrections and voids of its twelve months, and member-count changes in force in its
    December (the quotas are computed from them), logged after the approval.

    Precondition: the year is approved in ``model``; ``events`` is the log the model folded."""
    approval = model.years[year]["approval"]
    approved = {r["branch"]: {k: r.get(k) for k in YEAR_LINE} for r in approval["results"]}
    now = {b["branch"]: {k: b[k] for k in YEAR_LINE} for b in year_json(model, year)["branches"]}
    events = list(events)
    causes = _month_causes(model, set(month_range(f"{year}-01", 12)), approval["position"], events)
    december = f"{year}-12"
    for e in events:
        if e.position <= approval["position"] or e.name not in MEMBER_CHANGES:
            continue
        d = e.raw
        if str(d.get("from_month") or "") > december:
            continue
        causes.setdefault(d["branch"], []).append({
            "position": e.position, "event": e.name.rpartition(".")[2], "entry_id": None,
            "period": d.get("from_month"), "points": None, "appeal_id": None,
            "members": d.get("members"), "person": plain(d.get("person")),
            "actor": d.get("actor"), "reason": d.get("reason")})
    for found in causes.values():
        found.sort(key=lambda c: c["position"])
    return {"period": year, "approval_id": approval["approval_id"], "approved_at_position": approval["position"],
            "branches": _rows(approved, now, causes)}


def adjustments(events: Iterable[LoggedEvent], approval_id: str) -> list[dict[str, Any]]:
    """The ``AmountAdjusted`` events a (re-)approval recorded, in log order: branch, kind
    (award, fine, development_quota, excellent_member_quota), previous, new, delta."""
    out = []
    for e in events:
        if not e.name.endswith(".AmountAdjusted") or str(e.data["approval_id"]) != str(approval_id):
            continue
        d = e.data
        out.append({"position": e.position, "branch": d["branch"], "kind": d["kind"],
                    "previous": str(d["previous"]), "new": str(d["amount"]), "delta": str(d["delta"]),
                    "secretary": d.get("secretary"), "rule": d.get("rule"), "for_year": d.get("for_year")})
    return out


def without(events: Iterable[LoggedEvent], refs: set[str], points: dict[str, Decimal]) -> Iterator[LoggedEvent]:
    """The log without the events ``refs`` names, and with ``points`` overriding entries.

    A ref is a log position, an entry id (the entry and its corrections and voids go), or an
    appeal id (its decision and the correction it caused go; the filing stays).
    """
    for e in events:
        raw = e.raw
        entry = _hex(raw.get("entry_id"))
        appeal = _hex(raw.get("appeal_id"))
        if str(e.position) in refs or (entry and entry in refs):
            continue
        if appeal and appeal in refs and e.name in ("EntryAppeals.Decided", "AssessmentMonth.EntryCorrected"):
            continue
        if entry and entry in points and e.name.startswith("AssessmentMonth."):
            if e.name != "AssessmentMonth.ScoreRecorded":
                continue  # the override stands for whatever corrections said
            raw = {**raw, "points": {"_type_": "decimal_str", "_data_": str(points[entry])}}
            e = LoggedEvent(e.position, e.recorded_at_us, e.aggregate_id, e.version, e.topic, raw)
        yield e


def _hex(value: Any) -> str | None:
    """A UUID as the transcoder tags it, as its canonical text (or None)."""
    if isinstance(value, dict) and value.get("_type_") == "uuid_hex":
        h = value["_data_"]
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return None


def quarter_whatif(events: list[LoggedEvent], period: str, refs: set[str],
                   points: dict[str, Decimal]) -> dict[str, Any]:
    """Today's quarter beside the quarter replayed without ``refs`` / with ``points``."""
    return whatif_rows(AssessmentModel().apply_all(events),
                       AssessmentModel().apply_all(without(events, refs, points)), period, refs, points)


def whatif_rows(today_model: AssessmentModel, replayed_model: AssessmentModel, period: str, refs: set[str],
                points: dict[str, Decimal]) -> dict[str, Any]:
    """The what-if of ``quarter_whatif`` from the two folds (today's, and the one without
    ``refs`` / with ``points``), however they were made (adapters/store/slices.py)."""
    today = quarter_json(today_model, period)
    replayed = quarter_json(replayed_model, period)
    before = {b["branch"]: {k: b[k] for k in LINE} for b in today["branches"]}
    after = {b["branch"]: {k: b[k] for k in LINE} for b in replayed["branches"]}
    return {"period": period, "without": sorted(refs), "set": {k: str(v) for k, v in points.items()},
            "branches": [{"branch": b, "now": before.get(b), "whatif": after.get(b), "moves": before.get(b) != after.get(b)}
                         for b in sorted(set(before) | set(after), key=lambda b: (after.get(b, {}).get("rank", 10**9), b))]}
