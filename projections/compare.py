"""Approved vs now (diff) and what-if replays of a quarter: pure folds over a changed log.

``diff``: the quarter's ranking as approved (recorded in the approval) beside today's, and the
events after the approval that changed the quarter's months (corrections, voids, late
entries) for each branch whose line moved. ``whatif``: the same fold over the log without
some events (an entry and its corrections; an appeal's decision and the correction it
caused; any position) or with an entry counting other points. Nothing is written.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Iterator

from domain.log import LoggedEvent
from domain.periods import quarter_months
from projections.model import AssessmentModel
from projections.views import quarter_json

MONTH_CHANGES = ("AssessmentMonth.ScoreRecorded", "AssessmentMonth.EntryCorrected", "AssessmentMonth.EntryVoided")
LINE = ("score", "rank", "award", "fine")


def quarter_diff(model: AssessmentModel, period: str, events: Iterable[LoggedEvent]) -> dict[str, Any]:
    """Precondition: the quarter is approved in ``model``; ``events`` is the log the model folded."""
    approval = model.quarters[period]
    approved = {r["branch"]: {k: str(r[k]) if k != "rank" else r[k] for k in LINE} for r in approval["ranking"]}
    now = {b["branch"]: {k: b[k] for k in LINE} for b in quarter_json(model, period)["branches"]}
    months = set(quarter_months(period))
    causes: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e.position <= approval["position"] or e.name not in MONTH_CHANGES:
            continue
        if model.names.get(e.aggregate_id) not in months:
            continue
        d = e.data
        causes.setdefault(d["branch"], []).append({
            "position": e.position, "event": e.name.rpartition(".")[2], "entry_id": str(d["entry_id"]),
            "period": model.names[e.aggregate_id], "points": str(d.get("new_points", d.get("points"))),
            "appeal_id": None if d.get("appeal_id") is None else str(d["appeal_id"]),
            "actor": d["actor"], "reason": d["reason"]})
    rows = []
    for branch in sorted(set(approved) | set(now), key=lambda b: (now.get(b, {}).get("rank", 10**9), b)):
        a, n = approved.get(branch), now.get(branch)
        rows.append({"branch": branch, "approved": a, "now": n, "changed": a != n,
                     "causes": causes.get(branch, [])})
    return {"period": period, "approval_id": approval["approval_id"], "approved_at_position": approval["position"],
            "branches": rows}


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
    today = quarter_json(AssessmentModel().apply_all(events), period)
    replayed = quarter_json(AssessmentModel().apply_all(without(events, refs, points)), period)
    before = {b["branch"]: {k: b[k] for k in LINE} for b in today["branches"]}
    after = {b["branch"]: {k: b[k] for k in LINE} for b in replayed["branches"]}
    return {"period": period, "without": sorted(refs), "set": {k: str(v) for k, v in points.items()},
            "branches": [{"branch": b, "now": before.get(b), "whatif": after.get(b), "moves": before.get(b) != after.get(b)}
                         for b in sorted(set(before) | set(after), key=lambda b: (after.get(b, {}).get("rank", 10**9), b))]}
