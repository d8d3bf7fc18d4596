"""What a rulebook version not yet adopted would change: the quarter it would take effect in,
ranked under the rulebook as it is and under the proposed one (the latest version's
parameters with the changes over them, as ``Organization.adopt_version`` merges them).

Pure: the assessment model is not changed (a shallow copy carries the proposed version).
"""
from __future__ import annotations

import copy
from typing import Any

from domain.assessment.rulebook import Rulebook
from domain.errors import InvalidInput
from domain.periods import quarter_of
from projections.model import AssessmentModel
from projections.views import quarter_json

LINE = ("score", "rank", "award", "fine")


def preview_rulebook(model: AssessmentModel, version: int, from_month: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The quarter of ``from_month`` now and with version ``version`` (``changes`` over the
    latest version) in force from ``from_month``: each branch's score, rank, award and fine,
    and whether it moves. :class:`InvalidInput` for parameters the rulebook refuses.

    Precondition: ``from_month`` is a valid month and a rulebook version exists."""
    books = model.org["rulebooks"]
    latest = max(int(v) for v in books)
    merged = {**books[str(latest)][1], **changes}
    try:
        proposed = Rulebook.from_parameters(version, merged)
    except (ValueError, TypeError, ArithmeticError, AttributeError) as e:
        raise InvalidInput(f"考核细则参数无效：{e}", "parameters") from None
    quarter = quarter_of(from_month)
    with_it = copy.copy(model)
    with_it.org = {**model.org, "rulebooks": {**books, str(version): [from_month, proposed.to_parameters()]}}
    now, then = quarter_json(model, quarter), quarter_json(with_it, quarter)
    before = {b["branch"]: b for b in now["branches"]}
    after = {b["branch"]: b for b in then["branches"]}
    rows = []
    for code in sorted(set(before) | set(after), key=lambda b: (after.get(b, {}).get("rank") or 10**9, b)):
        a, b = before.get(code), after.get(code)
        rows.append({"branch": code, "name": (b or a or {}).get("name"),
                     "now": {k: a[k] for k in LINE} if a else None, "proposed": {k: b[k] for k in LINE} if b else None,
                     "moves": (a and {k: a[k] for k in LINE}) != (b and {k: b[k] for k in LINE})})
    changed = sorted(k for k in changes if books[str(latest)][1].get(k) != proposed.to_parameters().get(k))
    return {"quarter": quarter, "status": now["status"], "version": version, "from": from_month,
            "latest_version": latest, "changed_parameters": changed, "branches": rows}
