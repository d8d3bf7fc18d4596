"""1+N links (党员"1+N") as folded from ``BranchLinks``, people and rulebook events.

The view of a branch in a month lists every party member of the branch that month with the
employees linked to them, their N (the group's own N, else the rulebook's
``link_quota_default``) and a flag: ``under`` (fewer than N), ``over`` (more), ``ok``.
A link counts only while both ends are still where the link put them: a member of the
branch and a non-member employee of the branch that month; otherwise it is listed as stale
(the person transferred, left or was admitted to the party) and not counted.
"""
from __future__ import annotations

from typing import Any

from domain.integrity.log import LoggedEvent
from domain.members.links import quota_in
from domain.members.people import EMPLOYEE, MEMBER
from projections.org_fold import OrgFold

UNDER, OVER, OK = "under", "over", "ok"  # 不足 N / 超过 N / 达标


class LinksModel(OrgFold):
    """``links[branch][employee] = [[member, from, until]]``; ``quotas[branch][group] =
    [[from, n]]``; ``months[branch]`` the months the branch's link events name."""

    TOPICS = ("BranchLinks", "Person", "BranchRoster", "Organization")

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, dict[str, list[list[str | None]]]] = {}
        self.quotas: dict[str, dict[str, list[list[Any]]]] = {}
        self.months: dict[str, set[str]] = {}
        self._branch: dict[Any, str] = {}  # aggregate id → branch

    def on_BranchLinks_Opened(self, e: LoggedEvent) -> None:
        branch = e.raw["branch"]
        self._branch[e.aggregate_id] = branch
        self.links.setdefault(branch, {})
        self.quotas.setdefault(branch, {})
        self.months.setdefault(branch, set())

    def on_BranchLinks_EmployeeLinked(self, e: LoggedEvent) -> None:
        branch = self._branch[e.aggregate_id]
        self.links[branch].setdefault(e.raw["employee"], []).append([e.raw["member"], e.raw["from_month"], None])
        self.months[branch].add(e.raw["from_month"])

    def on_BranchLinks_EmployeeUnlinked(self, e: LoggedEvent) -> None:
        branch = self._branch[e.aggregate_id]
        self.links[branch][e.raw["employee"]][-1][2] = e.raw["from_month"]
        self.months[branch].add(e.raw["from_month"])

    def on_BranchLinks_QuotaSet(self, e: LoggedEvent) -> None:
        branch = self._branch[e.aggregate_id]
        self.quotas[branch].setdefault(e.raw["group"], []).append([e.raw["from_month"], e.raw["n"]])
        self.months[branch].add(e.raw["from_month"])

    # -- questions ---------------------------------------------------------------------
    def latest_month(self, branch: str) -> str | None:
        """The latest month the branch's links or its people's records name (the view's
        default: every link and placement is open-ended, so it shows the state now)."""
        months = set(self.months.get(branch, ()))
        for p in self.people.persons.values():
            if any(row[1] == branch for row in p["history"]):
                months.update(row[0] for row in p["history"])
                if p["left"] is not None:
                    months.add(p["left"])
        return max(months, default=None)

    def links_in(self, branch: str, month: str) -> list[tuple[str, str, str]]:
        """``(employee, member, from)`` of the branch's links in force in ``month``."""
        out: list[tuple[str, str, str]] = []
        for employee, spans in sorted(self.links.get(branch, {}).items()):
            for member, start, until in spans:  # member and start are always set
                if member is not None and start is not None and start <= month and (until is None or month < until):
                    out.append((employee, member, start))
        return out


def links_json(model: LinksModel, branch: str, month: str) -> dict[str, Any]:
    """The branch's members in ``month`` with their links, N and flag (see module doc)."""
    default_n = model.rulebook_in(month).link_quota_default
    quotas = model.quotas.get(branch, {})
    members = {r["person"]: r for r in model.people.people_in(branch, month, MEMBER)}
    employees = {r["person"]: r for r in model.people.people_in(branch, month, EMPLOYEE)}
    linked: dict[str, list[dict[str, Any]]] = {m: [] for m in members}
    stale = []
    for employee, member, start in model.links_in(branch, month):
        why = None
        if member not in members:
            why = "党员已不在本支部"
        elif employee not in employees:
            why = "职工已不在本支部或已入党"
        if why is None:
            linked[member].append({"employee": employee, "name": employees[employee]["name"], "from": start})
        else:
            stale.append({"employee": employee, "member": member, "from": start, "why": why})
    rows = []
    for code, m in members.items():
        n = quota_in(quotas.get(m["group"] or ""), month, default_n) if m["group"] else default_n
        count = len(linked[code])
        flag = UNDER if count < n else OVER if count > n else OK
        rows.append({"member": code, "name": m["name"], "group": m["group"], "n": n, "count": count,
                     "flag": flag, "linked": linked[code]})
    covered = {e["employee"] for r in rows for e in r["linked"]}
    return {
        "branch": branch, "month": month, "default_n": default_n,
        "quotas": {g: quota_in(q, month, default_n) for g, q in sorted(quotas.items())
                   if any(start <= month for start, _ in q)},
        "members": rows, "stale": stale,
        "summary": {"members": len(rows), "under": sum(r["flag"] == UNDER for r in rows),
                    "over": sum(r["flag"] == OVER for r in rows), "ok": sum(r["flag"] == OK for r in rows),
                    "employees": len(employees), "linked_employees": len(covered),
                    "unlinked_employees": len(employees) - len(covered)},
    }
