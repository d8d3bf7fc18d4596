"""The log on the document clock (按单据日期): which events the documents had said by a
moment, and in what order a fold meets them (domain/asof.py says what the two clocks are).

The same folds serve both clocks: on the log clock they are fed a prefix of the log; on
the document clock, :func:`by_document_date` of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, TypeVar
from uuid import UUID

from domain import vocabulary
from domain.asof import document_us
from domain.errors import CorruptLog, DocumentOrderConflict
from domain.integrity.log import LoggedEvent


@dataclass
class DocumentSlice:
    """The events placed by the moment, in document order; how many were ``later``, and how
    many migrated events had no document date (``unplaced``: left out, and said so)."""

    events: list[LoggedEvent] = field(default_factory=list)
    later: int = 0
    unplaced: int = 0

    @property
    def position(self) -> int:
        """The highest log position among the events placed (0 if none)."""
        return max((e.position for e in self.events), default=0)

    def stamp(self) -> dict[str, Any]:
        """What a view on the document clock says of its slice (``document_clock``)."""
        return {"placed": len(self.events), "later": self.later, "unplaced": self.unplaced}


def by_document_date(events: Iterable[LoggedEvent], moment_us: int) -> DocumentSlice:
    """The events whose documents are dated by ``moment_us``, ordered by (document time, log
    position): a correction migrated late but dated before an approval comes before it.

    One adjustment keeps every fold's first precondition (an aggregate's first event, which
    names its period, comes before its others): an aggregate's first event is placed no
    later than the earliest of its events, since a month opened by an entry dated the 10th
    existed on paper as soon as an entry of it dated the 3rd did. Other dependencies are the
    documents' own (:func:`fold_in_document_order` says when they contradict). A migrated
    event with no document date is left out and counted (``unplaced``), except an
    aggregate's first event, placed with the earliest of its aggregate's dated events.
    Precondition: ``events`` in log order."""
    placed: list[list[Any]] = []  # [place or None, position, event]
    first: dict[UUID, list[Any]] = {}  # aggregate → its first event's entry in placed
    for e in events:
        at = document_us(e.raw, e.recorded_at_us)
        entry = [at, e.position, e]
        opening = first.setdefault(e.aggregate_id, entry)
        if at is not None and opening is not entry and (opening[0] is None or at < opening[0]):
            opening[0] = at  # the aggregate existed on paper as soon as any of its documents did
        placed.append(entry)
    unplaced = sum(1 for entry in placed if entry[0] is None)
    dated = sorted((entry for entry in placed if entry[0] is not None), key=lambda t: (t[0], t[1]))
    kept = [e for at, _, e in dated if at <= moment_us]
    return DocumentSlice(kept, later=len(dated) - len(kept), unplaced=unplaced)


def documented_by(event: LoggedEvent, moment_us: int) -> bool:
    """Whether ``event``'s document is dated by ``moment_us`` (for events read beside a
    document-clock fold, such as an explanation's entries and appeals)."""
    at = document_us(event.raw, event.recorded_at_us)
    return at is not None and at <= moment_us


F = TypeVar("F", bound=Any)


def fold_in_document_order(fold: F, chosen: DocumentSlice) -> F:
    """``fold.apply_all(chosen.events)``, then ``position`` and ``replayed`` set from the
    slice. Raises :class:`DocumentOrderConflict` naming the position of an event whose
    document is dated before one it depends on (the fold met it before its dependency)."""
    for e in chosen.events:
        try:
            fold.apply(e)
        except (CorruptLog, KeyError, IndexError, TypeError):  # the fold met it before what it depends on
            raise DocumentOrderConflict(
                f"日志位置 {e.position} 的事件（{vocabulary.event_name(e.name)}）的单据日期早于它所依赖的记录："
                "按单据日期无法重放，请核对该迁移记录的原始单据日期（若按账本记录时间也无法读取，则是日志损坏：ledger verify）",
                "documented_by") from None
    fold.position, fold.replayed = chosen.position, chosen.stamp()
    return fold
