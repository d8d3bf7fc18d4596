"""Month and quarter read models, computed from the fold with the domain's arithmetic.

An approved month shows its score from the current sums (later corrections will move it)
but its frozen inputs: the branches, the secretary in office and his terms, and the
rulebook version it was approved under. Rows are plain data; ``to_json`` renders the
``--json`` contract (decimals as strings).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping

from domain.assessment.annual import combined_score
from domain.assessment.in_force import ranked_throughout
from domain.assessment.results import MonthlyResult, QuarterRow, frozen_secretary, month_results, quarter_ranking
from domain.assessment.rulebook import Rulebook
from domain.assessment.scoring import (
    Secretary,
    cents_text,
    mean_cents,
    monthly_cents_of,
    monthly_score_cents,
    placings,
    quarter_terms,
)
from domain.errors import LedgerError
from domain.periods import quarter_months, quarter_of
from projections.model import FOLD_ERRORS, ORG, AssessmentModel


def month_basis(model: AssessmentModel, period: str) -> tuple[str, list[str], Rulebook]:
    """Status, taking-part branches and rulebook of a month (frozen once approved)."""
    month = model.months.get(period)
    if month is not None and month.approval is not None:
        branches = [r["branch"] for r in month.approval["results"]]
        return "approved", branches, model.rulebook(period, month.approval["rulebook_version"])
    status = month.status if month is not None else "draft"
    return status, model.taking_part(period), model.rulebook(period)


def month_secretaries(model: AssessmentModel, period: str, branches: list[str]) -> dict[str, Secretary | None]:
    """The secretary in office per branch: as frozen by the approval, else as appointed."""
    month = model.months.get(period)
    if month is not None and month.approval is not None:
        return {r["branch"]: frozen_secretary(r) for r in month.approval["results"]}
    return {b: model.secretary_in(b, period) for b in branches}


def month_view(model: AssessmentModel, period: str) -> tuple[str, list[MonthlyResult]]:
    """(status, results sorted by branch code). Precondition: a rulebook exists."""
    status, branches, rulebook = month_basis(model, period)
    month = model.months.get(period)
    sums = month.sums if month is not None else {}
    return status, month_results(branches, sums, month_secretaries(model, period, branches), rulebook)


def month_scores(model: AssessmentModel, period: str) -> dict[str, Decimal]:
    """Scores of the branches taking part in a month."""
    _, branches, rulebook = month_basis(model, period)
    month = model.months.get(period)
    sums = month.sums if month is not None else {}
    empty: dict[str, int] = {}
    return {b: monthly_score_cents(sums.get(b, empty), rulebook) for b in branches}


def quarter_rulebook(model: AssessmentModel, period: str) -> Rulebook:
    """The version the quarter is ranked under: as approved, else in force in its first month."""
    approved = model.quarters.get(period)
    return model.rulebook(quarter_months(period)[0], approved["rulebook_version"] if approved else None)


def quarter_view(model: AssessmentModel, period: str) -> tuple[str, list[QuarterRow]]:
    """(status, ranking rows by rank then code) from the months as they stand now."""
    months = quarter_months(period)
    per_month = [month_scores(model, m) for m in months]
    taking_part = ranked_throughout(model.taking_part(months[0]), per_month)
    scores = {b: {m: per_month[i][b] for i, m in enumerate(months)} for b in taking_part}
    last = month_secretaries(model, months[2], taking_part)
    secretaries = {b: last[b] for b in taking_part}
    status = "approved" if period in model.quarters else "draft"
    return status, quarter_ranking(scores, secretaries, quarter_rulebook(model, period))


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def month_json(model: AssessmentModel, period: str) -> dict[str, Any]:
    status, results = month_view(model, period)
    _, _, rulebook = month_basis(model, period)
    month = model.months.get(period)
    business = month.business if month is not None else {}
    rows = []
    for r in results:
        b = business.get(r.branch)
        combined = None if b is None else combined_score(r.score, Decimal(b), rulebook)
        rows.append({"branch": r.branch, "name": model.branches[r.branch]["name"], "score": _s(r.score),
                     "mode": r.mode, "coefficient": _s(r.coefficient), "allowance": _s(r.allowance),
                     "secretary": r.secretary.name if r.secretary else None,
                     "business": b, "combined": _s(combined)})
    if month is not None and month.approval is not None:
        approved = {r["branch"]: r["score"] for r in month.approval["results"]}
        for row in rows:
            row["changed_since_approval"] = approved.get(row["branch"]) != row["score"]
    return {"period": period, "status": status, "rulebook_version": rulebook.version,
            "dual_formula": rulebook.dual_formula, "branches": rows,
            "approval": approval_provenance(None if month is None else month.approval)}


def approval_provenance(approval: dict[str, Any] | None) -> dict[str, Any] | None:
    """Who approved (document name and acting user), where in the log, migrated or not."""
    if approval is None:
        return None
    return {k: approval.get(k) for k in ("actor", "by", "migrated", "occurred_at", "position")}


def month_cents(model: AssessmentModel, period: str) -> dict[str, int]:
    """``month_scores`` in integer cents (the quarter's hot loop: no Decimal per branch)."""
    _, branches, rulebook = month_basis(model, period)
    month = model.months.get(period)
    return monthly_cents_of(month.sums if month is not None else {}, branches, rulebook)


def _last_month_people(model: AssessmentModel, period: str, branches: list[str]) -> dict[str, tuple[str, str] | None]:
    """(name, mode) of the secretary ``month_secretaries`` gives, without building one."""
    month = model.months.get(period)
    if month is not None and month.approval is not None:
        frozen = {r["branch"]: r for r in month.approval["results"]}
        out: dict[str, tuple[str, str] | None] = {}
        for b in branches:
            r = frozen.get(b)
            out[b] = None if r is None or r["mode"] is None else (r["secretary"], r["mode"])
        return out
    people = month_secretaries(model, period, branches)
    return {b: None if s is None else (s.name, s.mode) for b, s in people.items()}


class _FrozenPeople(Mapping[str, Secretary | None]):
    """The secretaries ``placings`` asks for (only those at the last rank), built on demand
    from ``_last_month_people``'s (name, mode) pairs."""

    def __init__(self, people: dict[str, tuple[str, str] | None]) -> None:
        self.people = people

    def __getitem__(self, branch: str) -> Secretary | None:
        person = self.people[branch]
        return None if person is None else Secretary(person[0], person[1], None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.people)

    def __len__(self) -> int:
        return len(self.people)


def quarter_json(model: AssessmentModel, period: str) -> dict[str, Any]:
    """The ``--json`` ranking of a quarter: ``quarter_view``'s rows rendered, computed in
    integer cents (``monthly_scorer``, ``mean_cents``; ranks and the threshold compared in
    cents by the same ``placings``), Decimal text only at the edges. Identical to rendering
    ``quarter_view`` (tests/contract/test_properties.py compares them)."""
    months = quarter_months(period)
    first, second, third = per_month = [month_cents(model, m) for m in months]
    taking_part = ranked_throughout(model.taking_part(months[0]), per_month)
    people = _last_month_people(model, months[2], taking_part)
    cents = {b: mean_cents((first[b], second[b], third[b])) for b in taking_part}
    rulebook = quarter_rulebook(model, period)
    outcomes = placings(cents, _FrozenPeople(people), quarter_terms(rulebook).in_cents())
    # cents → text, once per value (scores repeat across branches); ints only: a Decimal
    # equal to an int would share its key yet print differently
    text = {c: cents_text(c) for c in {*first.values(), *second.values(), *third.values(), *cents.values()}}
    money: dict[int, str] = {}  # id of an award or fine → its text: placings shares one Decimal among
    # many rows (ZERO, the first's award); keyed by identity, not value, since equal Decimals may
    # print differently (3E+3); every one stays alive in ``outcomes`` meanwhile

    def yuan(value: Decimal) -> str:
        known = money.get(id(value))
        if known is None:
            known = money[id(value)] = str(value)
        return known
    branches = model.branches
    m0, m1, m2 = months
    rank = {b: o.rank for b, o in outcomes.items()}
    out = []
    for b in sorted(sorted(outcomes), key=rank.__getitem__):  # by rank, then code
        o, person = outcomes[b], people[b]
        out.append({"branch": b, "name": branches[b]["name"],
                    "months": {m0: text[first[b]], m1: text[second[b]], m2: text[third[b]]},
                    "score": text[cents[b]], "rank": o.rank, "award": yuan(o.award), "fine": yuan(o.fine),
                    "mode": None if person is None else person[1],
                    "secretary": None if person is None else person[0], "notes": list(o.notes)})
    approval = model.quarters.get(period)
    if approval is not None:
        approved = {r["branch"]: (r["score"], r["rank"], r["award"], r["fine"]) for r in approval["ranking"]}
        for row in out:
            row["changed_since_approval"] = approved.get(row["branch"]) != (row["score"], row["rank"],
                                                                             row["award"], row["fine"])
    return {"period": period, "status": "approved" if approval is not None else "draft",
            "rulebook_version": rulebook.version, "branches": out,
            "approval": approval_provenance(approval)}


# -- the rankings a maintained view stores beside its sections --------------------------------
SHOWN = "quarter-shown:"  # section name prefix: ``quarter_json`` of the quarter, as the view's position has it


def shown_names(model: AssessmentModel, dirty: set[str] | None = None) -> set[str]:
    """The stored rankings of ``model``: one per quarter with a month folded or an approval.
    With ``dirty`` (changed section names), only those whose inputs changed: ``quarter_json``
    reads the organization, the quarter's three months and the quarter, nothing else."""
    quarters = {quarter_of(m) for m in model.months} | set(model.quarters)
    if dirty is not None and ORG not in dirty:
        quarters = {q for q in quarters
                    if "quarter:" + q in dirty or any("month:" + m in dirty for m in quarter_months(q))}
    return {SHOWN + q for q in quarters}


def shown_section(model: AssessmentModel, name: str) -> dict[str, Any] | None:
    """The stored ranking ``name`` (a :func:`shown_names` name) of ``model``: the quarter's
    ``quarter_json``; None when it cannot be computed (no rulebook yet, a month the
    organization does not hold…): then none is stored and a read computes it and reports why."""
    try:
        return quarter_json(model, name[len(SHOWN):])
    except (LedgerError, *FOLD_ERRORS):
        return None


def stored_sections(model: AssessmentModel, names: Any) -> dict[str, Any]:
    """``name → body`` of the sections a view stores for ``names``: the fold's own
    (``model.section``) and the rankings (:func:`shown_section`; one that cannot be computed
    is left out)."""
    out: dict[str, Any] = {}
    for name in names:
        if name.startswith(SHOWN):
            body = shown_section(model, name)
            if body is not None:
                out[name] = body
        else:
            out[name] = model.section(name)
    return out

