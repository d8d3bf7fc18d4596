"""Replays for every read surface (CLI, HTTP and so the web): the assessment model or a
member-level fold now, as the ledger knew it at a moment (log clock), or as the documents
said by a moment (document clock). One place, so every show, explanation, diff and what-if
reads the two clocks the same way (domain/asof.py, projections/documents.py).
"""
from __future__ import annotations

import pickle
import threading
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Protocol, TypeVar

from domain.asof import AsOf
from domain.errors import NotInitialized
from domain.integrity.log import LoggedEvent
from projections.documents import DocumentSlice, by_document_date, fold_in_document_order
from projections.model import AssessmentModel

if TYPE_CHECKING:  # imported where used: the CLI's stamp of a current view needs no database code
    from sqlalchemy.engine import Engine


class Foldable(Protocol):
    """A fold the log feeds (projections.fold.Fold, projections.model.AssessmentModel)."""

    position: int
    replayed: dict[str, Any] | None

    def apply(self, event: LoggedEvent) -> None: ...

    def apply_all(self, events: Iterable[LoggedEvent]) -> Any: ...

    def topic_filter(self) -> tuple[str, ...]: ...


F = TypeVar("F", bound=Foldable)
T = TypeVar("T")
DERIVED_MAX = 256


def upto_of(engine: Engine, point: AsOf | None) -> int | None:
    """The log position recorded by a log-clock ``point`` (None: all of the log).
    Precondition: ``point`` is None or on the log clock."""
    from adapters.store.logreader import LogReader
    if point is None:
        return None
    assert not point.by_document, "a document-clock replay is not a prefix of the log"
    return LogReader(engine).position_recorded_by(point.moment_us)


def document_slice(engine: Engine, point: AsOf, topic_suffixes: tuple[str, ...] = ()) -> DocumentSlice:
    """The events of those topics whose documents are dated by ``point``, in document order."""
    from adapters.store.logreader import LogReader
    return by_document_date(LogReader(engine).read(topic_suffixes=topic_suffixes), point.moment_us)


def model_at(engine: Engine, sections: list[str] | None, point: AsOf | None) -> AssessmentModel:
    """The assessment model at ``point`` (None: the maintained view now). On the log clock,
    only ``sections``' periods are folded when given (adapters/store/slices.py); on the
    document clock the whole model is folded from the slice, and ``replayed`` says what the
    slice held."""
    from adapters.store.logreader import LogReader
    from adapters.store.views import MaintainedView
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
    from adapters.store.logreader import LogReader
    topics = fold.topic_filter()
    if point is not None and point.by_document:
        return fold_in_document_order(fold, document_slice(engine, point, topics))
    fold.apply_all(LogReader(engine).read(upto=upto_of(engine, point), topic_suffixes=topics))
    return fold


class FoldCache:
    """The member-level folds now, kept per process and keyed by the fold's class, each with
    the log position it was folded to (the log head then). A read checks the head: unchanged,
    the cached fold is the answer; moved, a copy of the cached fold is fed only the events
    after its position (the log only grows; positions are dense, as the maintained view
    relies on), so a reader still holding the older fold never sees it change. Callers
    must treat the fold they get as read-only. Precondition: the fold's constructor takes
    no argument (every fold the reads use)."""

    def __init__(self, engine: Engine) -> None:
        from adapters.store.logreader import LogReader
        self.reader = LogReader(engine)
        self.lock = threading.Lock()
        self.folds: dict[type, tuple[int, Any]] = {}
        self.derived_values: dict[Hashable, tuple[int, Any]] = {}

    def now(self, fold: F) -> F:
        """``fold`` caught up to the log's end: the cached one (or a caught-up copy of it) if
        this class was folded before in this process, else ``fold`` itself, folded."""
        head = self.reader.last_position()
        with self.lock:
            cached = self.folds.get(type(fold))
            if cached is not None and cached[0] == head:
                return cached[1]  # type: ignore[no-any-return]
            after = 0
            if cached is not None and cached[0] < head:
                fold, after = copy_of(cached[1]), cached[0]
            fold.apply_all(self.reader.read(after=after, upto=head, topic_suffixes=fold.topic_filter()))
            self.folds[type(fold)] = (head, fold)
            return fold

    def derived(self, key: Hashable, compute: Callable[[], T],
                lasts: Callable[[LoggedEvent], bool] | None = None) -> T:
        """``compute()`` of the log as it stands, kept under ``key`` until the log head moves
        (at most ``DERIVED_MAX`` keys, the oldest dropped first). For reads of the whole log
        now that fold it again on every request (a year's diff, a proof in a checkpoint).
        ``lasts(event)`` (optional) is true of an event that cannot change the value (e.g. one
        of a topic the read never looks at): when every event after the kept value's head
        lasts, the value is kept for the new head instead of computed again. ``compute``
        raising keeps nothing. Callers treat the value as read-only."""
        head = self.reader.last_position()
        with self.lock:
            found = self.derived_values.get(key)
            if found is not None and found[0] == head:
                return found[1]  # type: ignore[no-any-return]
        if found is not None and lasts is not None and found[0] < head and \
                all(lasts(e) for e in self.reader.read(after=found[0], upto=head)):
            value = found[1]
        else:
            value = compute()  # outside the lock: another key's read need not wait
        with self.lock:
            self.derived_values.pop(key, None)
            self.derived_values[key] = (head, value)
            while len(self.derived_values) > DERIVED_MAX:
                self.derived_values.pop(next(iter(self.derived_values)))
        return value


def copy_of(fold: F) -> F:
    """An independent copy of ``fold`` (a pickle round trip: on the demo's member-level folds
    several times faster than ``copy.deepcopy``, which tracks every object it copies).
    Precondition: the fold holds only picklable values (plain data, Decimals, UUIDs)."""
    return pickle.loads(pickle.dumps(fold, protocol=pickle.HIGHEST_PROTOCOL))  # type: ignore[no-any-return]


def outside_topics(*topics: str) -> Callable[[LoggedEvent], bool]:
    """``lasts`` for :meth:`FoldCache.derived`: true of an event of none of ``topics``
    (aggregate names, as in ``AssessmentModel.TOPICS``)."""
    names = frozenset(topics)
    return lambda event: event.name.partition(".")[0] not in names


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
    from adapters.store.logreader import LogReader
    if point is not None and point.by_document:
        return document_slice(engine, point, topic_suffixes).events
    return LogReader(engine).read(upto=upto_of(engine, point), topic_suffixes=topic_suffixes)
