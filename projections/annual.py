"""The annual evaluation read model (每年一总评), from the fold and the domain's rules.

Live: the twelve months as they stand (draft months count with their current entries),
the inputs recorded so far, members in force in December, the December secretary, and
the rulebook in force in December — or, once approved, the version it was approved under.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.assessment.annual import AnnualRow, annual_ranking
from domain.assessment.in_force import ranked_throughout
from domain.periods import month_range
from projections.model import AssessmentModel
from projections.views import approval_provenance, month_scores, month_secretaries


def year_view(model: AssessmentModel, year: str) -> tuple[str, int, list[AnnualRow]]:
    """(status, rulebook version, rows by rank — unranked last — then code)."""
    months = month_range(f"{year}-01", 12)
    per_month = [month_scores(model, m) for m in months]
    taking_part = ranked_throughout(model.taking_part(months[0]), per_month)
    record = model.years.get(year) or {"unit": {}, "debriefing": {}, "approval": None}
    approval = record["approval"]
    rulebook = model.rulebook(months[-1], approval["rulebook_version"] if approval else None)
    december = month_secretaries(model, months[-1], taking_part)
    rows = annual_ranking(
        {b: [pm[b] for pm in per_month] for b in taking_part},
        {b: Decimal(v) for b, v in record["unit"].items() if b in taking_part},
        {b: Decimal(v) for b, v in record["debriefing"].items() if b in taking_part},
        {b: model.members_in(b, months[-1]) for b in taking_part},
        {b: december[b] for b in taking_part}, rulebook)
    return ("approved" if approval else "draft"), rulebook.version, rows


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


YEAR_LINE = ("monthly_mean", "score", "rank", "award", "fine", "development_quota", "excellent_member_quota")


def year_json(model: AssessmentModel, year: str) -> dict[str, Any]:
    """The ``--json`` contract; once approved, each row says whether it is ``changed_since_approval``
    (its mean, score, rank, award, fine or a quota differs from the latest approval's)."""
    status, version, rows = year_view(model, year)
    data: dict[str, Any] = {"period": year, "status": status, "rulebook_version": version,
            "quota_year": str(int(year) + 1), "branches": [
                {"branch": r.branch, "name": model.branches[r.branch]["name"],
                 "monthly_mean": _s(r.monthly_mean), "unit_score": _s(r.unit_score),
                 "debriefing_score": _s(r.debriefing_score), "score": _s(r.score), "rank": r.rank,
                 "award": _s(r.award), "fine": _s(r.fine), "development_quota": r.development_quota,
                 "excellent_member_quota": r.excellent_member_quota, "members": r.members,
                 "mode": r.secretary.mode if r.secretary else None,
                 "secretary": r.secretary.name if r.secretary else None, "notes": list(r.notes)}
                for r in rows],
            "member_warnings": model.member_count_warnings(f"{year}-12"),
            "approval": approval_provenance((model.years.get(year) or {}).get("approval"))}
    approval = (model.years.get(year) or {}).get("approval")
    if approval is not None:
        approved = {r["branch"]: tuple(r.get(k) for k in YEAR_LINE) for r in approval["results"]}
        for row in data["branches"]:
            row["changed_since_approval"] = approved.get(row["branch"]) != tuple(row[k] for k in YEAR_LINE)
    return data
