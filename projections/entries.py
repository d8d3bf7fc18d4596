"""A month's score entries as rows (``ledger entries``, ``GET /entries``): who recorded
what, when, why, and how (acting user, migrated or not, the original document's date)."""
from __future__ import annotations

from typing import Any, Iterable

from domain.asof import SHANGHAI
from domain.log import LoggedEvent, provenance


def entry_rows(events: Iterable[LoggedEvent], period: str, branch: str | None = None) -> list[dict[str, Any]]:
    """One row per ``ScoreRecorded`` event of ``period`` (of ``branch`` only, if given), in
    log order. Precondition: ``events`` are the month's ``ScoreRecorded`` events."""
    rows = []
    for e in events:
        d = e.data
        if branch is not None and d["branch"] != branch:
            continue
        rows.append({"entry_id": str(d["entry_id"]), "key": d["key"], "position": e.position,
                     "branch": d["branch"], "period": period, "category": d["category"],
                     "points": str(d["points"]), "department": d["department"], "actor": d["actor"],
                     "reason": d["reason"], "recorded_at": e.recorded_at.astimezone(SHANGHAI).isoformat(),
                     **provenance(e.raw)})
    return rows
