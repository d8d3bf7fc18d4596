"""Members and employees as folded from ``Person`` and ``BranchRoster`` events."""
from __future__ import annotations

from typing import Any

from domain.integrity.log import LoggedEvent
from domain.members.enrolment import count_in
from domain.members.people import CLASSES, EMPLOYEE, MEMBER
from projections.fold import Fold


class PeopleModel(Fold):
    """``persons[id] = {"name", "kind", "history": [[from, branch, group, class]], "left"}``;
    ``spans[branch][person] = [[from, until]]`` (members only)."""

    TOPICS = ("Person", "BranchRoster")

    def __init__(self) -> None:
        super().__init__()
        self.persons: dict[str, dict[str, Any]] = {}
        self.spans: dict[str, dict[str, list[list[str | None]]]] = {}
        self._by_id: dict[Any, str] = {}  # aggregate id → person id or branch code

    def on_Person_Registered(self, e: LoggedEvent) -> None:
        d = e.raw
        self.persons[d["person"]] = {"name": d["name"], "kind": d["kind"], "left": None,
                                     "history": [[d["from_month"], d["branch"], d["group"], d["member_class"]]]}

    def apply(self, event: LoggedEvent) -> None:
        if event.name == "Person.Registered":
            self._by_id[event.aggregate_id] = event.raw["person"]
        super().apply(event)

    def _record(self, e: LoggedEvent) -> dict[str, Any]:
        return self.persons[self._by_id[e.aggregate_id]]

    def on_Person_Admitted(self, e: LoggedEvent) -> None:
        p = self._record(e)
        p["kind"] = MEMBER
        p["history"].append([e.raw["from_month"], p["history"][-1][1], e.raw["group"], e.raw["member_class"]])

    def on_Person_ClassChanged(self, e: LoggedEvent) -> None:
        p = self._record(e)
        last = p["history"][-1]
        p["history"].append([e.raw["from_month"], last[1], last[2], e.raw["member_class"]])

    def on_Person_Transferred(self, e: LoggedEvent) -> None:
        p = self._record(e)
        p["history"].append([e.raw["from_month"], e.raw["branch"], e.raw["group"], p["history"][-1][3]])

    def on_Person_Left(self, e: LoggedEvent) -> None:
        self._record(e)["left"] = e.raw["from_month"]

    def on_BranchRoster_Opened(self, e: LoggedEvent) -> None:
        self._by_id[e.aggregate_id] = e.raw["branch"]
        self.spans.setdefault(e.raw["branch"], {})

    def on_BranchRoster_MemberJoined(self, e: LoggedEvent) -> None:
        self.spans[self._by_id[e.aggregate_id]].setdefault(e.raw["person"], []).append([e.raw["from_month"], None])

    def on_BranchRoster_MemberLeft(self, e: LoggedEvent) -> None:
        self.spans[self._by_id[e.aggregate_id]][e.raw["person"]][-1][1] = e.raw["from_month"]

    # -- questions ---------------------------------------------------------------------
    def placement(self, person: str, month: str) -> dict[str, Any] | None:
        """Where ``person`` stood in ``month``: branch, group, class, kind; None if not yet
        registered or already gone."""
        p = self.persons.get(person)
        if p is None or (p["left"] is not None and p["left"] <= month):
            return None
        current = None
        for row in p["history"]:
            if row[0] <= month:
                current = row
        if current is None:
            return None
        kind = MEMBER if current[3] is not None else EMPLOYEE
        return {"person": person, "name": p["name"], "kind": kind, "branch": current[1],
                "group": current[2], "class": current[3]}

    def people_in(self, branch: str | None, month: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Everyone placed in ``branch`` (all branches if None) in ``month``, by person id."""
        rows = [self.placement(p, month) for p in sorted(self.persons)]
        return [r for r in rows if r is not None and (branch is None or r["branch"] == branch)
                and (kind is None or r["kind"] == kind)]

    def member_count(self, branch: str, month: str) -> int | None:
        """Enrolments in force, or None if the branch has no enrolments."""
        spans = self.spans.get(branch)
        return None if not spans else count_in(spans, month)


def people_json(model: PeopleModel, branch: str | None, month: str) -> dict[str, Any]:
    rows = model.people_in(branch, month)
    for r in rows:
        r["class_name"] = CLASSES.get(r["class"] or "", None)
    return {"month": month, "branch": branch, "people": rows,
            "members": sum(1 for r in rows if r["kind"] == MEMBER),
            "employees": sum(1 for r in rows if r["kind"] == EMPLOYEE)}
