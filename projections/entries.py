"""A month's score entries as rows (``ledger entries``, ``GET /entries``): who recorded
what, when, why, and how (acting user, migrated or not, the original document's date), and
what each counts now — the same entry lines as the explanations (projections/explain.py):
points recorded, points now after corrections or a void, points counted after the caps,
state, changes and appeals."""
from __future__ import annotations

from typing import Any, Iterable

from domain.integrity.log import LoggedEvent
from projections.explain import entry_lines
from projections.model import AssessmentModel
from projections.views import month_basis


def entry_rows(model: AssessmentModel, events: Iterable[LoggedEvent], period: str, branch: str | None = None,
               appeals: Iterable[LoggedEvent] = ()) -> list[dict[str, Any]]:
    """One row per entry of ``period`` (of ``branch`` only, if given), in log order.

    Precondition: ``events`` are the month's ScoreRecorded, EntryCorrected and EntryVoided
    events and ``appeals`` the EntryAppeals events, both up to ``model.position``."""
    by_branch: dict[str, list[LoggedEvent]] = {}
    for e in events:
        b = e.raw["branch"]
        if branch is None or b == branch:
            by_branch.setdefault(b, []).append(e)
    _, _, rulebook = month_basis(model, period)
    appeals = list(appeals)
    rows = [{"branch": b, "period": period, **line}
            for b, recorded in by_branch.items() for line in entry_lines(rulebook, recorded, appeals)]
    return sorted(rows, key=lambda r: r["position"])
