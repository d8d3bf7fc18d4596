"""创新创效 (innovation) as folded from ``Proposal`` and ``InnovationAccount`` events.

Per person: proposals and their reward money (the reward each proposal recorded), points
awarded, the cumulative account and the pay-grade steps it gives. With a year, proposals,
money and points are those dated in the year, ``total_points`` the account at the year's end
and ``new_grade_steps`` the steps gained in the year; with a branch, proposals, money and
points are those recorded for that branch (the account stays the person's whole account).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.integrity.log import LoggedEvent
from domain.members.innovation import grade_steps
from projections.org_fold import OrgFold

ZERO = Decimal("0.00")


class InnovationModel(OrgFold):
    """``proposals = [{"proposal", "branch", "person", "title", "date", "reward"}]``;
    ``awards = [{"person", "branch", "points", "reason", "date", "proposal"}]``."""

    TOPICS = ("Proposal", "InnovationAccount", "Person", "Organization")

    def __init__(self) -> None:
        super().__init__()
        self.proposals: list[dict[str, Any]] = []
        self.awards: list[dict[str, Any]] = []
        self._person: dict[Any, str] = {}  # account aggregate id → person

    def on_Proposal_Submitted(self, e: LoggedEvent) -> None:
        d = e.raw
        self.proposals.append({"proposal": d["proposal"], "branch": d["branch"], "person": d["person"],
                               "title": d["title"], "date": d["date"], "reward": e.decimal("reward")})

    def on_InnovationAccount_Opened(self, e: LoggedEvent) -> None:
        self._person[e.aggregate_id] = e.raw["person"]

    def on_InnovationAccount_PointsAwarded(self, e: LoggedEvent) -> None:
        d = e.raw
        self.awards.append({"person": self._person[e.aggregate_id], "branch": d["branch"],
                            "points": e.decimal("points"), "reason": d["reason"], "date": d["date"],
                            "proposal": d["proposal"]})


def innovation_json(model: InnovationModel, year: str | None = None, branch: str | None = None) -> dict[str, Any]:
    """Rows per person (see module doc), by person id; totals of the rows."""
    end = f"{year}-12-31" if year else "9999-12-31"
    start = f"{year}-01-01" if year else "0000-01-01"
    per_grade = model.rulebook_in(end[:7]).points_per_grade

    def chosen(r: dict[str, Any]) -> bool:
        return start <= r["date"] <= end and (branch is None or r["branch"] == branch)

    rows: dict[str, dict[str, Any]] = {}

    def row(person: str, where: str) -> dict[str, Any]:
        if person not in rows:
            p = model.people.persons.get(person)
            rows[person] = {"person": person, "name": p["name"] if p else None, "branch": where,
                            "proposals": 0, "reward": ZERO, "points": ZERO}
        rows[person]["branch"] = where
        return rows[person]

    for r in sorted(model.proposals, key=lambda r: r["date"]):
        if chosen(r):
            x = row(r["person"], r["branch"])
            x["proposals"] += 1
            x["reward"] += r["reward"]
    for r in sorted(model.awards, key=lambda r: r["date"]):
        if chosen(r):
            row(r["person"], r["branch"])["points"] += r["points"]
    totals: dict[str, Decimal] = {}  # the account at the end, and before the start, of the period
    befores: dict[str, Decimal] = {}
    for a in model.awards:
        if a["person"] in rows and a["date"] <= end:
            totals[a["person"]] = totals.get(a["person"], ZERO) + a["points"]
            if a["date"] < start:
                befores[a["person"]] = befores.get(a["person"], ZERO) + a["points"]
    out = []
    for person, x in sorted(rows.items()):
        total, before = totals.get(person, ZERO), befores.get(person, ZERO)
        steps = grade_steps(total, per_grade)
        out.append({**x, "reward": str(x["reward"]), "points": str(x["points"]), "total_points": str(total),
                    "grade_steps": steps, "new_grade_steps": steps - grade_steps(before, per_grade)})
    return {"year": year, "branch": branch, "points_per_grade": per_grade, "people": out,
            "totals": {"people": len(out), "proposals": sum(x["proposals"] for x in out),
                       "reward": str(sum((Decimal(x["reward"]) for x in out), ZERO)),
                       "points": str(sum((Decimal(x["points"]) for x in out), ZERO)),
                       "new_grade_steps": sum(x["new_grade_steps"] for x in out)}}
