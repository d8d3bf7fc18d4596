"""Justification: a branch's month or quarter derived from first principles.

Pure: the caller passes the fold and the month's ``ScoreRecorded`` events (as of the same
position). Each entry shows the points recorded and the points that counted after the
category's cap (deductions) or the month's bonus cap, in log order; the counted points
add up to the score minus the base, which the explanation checks before returning.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Container, Iterable, Mapping

from domain import vocabulary
from domain.asof import SHANGHAI
from domain.assessment.rulebook import BONUS, CATEGORY_NAMES, SECTION_NAMED, Rulebook
from domain.assessment.scoring import round2
from domain.integrity.log import LoggedEvent, provenance
from domain.periods import quarter_months
from projections.model import AssessmentModel
from projections.views import month_basis, month_view, quarter_rulebook, quarter_view

RULE_TEXT = vocabulary.RULE_TEXT


class ExplanationMismatch(RuntimeError):
    """An explanation whose counted points do not add up to the score it explains (a defect,
    never a user's error): raised rather than printed."""


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _at(e: LoggedEvent) -> str:
    return e.recorded_at.astimezone(SHANGHAI).isoformat()


def _corrections(recorded: list[LoggedEvent]) -> tuple[dict[str, Decimal | None], dict[str, list[dict[str, Any]]]]:
    """Points each entry counts now (None: voided), and the corrections and voids of each."""
    now: dict[str, Decimal | None] = {}
    changes: dict[str, list[dict[str, Any]]] = {}
    for e in recorded:
        entry = str(e.data["entry_id"])
        if e.name.endswith("ScoreRecorded"):
            now[entry] = e.decimal("points")
            continue
        voided = e.name.endswith("EntryVoided")
        now[entry] = None if voided else e.decimal("new_points")
        changes.setdefault(entry, []).append({
            "kind": "voided" if voided else "corrected", "position": e.position,
            "recorded_at": _at(e), "actor": e.data["actor"],
            "reason": e.data["reason"], "points": None if voided else str(e.decimal("new_points")),
            "cause": e.data.get("cause"), "appeal_id": _s(e.data.get("appeal_id")), **provenance(e.raw)})
    return now, changes


def _appeals_cited(appeals: Iterable[LoggedEvent], entry_ids: set[str]) -> list[dict[str, Any]]:
    """The filings against these entries and the decisions on them, in log order."""
    cited = [{"event": a.name.rpartition(".")[2], "position": a.position, "appeal_id": str(a.data["appeal_id"]),
              "entry_id": str(a.data.get("entry_id", "")) or None, "decision": a.data.get("decision"),
              "points": _s(a.data.get("points")), "reason": a.data["reason"], "actor": a.data["actor"],
              "recorded_at": _at(a), **provenance(a.raw)}
             for a in appeals if a.name == "EntryAppeals.Decided" or str(a.data.get("entry_id")) in entry_ids]
    filed = {c["appeal_id"] for c in cited if c["event"] == "Filed"}
    return [c for c in cited if c["appeal_id"] in filed]


def appeals_by_entry(cited: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each entry's appeals (from :func:`_appeals_cited`), one dict per appeal: its filing
    and, once decided, its decision; ``state`` is ``open``, ``upheld`` or ``rejected``."""
    by_id: dict[str, dict[str, Any]] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for c in cited:
        step = {k: c[k] for k in c if k not in ("event", "appeal_id", "entry_id", "decision", "points")}
        if c["event"] == "Filed":
            appeal = by_id[c["appeal_id"]] = {"appeal_id": c["appeal_id"], "state": "open", "filed": step,
                                              "decided": None, "points": None}
            out.setdefault(str(c["entry_id"]), []).append(appeal)
        elif c["appeal_id"] in by_id:
            appeal = by_id[c["appeal_id"]]
            appeal.update(state=c["decision"], decided=step, points=c["points"])
    return out


def entry_lines(rulebook: Rulebook, recorded: Iterable[LoggedEvent],
                appeals: Iterable[LoggedEvent] = ()) -> list[dict[str, Any]]:
    """One branch-month's entries as explained: per entry the points recorded (``points``),
    the points it carries now after corrections (``current_points``, None once voided), the
    points that count toward the score after the caps (``counted_points``), its ``state``
    (``recorded``, ``corrected``, ``voided``), its corrections and voids (``changes``) and its
    appeals, open ones included (``appeals``).

    Precondition: ``recorded`` are one branch's ScoreRecorded, EntryCorrected and EntryVoided
    events of one month in log order, ``appeals`` EntryAppeals events, both up to one position.
    Caps are applied in log order: the entries recorded first count first.
    """
    recorded = list(recorded)
    now, changes = _corrections(recorded)
    used: dict[str, Decimal] = {}
    rows = []
    for e in recorded:
        if not e.name.endswith("ScoreRecorded"):
            continue
        d, entry = e.data, str(e.data["entry_id"])
        category, points = e.raw["category"], e.decimal("points")
        current = now[entry]
        counts = current if current is not None else Decimal(0)
        so_far = used.get(category, Decimal(0))
        if category == BONUS:
            counted = max(Decimal(0), min(counts, rulebook.bonus_cap - so_far))
            note = f"本月加分上限 {rulebook.bonus_cap}"
        else:
            cap = rulebook.category_points.get(category, Decimal(0))
            counted = -max(Decimal(0), min(-counts, cap - so_far))
            note = f"{CATEGORY_NAMES.get(category, category)}本类扣分上限 {cap}"
        used[category] = so_far + abs(counted)
        state = "voided" if now[entry] is None else "corrected" if changes.get(entry) else "recorded"
        rows.append({"entry_id": entry, "key": d["key"], "position": e.position,
                     "recorded_at": _at(e), "category": category,
                     "points": str(points), "current_points": _s(now[entry]),
                     "counted_points": str(round2(counted)), "state": state,
                     "cap": note if counted != counts else None, "changes": changes.get(entry, []),
                     "department": d["department"], "actor": d["actor"], "reason": d["reason"],
                     **provenance(e.raw)})
    per_entry = appeals_by_entry(_appeals_cited(appeals, {r["entry_id"] for r in rows}))
    for r in rows:
        r["appeals"] = per_entry.get(r["entry_id"], [])
    return rows


def counted_total(rows: Iterable[Mapping[str, Any]]) -> Decimal:
    """The sum of the entries' counted points."""
    return sum((Decimal(r["counted_points"]) for r in rows), Decimal(0))


def check_adds_up(explained: Mapping[str, Any]) -> None:
    """Raise :class:`ExplanationMismatch` unless a month's base plus its entries' counted
    points is its score. Every surface (CLI, HTTP, web, Excel, the demo) shows an explanation
    only after this check."""
    total = counted_total(explained["entries"])
    if Decimal(explained["counted_total"]) != total or \
            round2(Decimal(explained["base"]) + total) != Decimal(explained["score"]):
        raise ExplanationMismatch(f"{explained['period']} 支部 {explained['branch']} 的说明不相符：基础分 "
                                  f"{explained['base']} + 计入合计 {total} ≠ 得分 {explained['score']}")


def explain_month(model: AssessmentModel, period: str, branch: str, entries: Iterable[LoggedEvent],
                  appeals: Iterable[LoggedEvent] = ()) -> dict[str, Any]:
    """Precondition: ``entries`` are the month's ScoreRecorded, EntryCorrected and EntryVoided
    events, ``appeals`` the EntryAppeals events, both up to the model's position.
    ``KeyError`` if the branch does not take part in the month."""
    status, results = month_view(model, period)
    result = next((r for r in results if r.branch == branch), None)
    if result is None:
        raise KeyError(f"支部 {branch} 不参加 {period} 的考核")
    _, _, rulebook = month_basis(model, period)
    appeals = list(appeals)
    rows = entry_lines(rulebook, [e for e in entries if e.raw.get("branch") == branch], appeals)
    used = {r["category"] for r in rows}
    s = result.secretary
    explained = {
        "period": period, "branch": branch, "status": status, "base": str(rulebook.base_score),
        "score": _s(result.score), "counted_total": str(round2(counted_total(rows))),
        "mode": result.mode, "coefficient": _s(result.coefficient),
        "allowance": _s(result.allowance), "secretary": None if s is None else s.name,
        "allowance_base": _s(None if s is None else s.allowance),
        "rulebook": {"version": rulebook.version, "digest": rulebook.digest(),
                     "parameters": _used_parameters(rulebook.to_parameters(), used)},
        "entries": rows, "open_appeals": sum(1 for r in rows for a in r["appeals"] if a["state"] == "open"),
        "appeals": _appeals_cited(appeals, {r["entry_id"] for r in rows})}
    check_adds_up(explained)
    return explained


def _used_parameters(params: Mapping[str, Any], used: Container[str]) -> dict[str, Any]:
    """The month's rulebook parameters an explanation cites: the fixed ones, and the
    category points of the categories in ``used``."""
    keep = ("base_score", "bonus_cap", "coefficient_places", "part_time_allowance_floor")
    out = {k: params[k] for k in keep}
    out["category_points"] = {c: p for c, p in params["category_points"].items() if c in used}
    return out


def explain_quarter(model: AssessmentModel, period: str, branch: str,
                    entries_by_month: Mapping[str, Iterable[LoggedEvent]],
                    appeals: Iterable[LoggedEvent] = ()) -> dict[str, Any]:
    status, rows = quarter_view(model, period)
    row = next((r for r in rows if r.branch == branch), None)
    if row is None:
        raise KeyError(f"支部 {branch} 不参加 {period} 的评比")
    rulebook = quarter_rulebook(model, period)
    appeals = list(appeals)
    months = [explain_month(model, m, branch, entries_by_month.get(m, ()), appeals) for m in quarter_months(period)]
    params = rulebook.to_parameters()
    last = max(r.rank for r in rows)
    return {"period": period, "branch": branch, "status": status, "score": _s(row.score), "rank": row.rank,
            "of": len(rows), "last_rank": last, "award": _s(row.award), "fine": _s(row.fine),
            "mean_of": [m["score"] for m in months],
            "rulebook": {"version": rulebook.version, "digest": rulebook.digest(),
                         "parameters": {k: params[k] for k in SECTION_NAMED["quarter"].parameters}},
            "rules": [{"rule": n, "text": RULE_TEXT.get(n, n)} for n in row.notes],
            "ranking": [{"branch": r.branch, "score": _s(r.score), "rank": r.rank} for r in rows],
            "months": months}


def explain_year(model: AssessmentModel, year: str, branch: str) -> dict[str, Any]:
    """The annual score from its three inputs and the weights, the rank and the quotas."""
    from domain.periods import month_range
    from projections.annual import year_view
    from projections.views import month_scores
    status, version, rows = year_view(model, year)
    row = next((r for r in rows if r.branch == branch), None)
    if row is None:
        raise KeyError(f"支部 {branch} 不参加 {year} 年度总评")
    months = month_range(f"{year}-01", 12)
    rulebook = model.rulebook(months[-1], version)
    p = rulebook.to_parameters()
    return {"period": year, "branch": branch, "status": status,
            "months": [{"period": m, "score": _s(month_scores(model, m)[branch])} for m in months],
            "monthly_mean": _s(row.monthly_mean), "unit_score": _s(row.unit_score),
            "debriefing_score": _s(row.debriefing_score),
            "weights": {k: p[k] for k in ("annual_weight_monthly", "annual_weight_unit", "annual_weight_debriefing")},
            "score": _s(row.score), "rank": row.rank, "award": _s(row.award), "fine": _s(row.fine),
            "members": row.members, "development_quota": row.development_quota,
            "excellent_member_quota": row.excellent_member_quota, "quota_year": str(int(year) + 1),
            "rules": list(row.notes),
            "rulebook": {"version": rulebook.version, "digest": rulebook.digest(),
                         "parameters": {k: p[k] for k in p if k.startswith(("annual_", "development_", "excellent_",
                                                                            "first_place_", "last_place_"))}}}
