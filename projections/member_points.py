"""Party-member points (党员积分) as folded from ``MemberPoints`` events, with the people
and rulebook versions they are computed with.

Pure: the same fold serves ``ledger members show`` now, as of a moment (``--as-of``: the
fold of the events recorded by then — entries, voidings, placements and rulebook
versions alike) and the explanation of one member's total.

Who is listed for a year: every person who was a party member in at least one month of
it, with the branch, party group and class of the last such month (year end, or the month
before leaving); the rank is within that branch. The individual and appraisal parts are
the person's entries, whichever branch recorded them; the group part is, for each month
of the year, the entries of the party group the member was placed in that month.
"""
from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.assessment.rulebook import Rulebook
from domain.integrity.log import EPOCH, LoggedEvent
from domain.members.member_points import (
    APPRAISAL,
    GROUP_WORK,
    INDIVIDUAL,
    ITEM_NAMES,
    PART_NAMES,
    MemberTotal,
    member_total,
    ranks,
    year_rulebook_month,
)
from domain.members.people import CLASSES, MEMBER
from domain.periods import month_range
from projections.meetings import MeetingsModel, attendance_entries, attendance_json
from projections.org_fold import OrgFold

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
ZERO = Decimal("0.00")


class MemberPointsModel(OrgFold):
    """``entries[id]``: one dict per entry (kind, branch, year, person or group, month, item,
    points, reason, actor, key, recorded-at, position, ``voided``: None or who/when/why).
    Indexes: ``by_person[(person, year)]`` (individual and appraisal entries) and
    ``by_group[(branch, group, month)]``. ``people`` is the people fold; ``rulebooks[v] =
    (effective_from, parameters)``."""

    TOPICS = ("MemberPoints", "Person", "BranchRoster", "Organization", "Meeting")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[UUID, dict[str, Any]] = {}
        self.by_person: dict[tuple[str, str], list[UUID]] = {}
        self.by_group: dict[tuple[str, str, str], list[UUID]] = {}
        self._books: dict[UUID, tuple[str, str]] = {}  # aggregate id → (branch, year)
        self.meetings = MeetingsModel()  # attendance: the derived organizational-life entries

    def apply(self, event: LoggedEvent) -> None:
        if event.name.startswith("Meeting."):
            self.meetings.apply(event)
            self.position = event.position
        else:
            super().apply(event)

    def on_MemberPoints_Opened(self, e: LoggedEvent) -> None:
        self._books[e.aggregate_id] = (e.raw["branch"], e.raw["year"])

    def _entry(self, e: LoggedEvent, kind: str, month: str | None) -> dict[str, Any]:
        branch, year = self._books[e.aggregate_id]
        d = e.data
        entry = {"entry_id": d["entry_id"], "kind": kind, "branch": branch, "year": year, "month": month,
                 "person": d.get("person"), "group": d.get("group"), "item": d.get("item"),
                 "points": d["points"], "reason": d["reason"], "actor": d["actor"], "key": d["key"],
                 "recorded_at_us": e.recorded_at_us, "position": e.position, "voided": None}
        self.entries[d["entry_id"]] = entry
        return entry

    def on_MemberPoints_MemberPointsRecorded(self, e: LoggedEvent) -> None:
        entry = self._entry(e, INDIVIDUAL, e.raw["month"])
        self.by_person.setdefault((entry["person"], entry["year"]), []).append(entry["entry_id"])

    def on_MemberPoints_AppraisalRecorded(self, e: LoggedEvent) -> None:
        entry = self._entry(e, APPRAISAL, None)
        self.by_person.setdefault((entry["person"], entry["year"]), []).append(entry["entry_id"])

    def on_MemberPoints_GroupPointsRecorded(self, e: LoggedEvent) -> None:
        entry = self._entry(e, GROUP_WORK, e.raw["month"])
        self.by_group.setdefault((entry["branch"], entry["group"], entry["month"]), []).append(entry["entry_id"])

    def on_MemberPoints_EntryVoided(self, e: LoggedEvent) -> None:
        d = e.data
        self.entries[d["entry_id"]]["voided"] = {"reason": d["reason"], "actor": d["actor"], "key": d["key"],
                                                 "recorded_at_us": e.recorded_at_us, "position": e.position}

    # -- questions ---------------------------------------------------------------------
    def rulebook(self, year: str) -> Rulebook:
        """The version in force in December of ``year``."""
        return self.rulebook_in(year_rulebook_month(year))

    def member_months(self, person: str, year: str) -> list[tuple[str, dict[str, Any]]]:
        """(month, placement) for each month of ``year`` in which ``person`` is a member."""
        out = []
        for month in month_range(f"{year}-01", 12):
            placement = self.people.placement(person, month)
            if placement is not None and placement["kind"] == MEMBER:
                out.append((month, placement))
        return out

    def parts(self, person: str, year: str, months: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """Every entry (voided ones included) of each part of ``person``'s year."""
        out: dict[str, list[dict[str, Any]]] = {INDIVIDUAL: [], GROUP_WORK: [], APPRAISAL: []}
        for entry_id in self.by_person.get((person, year), ()):
            entry = self.entries[entry_id]
            out[entry["kind"]].append(entry)
        for month, placement in months:
            if placement["group"] is not None:
                for entry_id in self.by_group.get((placement["branch"], placement["group"], month), ()):
                    out[GROUP_WORK].append(self.entries[entry_id])
        for entries in out.values():
            entries.sort(key=lambda e: e["position"])
        return out


def _counted(entries: list[dict[str, Any]]) -> Decimal:
    return sum((e["points"] for e in entries if e["voided"] is None), ZERO)


def members_view(model: MemberPointsModel, year: str, branch: str | None = None
                 ) -> tuple[Rulebook, list[dict[str, Any]]]:
    """(rulebook, rows) for every member listed in ``year`` (in ``branch`` if given),
    by branch, rank, person id. Each row: the year-end placement, the three parts' entries
    (``entries``), the :class:`MemberTotal` (``result``) and ``rank`` within the branch."""
    rulebook = model.rulebook(year)
    rows: list[dict[str, Any]] = []
    for person in sorted(model.people.persons):
        months = model.member_months(person, year)
        if not months:
            continue
        last_month, placement = months[-1]
        if branch is not None and placement["branch"] != branch:
            continue
        parts = model.parts(person, year, months)
        parts[INDIVIDUAL] = sorted(parts[INDIVIDUAL] + attendance_entries(model.meetings, person, year, rulebook),
                                   key=lambda e: e["position"])  # organizational life from attendance
        result = member_total(_counted(parts[INDIVIDUAL]), _counted(parts[GROUP_WORK]),
                              _counted(parts[APPRAISAL]), rulebook)
        left = model.people.persons[person]["left"]
        rows.append({"placement": placement, "last_month": last_month, "left": left if left and left[:4] <= year else None,
                     "months": months, "entries": parts, "result": result})
    by_branch: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        by_branch.setdefault(r["placement"]["branch"], {})[r["placement"]["person"]] = r["result"].total
    ranked = {b: ranks(totals) for b, totals in by_branch.items()}
    for r in rows:
        r["rank"] = ranked[r["placement"]["branch"]][r["placement"]["person"]]
    rows.sort(key=lambda r: (r["placement"]["branch"], r["rank"], r["placement"]["person"]))
    return rulebook, rows


def _rules(rulebook: Rulebook, year: str) -> dict[str, Any]:
    """The parameters a year's points were computed with, and which version they come from."""
    return {"version": rulebook.version, "rulebook_month": year_rulebook_month(year),
            "points_base": str(rulebook.points_base), "points_min": str(rulebook.points_min),
            "points_max": str(rulebook.points_max),
            "points_weight_individual": str(rulebook.points_weight_individual),
            "points_weight_group": str(rulebook.points_weight_group),
            "points_weight_appraisal": str(rulebook.points_weight_appraisal),
            "attendance_absent_points": str(rulebook.attendance_absent_points),
            "attendance_excused_points": str(rulebook.attendance_excused_points)}


def _row_json(r: dict[str, Any]) -> dict[str, Any]:
    p, result = r["placement"], r["result"]
    return {"person": p["person"], "name": p["name"], "branch": p["branch"], "group": p["group"],
            "class": p["class"], "class_name": CLASSES.get(p["class"]), "last_month": r["last_month"],
            "left": r["left"], "individual": str(result.individual), "group_work": str(result.group),
            "appraisal": str(result.appraisal), "total": str(result.total), "rank": r["rank"],
            "entry_counts": {k: sum(1 for e in v if e["voided"] is None) for k, v in r["entries"].items()}}


def members_json(model: MemberPointsModel, year: str, branch: str | None = None) -> dict[str, Any]:
    """The JSON of ``ledger members show``."""
    rulebook, rows = members_view(model, year, branch)
    return {"year": year, "branch": branch, "rulebook": _rules(rulebook, year), "members": [_row_json(r) for r in rows]}


def _time(us: int) -> str:
    return (EPOCH + timedelta(microseconds=us)).astimezone(SHANGHAI).isoformat()


def entry_json(entry: dict[str, Any]) -> dict[str, Any]:
    """One entry for an explanation: what, by whom, when; its voiding if voided."""
    voided = entry["voided"]
    return {"entry_id": str(entry["entry_id"]), "part": entry["kind"], "branch": entry["branch"],
            "month": entry["month"], "person": entry["person"], "group": entry["group"],
            "item": entry["item"], "item_name": ITEM_NAMES.get(entry["item"] or ""),
            "points": str(entry["points"]), "counted": voided is None, "reason": entry["reason"],
            "actor": entry["actor"], "key": entry["key"], "recorded_at": _time(entry["recorded_at_us"]),
            "position": entry["position"], "derived": entry.get("derived", False),
            "meeting": entry.get("meeting"),
            "voided": None if voided is None else {
                "reason": voided["reason"], "actor": voided["actor"], "key": voided["key"],
                "recorded_at": _time(voided["recorded_at_us"]), "position": voided["position"]}}


def _part_json(kind: str, entries: list[dict[str, Any]], score: Decimal, rulebook: Rulebook) -> dict[str, Any]:
    counted = _counted(entries)
    raw = rulebook.points_base + counted
    return {"part": kind, "name": PART_NAMES[kind], "base": str(rulebook.points_base),
            "entries_sum": str(counted), "unclamped": str(raw), "score": str(score),
            "clamped": raw != score, "entries": [entry_json(e) for e in entries]}


def explain_member_json(model: MemberPointsModel, year: str, person: str) -> dict[str, Any] | None:
    """One member's year: each part's entries (counted and voided), base, clamp, the
    weighted total and the rank in the branch; None if not a member in ``year``."""
    months = model.member_months(person, year)
    if not months:
        return None
    rulebook, rows = members_view(model, year, months[-1][1]["branch"])
    row = next((r for r in rows if r["placement"]["person"] == person), None)
    if row is None:
        return None
    result: MemberTotal = row["result"]
    exact = (rulebook.points_weight_individual * result.individual + rulebook.points_weight_group * result.group
             + rulebook.points_weight_appraisal * result.appraisal)
    return {**_row_json(row), "year": year, "rulebook": _rules(rulebook, year),
            "branch_size": len(rows),
            "groups": [{"month": m, "branch": p["branch"], "group": p["group"]} for m, p in row["months"]],
            "attendance": attendance_json(model.meetings, person, year, rulebook),
            "parts": [_part_json(INDIVIDUAL, row["entries"][INDIVIDUAL], result.individual, rulebook),
                      _part_json(GROUP_WORK, row["entries"][GROUP_WORK], result.group, rulebook),
                      _part_json(APPRAISAL, row["entries"][APPRAISAL], result.appraisal, rulebook)],
            "formula": (f"{rulebook.points_weight_individual} × {result.individual} + "
                        f"{rulebook.points_weight_group} × {result.group} + "
                        f"{rulebook.points_weight_appraisal} × {result.appraisal} = {exact.normalize():f} → {result.total}"
                        "（两位小数，四舍五入）")}
