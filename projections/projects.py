"""一年做成一件事 (one thing a year) as folded from ``Project`` events: per branch and year,
projects registered and completed, the completion rate, and each project's progress.

Completion rate = completed / registered × 100, a percentage with two decimals, half-up
(``None`` when nothing is registered). A project's progress = latest achieved value /
target × 100, two decimals, half-up (may exceed 100).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.integrity.log import LoggedEvent
from projections.fold import Fold

CENT = Decimal("0.01")


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part / whole × 100`` to two decimals, half-up; None if ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


class ProjectsModel(Fold):
    """``projects[id] = {"project", "branch", "member", "group", "year", "title", "unit",
    "target", "goal", "achieved", "readings": [[date, value, note]], "completed", "actor"}``."""

    TOPICS = ("Project",)

    def __init__(self) -> None:
        super().__init__()
        self.projects: dict[str, dict[str, Any]] = {}
        self._by_id: dict[Any, str] = {}

    def on_Project_Registered(self, e: LoggedEvent) -> None:
        d = e.data
        self._by_id[e.aggregate_id] = d["project"]
        self.projects[d["project"]] = {
            "project": d["project"], "branch": d["branch"], "member": d["member"], "group": d["group"],
            "year": d["year"], "title": d["title"], "unit": d["target_unit"], "target": d["target_value"],
            "goal": d["goal"], "achieved": None, "readings": [], "completed": None, "actor": d["actor"]}

    def _project(self, e: LoggedEvent) -> dict[str, Any]:
        return self.projects[self._by_id[e.aggregate_id]]

    def on_Project_ProgressRecorded(self, e: LoggedEvent) -> None:
        p = self._project(e)
        value = e.decimal("value")
        p["readings"].append([e.raw["date"], value, e.raw["note"]])
        p["achieved"] = value

    def on_Project_Completed(self, e: LoggedEvent) -> None:
        p = self._project(e)
        p["completed"] = e.raw["date"]
        p["achieved"] = e.decimal("achieved")

    def of_year(self, year: str, branch: str | None = None) -> list[dict[str, Any]]:
        return [p for _, p in sorted(self.projects.items())
                if p["year"] == year and (branch is None or p["branch"] == branch)]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _project_json(p: dict[str, Any]) -> dict[str, Any]:
    return {"project": p["project"], "title": p["title"], "member": p["member"], "group": p["group"],
            "goal": p["goal"], "unit": p["unit"], "target": str(p["target"]),
            "achieved": _money(p["achieved"]),
            "progress_percent": _money(percent(p["achieved"], p["target"]) if p["achieved"] is not None else None),
            "completed": p["completed"], "readings": len(p["readings"])}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = sum(1 for p in rows if p["completed"] is not None)
    return {"registered": len(rows), "completed": done,
            "completion_rate_percent": _money(percent(done, len(rows))),
            "members_owning": len({p["member"] for p in rows if p["member"]}),
            "groups_owning": len({p["group"] for p in rows if p["group"]})}


def projects_json(model: ProjectsModel, year: str, branch: str | None = None) -> dict[str, Any]:
    """Per branch (one branch if given): the summary and its projects; and the total."""
    rows = model.of_year(year, branch)
    by_branch: dict[str, list[dict[str, Any]]] = {}
    for p in rows:
        by_branch.setdefault(p["branch"], []).append(p)
    return {"year": year, "branch": branch,
            "branches": [{"branch": b, **_summary(ps), "projects": [_project_json(p) for p in ps]}
                         for b, ps in sorted(by_branch.items())],
            "total": _summary(rows)}
