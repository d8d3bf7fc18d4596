"""Meetings (三会一课 etc.) as folded from ``Meeting`` events: the list of a year's
meetings, the schedule check (branches behind the rulebook's expected frequency), and the
organizational-life entries attendance contributes to member points.

Pure: imports ``domain/`` only; the same fold serves the live view and ``--as-of``.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence
from uuid import UUID, uuid5

from domain.assessment.rulebook import Rulebook
from domain.integrity.log import LoggedEvent
from domain.members.meetings import ABSENT, EXCUSED, GROUP_MEETING, KIND_NAMES, PRESENT, QUESTIONS, STATUS_NAMES
from domain.members.member_points import INDIVIDUAL, ORGANIZATIONAL_LIFE
from domain.members.people import MEMBER
from domain.periods import month_range
from projections.org_fold import OrgFold

CENT = Decimal("0.01")


class MeetingsModel(OrgFold):
    """``meetings[id]``: branch, kind, date, group, topic, chair, answers, ``attendance``
    (person → status as corrected), ``corrections`` (each with who/when/why), ``voided``
    (None or who/when/why), actor, key, by, recorded-at, position. ``by_person[(person,
    year)]`` the meetings listing the person. Organization and people events feed the
    schedule (branches, rulebook versions, party groups)."""

    TOPICS = ("Meeting", "Organization", "Person", "BranchRoster")

    def __init__(self) -> None:
        super().__init__()
        self.meetings: dict[UUID, dict[str, Any]] = {}
        self.by_person: dict[tuple[str, str], list[UUID]] = {}

    def on_Meeting_Recorded(self, e: LoggedEvent) -> None:
        d = e.raw
        self.meetings[e.aggregate_id] = {
            "meeting_id": e.aggregate_id, "branch": d["branch"], "kind": d["kind"], "date": d["date"],
            "group": d["group"], "topic": d["topic"], "chair": d["chair"], "answers": d["answers"],
            "attendance": dict(d["attendance"]), "recorded_attendance": dict(d["attendance"]),
            "corrections": [], "voided": None, "actor": d["actor"], "key": d["key"], "by": d.get("by"),
            "recorded_at_us": e.recorded_at_us, "position": e.position}
        for person in d["attendance"]:
            self.by_person.setdefault((person, d["date"][:4]), []).append(e.aggregate_id)

    def on_Meeting_AttendanceCorrected(self, e: LoggedEvent) -> None:
        m, d = self.meetings[e.aggregate_id], e.raw
        if d["person"] not in m["attendance"]:
            self.by_person.setdefault((d["person"], m["date"][:4]), []).append(e.aggregate_id)
        m["attendance"][d["person"]] = d["status"]
        m["corrections"].append({"person": d["person"], "status": d["status"], "previous": d["previous"],
                                 "reason": d["reason"], "actor": d["actor"], "key": d["key"],
                                 "recorded_at_us": e.recorded_at_us, "position": e.position})

    def on_Meeting_Voided(self, e: LoggedEvent) -> None:
        d = e.raw
        self.meetings[e.aggregate_id]["voided"] = {"reason": d["reason"], "actor": d["actor"], "key": d["key"],
                                                   "recorded_at_us": e.recorded_at_us, "position": e.position}

    # -- questions ---------------------------------------------------------------------
    def of_year(self, year: str, branch: str | None = None, kind: str | None = None,
                include_voided: bool = True) -> list[dict[str, Any]]:
        """The year's meetings by date, branch, kind, group."""
        rows = [m for m in self.meetings.values() if m["date"][:4] == year
                and (branch is None or m["branch"] == branch) and (kind is None or m["kind"] == kind)
                and (include_voided or m["voided"] is None)]
        return sorted(rows, key=lambda m: (m["date"], m["branch"], m["kind"], m["group"] or ""))

    def groups_in(self, branch: str, months: list[str]) -> list[str]:
        """Party groups with at least one member of ``branch`` placed in them in one of ``months``."""
        groups = set()
        for month in months:
            for p in self.people.people_in(branch, month, MEMBER):
                if p["group"] is not None:
                    groups.add(p["group"])
        return sorted(groups)


def meeting_json(m: dict[str, Any]) -> dict[str, Any]:
    counts = {s: sum(1 for v in m["attendance"].values() if v == s) for s in (PRESENT, EXCUSED, ABSENT)}
    voided = m["voided"]
    return {"meeting_id": str(m["meeting_id"]), "branch": m["branch"], "kind": m["kind"],
            "kind_name": KIND_NAMES[m["kind"]], "date": m["date"], "group": m["group"], "topic": m["topic"],
            "chair": m["chair"],
            "answers": None if m["answers"] is None else [{"question": q, "text": QUESTIONS[q], "answer": m["answers"][q]}
                                                         for q in QUESTIONS],
            "attendance": dict(sorted(m["attendance"].items())), "counts": counts,
            "corrections": [{k: v for k, v in c.items() if k != "recorded_at_us"} for c in m["corrections"]],
            "counted": voided is None,
            "voided": None if voided is None else {k: v for k, v in voided.items() if k != "recorded_at_us"},
            "actor": m["actor"], "by": m["by"], "key": m["key"], "position": m["position"]}


def meetings_json(model: MeetingsModel, year: str, branch: str | None = None, kind: str | None = None) -> dict[str, Any]:
    """The JSON of ``ledger meetings show``."""
    rows = [meeting_json(m) for m in model.of_year(year, branch, kind)]
    return {"year": year, "branch": branch, "kind": kind, "meetings": rows,
            "counted": sum(1 for r in rows if r["counted"])}


# -- the schedule ------------------------------------------------------------------------------
def block_label(months: list[str]) -> str:
    """2019-03 (one month), 2019Q1, 2019H1, 2019, or 2019-01–2019-02 / 2019-01–2019-04."""
    year, n, first = months[0][:4], len(months), int(months[0][5:])
    if n == 1:
        return months[0]
    if n == 3:
        return f"{year}Q{(first - 1) // 3 + 1}"
    if n == 6:
        return f"{year}H{(first - 1) // 6 + 1}"
    if n == 12:
        return year
    return f"{months[0]}–{months[-1]}"


def schedule_json(model: MeetingsModel, year: str, branch: str | None = None, through: str | None = None
                  ) -> dict[str, Any]:
    """Each branch's meetings against the rulebook's expected frequency, block by block.

    A block of N months (``meeting_frequency[kind]``, aligned on January) is checked once it
    has ended by ``through`` (default December of ``year``), under the version in force in its
    last month, if the branch existed at its start. Group meetings are checked per party group
    that had members in the branch during the block. A block without a meeting (voided ones do
    not count) is a gap; a branch with a gap is behind schedule."""
    through = through or f"{year}-12"
    months = [m for m in month_range(f"{year}-01", 12) if m <= through]
    held: dict[tuple[str, str, str | None], dict[str, int]] = {}  # → month → meetings held
    for m in model.of_year(year, include_voided=False):
        per_month = held.setdefault((m["branch"], m["kind"], m["group"]), {})
        per_month[m["date"][:7]] = per_month.get(m["date"][:7], 0) + 1
    branches = []
    for code in sorted(model.branches):
        if branch is not None and code != branch:
            continue
        start = model.branches[code]["from_month"]
        checks, gaps = [], []
        for n in (1, 2, 3, 4, 6, 12):
            for first in range(0, 12, n):
                block = month_range(f"{year}-{first + 1:02d}", n)
                if block[-1] not in months or (start is not None and start > block[0]):
                    continue
                rulebook = model.rulebook_in(block[-1])
                for kind, every in rulebook.meeting_frequency.items():
                    if every != n:
                        continue
                    groups: Sequence[str | None] = model.groups_in(code, block) if kind == GROUP_MEETING else [None]
                    for group in groups:
                        per_month = held.get((code, kind, group), {})
                        count = sum(per_month.get(month, 0) for month in block)
                        row = {"kind": kind, "kind_name": KIND_NAMES[kind], "group": group, "every_months": n,
                               "period": block_label(block), "from": block[0], "to": block[-1], "held": count,
                               "rulebook_version": rulebook.version, "behind": count == 0}
                        checks.append(row)
                        if row["behind"]:
                            gaps.append(row)
        checks.sort(key=lambda r: (r["from"], r["kind"], r["group"] or ""))
        gaps.sort(key=lambda r: (r["from"], r["kind"], r["group"] or ""))
        branches.append({"branch": code, "name": model.branches[code]["name"], "behind": bool(gaps),
                         "gaps": gaps, "checks": checks})
    return {"year": year, "through": through, "branch": branch, "branches": branches,
            "behind": [b["branch"] for b in branches if b["behind"]]}


# -- attendance → member points --------------------------------------------------------------
def status_points(status: str, rulebook: Rulebook) -> Decimal:
    """Points an attendance status adds to the organizational-life item (present: 0)."""
    if status == ABSENT:
        return rulebook.attendance_absent_points.quantize(CENT)
    if status == EXCUSED:
        return rulebook.attendance_excused_points.quantize(CENT)
    return Decimal("0.00")


def attendance_of(model: MeetingsModel, person: str, year: str) -> list[dict[str, Any]]:
    """The counted meetings of ``year`` listing ``person``, by position."""
    rows = [model.meetings[i] for i in model.by_person.get((person, year), ())]
    return sorted((m for m in rows if m["voided"] is None and person in m["attendance"]), key=lambda m: m["position"])


def _cite(m: dict[str, Any]) -> dict[str, Any]:
    return {"meeting_id": str(m["meeting_id"]), "branch": m["branch"], "kind": m["kind"],
            "kind_name": KIND_NAMES[m["kind"]], "date": m["date"], "group": m["group"], "topic": m["topic"],
            "position": m["position"]}


def attendance_entries(model: MeetingsModel, person: str, year: str, rulebook: Rulebook) -> list[dict[str, Any]]:
    """The organizational-life entries derived from ``person``'s attendance in ``year`` (one
    per meeting whose status carries points under ``rulebook``), shaped like the member-points
    projection's entries, each citing its meeting (``meeting``)."""
    out = []
    for m in attendance_of(model, person, year):
        status = m["attendance"][person]
        points = status_points(status, rulebook)
        if points == 0:
            continue
        last = next((c for c in reversed(m["corrections"]) if c["person"] == person), None)
        source = last or m
        group = f"（{m['group']}）" if m["group"] else ""
        out.append({"entry_id": uuid5(m["meeting_id"], f"attendance:{person}"), "kind": INDIVIDUAL,
                    "branch": m["branch"], "year": year, "month": m["date"][:7], "person": person, "group": None,
                    "item": ORGANIZATIONAL_LIFE, "points": points,
                    "reason": f"{STATUS_NAMES[status]}：{m['date']} {KIND_NAMES[m['kind']]}{group}《{m['topic']}》",
                    "actor": source["actor"], "key": source["key"], "recorded_at_us": source["recorded_at_us"],
                    "position": source["position"], "voided": None, "derived": True, "meeting": _cite(m)})
    return out


def attendance_json(model: MeetingsModel, person: str, year: str, rulebook: Rulebook) -> dict[str, Any]:
    """A member's year of attendance for an explanation: counts and every meeting with the
    status and the points it carried."""
    rows = [{**_cite(m), "status": m["attendance"][person], "status_name": STATUS_NAMES[m["attendance"][person]],
             "points": str(status_points(m["attendance"][person], rulebook))} for m in attendance_of(model, person, year)]
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in (PRESENT, EXCUSED, ABSENT)}
    return {"meetings": rows, "counts": counts, "absent_points": str(rulebook.attendance_absent_points),
            "excused_points": str(rulebook.attendance_excused_points)}
