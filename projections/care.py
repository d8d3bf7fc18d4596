"""Talks and visits (六必谈 / 六必访) as folded from ``Occasion`` events: what is due, what
was answered and in how many days, what is overdue.

An occasion is due ``window`` days after its date (``talk_window_days`` or
``visit_window_days`` of the rulebook version in force in the occasion's month). Days are
counted from the occasion's date to the answer's date, or — while unanswered — to
``today``, which the caller gives (the CLI: today in Asia/Shanghai), so a view is a pure
function of the log and that date. Overdue: more days than the window.

Summaries stay sealed: a row shows ``summary_state`` ``hidden`` unless the caller passes
``reveal=True`` and a vault (who may is decided by the roles: ``domain/service/permissions.py``
``may_read_summaries``); ``erased`` when the person's key was erased (the vault is not
asked); ``unreadable`` when the vault cannot open it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Union

from domain.assessment.rulebook import RULEBOOK_V1, Rulebook
from domain.integrity.log import LoggedEvent
from domain.members.care import KIND_NAMES, OCCASIONS, PERSONNEL_KINDS, TALK, Vault, sealed_hash
from projections.org_fold import OrgFold

HIDDEN, SHOWN, ERASED, UNREADABLE = "hidden", "shown", "erased", "unreadable"
# True / False for every row, or a predicate on the occasion's branch (the roles issue:
# ``lambda branch: may_read_summaries(roles, branch)``).
Reveal = Union[bool, Callable[[str], bool]]


class CareModel(OrgFold):
    """``occasions[id]``: the raised occasion and its answer as recorded; ``erased[person]``:
    who erased the person's key, when; ``names[person]``: names (for display)."""

    TOPICS = ("Occasion", "PersonKey", "Person", "Organization")

    def __init__(self) -> None:
        super().__init__()
        self.occasions: dict[str, dict[str, Any]] = {}
        self.erased: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}

    def on_Person_Registered(self, e: LoggedEvent) -> None:
        self.names[e.raw["person"]] = e.raw["name"]

    def on_Occasion_Raised(self, e: LoggedEvent) -> None:
        d = e.raw
        self.occasions[str(e.aggregate_id)] = {
            "occasion": d["occasion"], "kind": d["kind"], "person": d["person"], "branch": d["branch"],
            "date": d["date"], "cause": d["cause"], "raised_by": d["actor"], "position": e.position,
            "answer": None}

    def on_Occasion_Answered(self, e: LoggedEvent) -> None:
        d = e.raw
        self.occasions[str(e.aggregate_id)]["answer"] = {
            "conducted_by": d["conducted_by"], "date": d["date"], "sealed": d["summary_sealed"], "sha256": d["summary_sha256"],
            "recorded_by": d["actor"], "position": e.position}

    def on_PersonKey_Erased(self, e: LoggedEvent) -> None:
        self.erased[e.raw["person"]] = {"person": e.raw["person"], "actor": e.raw["actor"],
                                        "reason": e.raw["reason"], "recorded_at_us": e.recorded_at_us,
                                        "position": e.position}

    # -- questions ---------------------------------------------------------------------
    def rulebook(self, month: str) -> Rulebook:
        """The version in force in ``month`` (version 1's defaults before ``ledger init``)."""
        if not self.rulebooks:
            return RULEBOOK_V1
        return self.rulebook_in(month)

    def window(self, kind: str, date: str) -> int:
        book = self.rulebook(date[:7])
        return book.talk_window_days if kind == TALK else book.visit_window_days

    def row(self, occasion_id: str, today: dt.date, reveal: Reveal = False,
            vault: Vault | None = None) -> dict[str, Any]:
        """One occasion as the views show it (see the module docstring)."""
        o = self.occasions[occasion_id]
        kind, number, name = OCCASIONS[o["occasion"]]
        raised = dt.date.fromisoformat(o["date"])
        window = self.window(kind, o["date"])
        answer = o["answer"]
        until = dt.date.fromisoformat(answer["date"]) if answer else today
        days = (until - raised).days
        state, text = self._summary(o, reveal, vault)
        overdue = days > window
        status = ("answered_late" if overdue else "answered") if answer else ("overdue" if overdue else "open")
        return {
            "occasion_id": occasion_id, "kind": kind, "kind_name": KIND_NAMES[kind],
            "occasion": o["occasion"], "number": number, "occasion_name": name,
            "person": o["person"], "name": self.names.get(o["person"]), "branch": o["branch"],
            "date": o["date"], "raised_by": o["raised_by"], "cause": o["cause"],
            "cause_name": PERSONNEL_KINDS[o["cause"]][1] if o["cause"] else None,
            "window_days": window, "due": (raised + dt.timedelta(days=window)).isoformat(),
            "answered": answer is not None, "conducted_by": answer["conducted_by"] if answer else None,
            "answer_date": answer["date"] if answer else None,
            "recorded_by": answer["recorded_by"] if answer else None,
            "days_taken": days if answer else None, "days_open": None if answer else days,
            "overdue": overdue, "status": status,
            "summary_state": state, "summary": text,
            "summary_sha256": answer["sha256"] if answer else None,
            "position": answer["position"] if answer else o["position"],
        }

    def _summary(self, o: dict[str, Any], reveal: Reveal, vault: Vault | None) -> tuple[str | None, str | None]:
        answer = o["answer"]
        if answer is None:
            return None, None
        if o["person"] in self.erased:
            return ERASED, None
        allowed = reveal(o["branch"]) if callable(reveal) else reveal
        if not allowed or vault is None:
            return HIDDEN, None
        if sealed_hash(answer["sealed"]) != answer["sha256"]:
            return UNREADABLE, None
        text = vault.open(o["person"], answer["sealed"])
        return (UNREADABLE, None) if text is None else (SHOWN, text)

    def rows(self, today: dt.date, branch: str | None = None, open_only: bool = False, reveal: Reveal = False,
             vault: Vault | None = None) -> list[dict[str, Any]]:
        """Occasions of ``branch`` (all if None), by date then person; ``open_only``: the
        unanswered ones (due and overdue)."""
        out = []
        for oid, o in self.occasions.items():
            if branch is not None and o["branch"] != branch:
                continue
            if open_only and o["answer"] is not None:
                continue
            out.append(self.row(oid, today, reveal, vault))
        return sorted(out, key=lambda r: (r["date"], r["person"], r["occasion_id"]))


def care_json(model: CareModel, today: dt.date, branch: str | None = None, open_only: bool = False,
              reveal: Reveal = False, vault: Vault | None = None) -> dict[str, Any]:
    """``ledger talks due`` (``open_only``) and ``ledger talks show``."""
    rows = model.rows(today, branch, open_only, reveal, vault)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("open", "overdue", "answered", "answered_late")}
    erased = sorted((e for e in model.erased.values() if branch is None or any(
        o["person"] == e["person"] and o["branch"] == branch for o in model.occasions.values())),
        key=lambda e: e["person"])
    shown = vault is not None and (reveal is True or callable(reveal))
    return {"today": today.isoformat(), "branch": branch, "summaries": "revealed" if shown else HIDDEN,
            "counts": counts, "occasions": rows, "erased": erased}
