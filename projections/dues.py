"""Party dues (党费) as folded from ``DuesAccount`` and ``DuesStatement`` events, with the
people, branches and rulebook versions they are computed with.

Pure: the same arithmetic as the publishing handler (``domain/members/dues.py``), so a statement
can be recomputed from the log up to the position it was published at and compared.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.integrity.log import LoggedEvent, provenance
from domain.members.dues import (
    CATEGORY_NAMES,
    CHANNEL_NAMES,
    ZERO,
    DuesMonth,
    branch_member_months,
    dues_months,
    statement,
    statement_hash,
    statement_row,
)
from domain.members.people import MEMBER
from domain.periods import half_months, month_range
from projections.org_fold import OrgFold


class DuesModel(OrgFold):
    """``accounts[person] = {"bases": [(from, category, base, branch, position)], "payments":
    {id: {...}}}``; ``publications[(branch, half)] = [{number, statement, statement_hash,
    rulebook_versions, actor, by, key, position, recorded_at_us, aggregate_id, version}]``."""

    TOPICS = ("DuesAccount", "DuesStatement", "Person", "BranchRoster", "Organization")

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.publications: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._ids: dict[UUID, Any] = {}

    def on_DuesAccount_Opened(self, e: LoggedEvent) -> None:
        self._ids[e.aggregate_id] = e.raw["person"]
        self.accounts[e.raw["person"]] = {"bases": [], "payments": {}}

    def on_DuesAccount_BaseSet(self, e: LoggedEvent) -> None:
        d = e.raw
        self.accounts[self._ids[e.aggregate_id]]["bases"].append(
            {"from": d["from_month"], "category": d["category"], "base": e.decimal("base"), "branch": d["branch"],
             "actor": d["actor"], "position": e.position})

    def on_DuesAccount_PaymentRecorded(self, e: LoggedEvent) -> None:
        d = e.data
        self.accounts[self._ids[e.aggregate_id]]["payments"][d["payment_id"]] = {
            "payment_id": str(d["payment_id"]), "month": d["month"], "branch": d["branch"], "amount": d["amount"],
            "channel": d["channel"], "paid_on": d["paid_on"], "actor": d["actor"], "key": d["key"],
            "position": e.position, "voided": None}

    def on_DuesAccount_PaymentVoided(self, e: LoggedEvent) -> None:
        d = e.data
        self.accounts[self._ids[e.aggregate_id]]["payments"][d["payment_id"]]["voided"] = {
            "reason": d["reason"], "actor": d["actor"], "position": e.position}

    def on_DuesStatement_Opened(self, e: LoggedEvent) -> None:
        self._ids[e.aggregate_id] = (e.raw["branch"], e.raw["half"])
        self.publications.setdefault((e.raw["branch"], e.raw["half"]), [])

    def on_DuesStatement_Published(self, e: LoggedEvent) -> None:
        d = e.raw
        self.publications[self._ids[e.aggregate_id]].append(
            {"number": d["number"], "statement": d["statement"], "statement_hash": d["statement_hash"],
             "rulebook_versions": d["rulebook_versions"], "actor": d["actor"], "key": d["key"],
             **provenance(d), "position": e.position, "recorded_at_us": e.recorded_at_us,
             "aggregate_id": str(e.aggregate_id), "version": e.version})

    # -- questions ---------------------------------------------------------------------
    def base_in(self, person: str, month: str) -> tuple[str, Decimal] | None:
        current = None
        for b in self.accounts.get(person, {}).get("bases", ()):
            if b["from"] <= month:
                current = (b["category"], b["base"])
        return current

    def paid_in(self, person: str, month: str) -> Decimal:
        return sum((p["amount"] for p in self.accounts.get(person, {}).get("payments", {}).values()
                    if p["month"] == month and p["voided"] is None), ZERO)

    def member_months(self, branch: str, months: list[str]) -> dict[str, list[str]]:
        """person → months (of ``months``) as a party member of ``branch``."""
        def placed(person: str, month: str) -> bool:
            p = self.people.placement(person, month)
            return p is not None and p["kind"] == MEMBER and p["branch"] == branch
        return branch_member_months(self.people.spans.get(branch, {}), months, placed)

    def lines(self, person: str, months: list[str]) -> list[DuesMonth]:
        return dues_months(months, lambda m: self.base_in(person, m), lambda m: self.paid_in(person, m),
                           self.rulebook_in)

    def statement(self, branch: str, half: str) -> dict[str, Any]:
        """The statement as it would be published now (unassessed months count 0 due)."""
        rows = [statement_row(person, self.people.persons[person]["name"], self.lines(person, mine))
                for person, mine in self.member_months(branch, half_months(half)).items()]
        return statement(branch, self.branches.get(branch, {}).get("name", branch), half, rows)


def _month_json(m: DuesMonth) -> dict[str, Any]:
    return {"month": m.month, "category": m.category, "category_name": CATEGORY_NAMES.get(m.category or ""),
            "base": None if m.base is None else str(m.base), "rate": None if m.rate is None else str(m.rate),
            "due": None if m.due is None else str(m.due), "paid": str(m.paid), "arrears": str(m.arrears),
            "overpaid": str(m.overpaid), "assessed": m.due is not None}


def period_months(period: str) -> list[str]:
    """A year ``YYYY`` or a half-year ``YYYYHn`` as months. Precondition: valid."""
    return half_months(period) if "H" in period else month_range(f"{period}-01", 12)


def dues_json(model: DuesModel, period: str, branch: str, person: str | None = None) -> dict[str, Any]:
    """The JSON of ``ledger dues show``: each member of ``branch`` in ``period`` with every
    month (base, rate, due, paid, arrears, over-payment) and the totals; payments listed."""
    months = period_months(period)
    members = []
    for who, mine in model.member_months(branch, months).items():
        if person is not None and who != person:
            continue
        lines = model.lines(who, mine)
        payments = sorted((p for p in model.accounts.get(who, {}).get("payments", {}).values()
                           if p["month"] in mine), key=lambda p: p["position"])
        members.append({**statement_row(who, model.people.persons[who]["name"], lines),
                        "unassessed": [m.month for m in lines if m.due is None],
                        "lines": [_month_json(m) for m in lines],
                        "payments": [{**p, "amount": str(p["amount"]), "channel_name": CHANNEL_NAMES.get(p["channel"])}
                                     for p in payments]})
    totals = {k: str(sum((Decimal(m[k]) for m in members), ZERO)) for k in ("due", "paid", "arrears", "overpaid")}
    return {"period": period, "branch": branch, "branch_name": model.branches.get(branch, {}).get("name"),
            "person": person, "members": members, "totals": {"members": len(members), **totals},
            "publications": [publication_summary(p) for h in _halves(period)
                             for p in model.publications.get((branch, h), [])]}


def _halves(period: str) -> list[str]:
    return [period] if "H" in period else [f"{period}H1", f"{period}H2"]


def publication_summary(p: dict[str, Any]) -> dict[str, Any]:
    return {"half": p["statement"]["half"], "number": p["number"], "statement_hash": p["statement_hash"],
            "position": p["position"], "actor": p["actor"], "by": p["by"]}


def publication(model: DuesModel, branch: str, half: str, number: int | None = None) -> dict[str, Any] | None:
    """The ``number``-th (default latest) publication of a branch's half-year, or None."""
    found = model.publications.get((branch, half), [])
    if not found:
        return None
    if number is None:
        return found[-1]
    return found[number - 1] if 1 <= number <= len(found) else None


def recomputed_matches(model: DuesModel, p: dict[str, Any]) -> bool:
    """Whether ``model`` (folded up to just before the publication) gives the same statement."""
    published: str = p["statement_hash"]
    return statement_hash(model.statement(p["statement"]["branch"], p["statement"]["half"])) == published
