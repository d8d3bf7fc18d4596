"""Competitive selections (竞聘) as folded from ``Selection`` events."""
from __future__ import annotations

from typing import Any

from domain.integrity.log import LoggedEvent
from domain.members.selection import OUTCOME_NAMES
from projections.fold import Fold
from projections.model import plain


class SelectionModel(Fold):
    """``selections[id] = {selection, position, date, candidates, names, representative
    {sheet: scores}, leaders {name: scores}, result or None, opened_by, clerks}``."""

    TOPICS = ("Selection",)

    def __init__(self) -> None:
        super().__init__()
        self.selections: dict[str, dict[str, Any]] = {}
        self._by_id: dict[Any, str] = {}

    def on_Selection_Opened(self, e: LoggedEvent) -> None:
        d = e.raw
        self._by_id[e.aggregate_id] = d["selection"]
        self.selections[d["selection"]] = {
            "selection": d["selection"], "position": d["position"], "date": d["date"],
            "candidates": list(d["candidates"]), "names": dict(d["names"]), "opened_by": d["actor"],
            "representative": {}, "leaders": {}, "clerks": [], "result": None}

    def _record(self, e: LoggedEvent) -> dict[str, Any]:
        return self.selections[self._by_id[e.aggregate_id]]

    def on_Selection_RepresentativeSheetRecorded(self, e: LoggedEvent) -> None:
        s = self._record(e)
        s["representative"][e.raw["sheet"]] = e.data["scores"]
        if e.raw["actor"] not in s["clerks"]:
            s["clerks"].append(e.raw["actor"])

    def on_Selection_LeaderSheetRecorded(self, e: LoggedEvent) -> None:
        self._record(e)["leaders"][e.raw["leader"]] = e.data["scores"]

    def on_Selection_Closed(self, e: LoggedEvent) -> None:
        d = e.data
        self._record(e)["result"] = {
            "rulebook_version": d["rulebook_version"], "weight_representatives": d["weight_representatives"],
            "weight_leaders": d["weight_leaders"], "threshold": d["threshold"], "outcome": d["outcome"],
            "rows": d["results"], "closed_by": d["actor"]}

    # -- questions ---------------------------------------------------------------------
    def for_position(self, position: str) -> list[dict[str, Any]]:
        """The selections for ``position`` (or the one whose id it is), by date then id."""
        found = [s for s in self.selections.values() if s["position"] == position]
        if not found and position in self.selections:
            found = [self.selections[position]]
        return sorted(found, key=lambda s: (s["date"], s["selection"]))


def selection_json(s: dict[str, Any]) -> dict[str, Any]:
    """One selection for people and machines: sheets (representative ones by the clerk's
    number only), and the result once closed."""
    result = s["result"]
    out: dict[str, Any] = {
        "selection": s["selection"], "position": s["position"], "date": s["date"],
        "status": "closed" if result else "open",
        "candidates": [{"person": c, "name": s["names"].get(c, "")} for c in s["candidates"]],
        "representative_sheets": [{"sheet": n, "scores": plain(s["representative"][n])}
                                  for n in sorted(s["representative"])],
        "leader_sheets": [{"leader": name, "scores": plain(s["leaders"][name])} for name in sorted(s["leaders"])],
        "clerks": s["clerks"], "result": None}
    if result:
        out["result"] = {**plain({k: v for k, v in result.items() if k != "rows"}),
                         "outcome_name": OUTCOME_NAMES[result["outcome"]],
                         "appointed": next((r["candidate"] for r in result["rows"] if r["appointed"]), None),
                         "rows": plain(result["rows"])}
    return out


def position_json(model: SelectionModel, position: str) -> dict[str, Any]:
    return {"position": position, "selections": [selection_json(s) for s in model.for_position(position)]}
