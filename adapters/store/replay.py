"""Replays for every read surface (CLI, HTTP and so the web): the assessment model or a
member-level fold now, as the ledger knew it at a moment (log clock), or as the documents
said by a moment (document clock). One place, so every show, explanation, diff and what-if
reads the two clocks the same way (domain/asof.py, projections/documents.py).
"""
from __future__ import annotations

from typing import Any, Iterable, Protocol, TypeVar

from sqlalchemy.engine import Engine

from adapters.store.logreader import LogReader
from adapters.store.views import MaintainedView
from domain.asof import AsOf
from domain.errors import NotInitialized
from domain.integrity.log import LoggedEvent
from projections.documents import DocumentSlice, by_document_date, fold_in_document_order
from projections.model import AssessmentModel


class Foldable(Protocol):
    """A fold the log feeds (projections.fold.Fold, projections.model.AssessmentModel)."""

    position: int
    replayed: dict[str, Any] | None

    def apply(self, event: LoggedEvent) -> None: ...

    def apply_all(self, events: Iterable[LoggedEvent]) -> Any: ...

    def topic_filter(self) -> tuple[str, ...]: ...


F = TypeVar("F", bound=Foldable)


def upto_of(engine: Engine, point: AsOf | None) -> int | None:
    """The log position recorded by a log-clock ``point`` (None: all of the log).
    Precondition: ``point`` is None or on the log clock."""
    if point is None:
        return None
    assert not point.by_document, "a document-clock replay is not a prefix of the log"
    return LogReader(engine).position_recorded_by(point.moment_us)


def document_slice(engine: Engine, point: AsOf, topic_suffixes: tuple[str, ...] = ()) -> DocumentSlice:
    """The events of those topics whose documents are dated by ``point``, in document order."""
    return by_document_date(LogReader(engine).read(topic_suffixes=topic_suffixes), point.moment_us)


def model_at(engine: Engine, sections: list[str] | None, point: AsOf | None) -> AssessmentModel:
    """The assessment model at ``point`` (None: the maintained view now). On the log clock,
    only ``sections``' periods are folded when given (adapters/store/slices.py); on the
    document clock the whole model is folded from the slice, and ``replayed`` says what the
    slice held."""
    if point is None:
        return MaintainedView(engine).model(sections)
    if point.by_document:
        return fold_in_document_order(AssessmentModel(),
                                      document_slice(engine, point, AssessmentModel.topic_filter()))
    if sections is not None:
        from adapters.store.slices import sliced_model
        model = sliced_model(engine, sections, upto_of(engine, point))
    else:
        model = AssessmentModel().apply_all(LogReader(engine).read(upto=upto_of(engine, point)))
    if not model.org["rulebooks"]:
        raise NotInitialized(f"截至 {point.text}（账本记录时间）账本还没有建立，没有考核细则；迁移进来的历史请用"
                             f" --documented-by {point.text}（HTTP 与网页：documented_by）按原始单据日期查看", "as_of")
    return model


def fold_at(engine: Engine, fold: F, point: AsOf | None) -> F:
    """Feed ``fold`` (a :class:`projections.fold.Fold`) its aggregates' events: all of them,
    those recorded by a log-clock ``point``, or those documented by a document-clock one."""
    topics = fold.topic_filter()
    if point is not None and point.by_document:
        return fold_in_document_order(fold, document_slice(engine, point, topics))
    fold.apply_all(LogReader(engine).read(upto=upto_of(engine, point), topic_suffixes=topics))
    return fold


def stamp_fields(point: AsOf | None) -> dict[str, str | None]:
    """``as_of`` of a replay (None: now or the document clock), and ``documented_by`` on the
    document clock only (views read before it existed keep their shape)."""
    if point is None or not point.by_document:
        return {"as_of": None if point is None else point.text}
    return {"as_of": None, "documented_by": point.text}


def stamp(data: dict[str, Any], replayed: Foldable, point: AsOf | None) -> dict[str, Any]:
    """``data`` with the fields that say which replay it shows: ``as_of`` and
    ``documented_by`` (at most one set), ``position`` reached, and on the document clock
    ``document_clock`` (events placed, later, unplaced)."""
    out = {**data, **stamp_fields(point), "position": replayed.position}
    if point is not None and point.by_document:
        out["document_clock"] = replayed.replayed
    return out


def events_at(engine: Engine, point: AsOf | None, topic_suffixes: tuple[str, ...] = ()) -> Iterable[LoggedEvent]:
    """The events of those topics at ``point``: the log (or its prefix on the log clock), or
    the document-clock slice in document order."""
    if point is not None and point.by_document:
        return document_slice(engine, point, topic_suffixes).events
    return LogReader(engine).read(upto=upto_of(engine, point), topic_suffixes=topic_suffixes)
