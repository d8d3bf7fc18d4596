"""The unit of work: the aggregates one command (or one batch) loads, saved together.

Also what the store offers the application about import keys and the log (:class:`KeyIndex`),
what a unit of work needs of the application (:class:`Host`), and the shapes of a batch
import's outcome. Used by :mod:`domain.service.application` and by every handler
(``domain/service/handlers/``), which receive the unit of work and nothing else.
"""
from __future__ import annotations

import time
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain import commands as c
from domain import vocabulary
from domain.access.users import Access, now_us
from domain.assessment.month_and_quarter import AssessmentMonth
from domain.assessment.organization import Organization
from domain.errors import NotInitialized
from domain.ids import access_id, month_id, organization_id
from domain.service.permissions import Authorization, authorize

A = TypeVar("A", bound=Aggregate)

ORG_MAX_STALENESS = 1.0  # seconds a cached organization (or directory) may serve unrefreshed


class KeyIndex(Protocol):
    """What the store offers about import keys and the log (implemented by the recorder)."""

    def lookup_keys(self, keys: list[str]) -> dict[str, str]:
        """Digest of each of ``keys`` already in the ledger."""

    def find_event(self, topic_suffix: str, value: UUID) -> UUID | None:
        """The aggregate id of the first event of that topic whose payload holds ``value``."""

    def recorded_at(self, aggregate_id: UUID, version: int) -> int:
        """The recorded-at (UTC µs, database clock) of one stored event."""

    def clock(self) -> int:
        """The database clock now (UTC µs)."""


class Host(Protocol):
    """What a unit of work needs of the application (``Ledger``): its repository (loads, the
    cache, the event store), its recorder (:class:`KeyIndex`), ``save``, the times the cached
    organization and directory were last refreshed, and its key vault (``vault``, or None;
    ``domain/members/care.py``)."""

    @property
    def repository(self) -> Any: ...

    @property
    def recorder(self) -> Any: ...

    vault: Any
    org_refreshed_at: float
    access_refreshed_at: float

    @property
    def mapper(self) -> Any: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...


@dataclass
class ImportResult:
    appended: int = 0
    skipped: int = 0
    ids: dict[str, str] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # accepted, but (e.g.) beyond a cap; with "line"


class UnitOfWork:
    """Aggregates loaded for one command (or one batch), saved together.

    ``fresh``: load every aggregate with the library's cache fast-forward (one query each).
    Otherwise (the hot path, ``record_score``) a cached copy is trusted: an aggregate to be
    changed is verified by its version when saved (a stale copy loses with an integrity
    error, and the command is retried fresh); the organization, only read there, is
    trusted if it was refreshed less than ``ORG_MAX_STALENESS`` seconds ago.
    """

    def __init__(self, app: Host, fresh: bool = True) -> None:
        self.app = app
        self.fresh = fresh
        self.auth: Authorization | None = None  # the acting user of the command being run
        self._stamped: dict[UUID, int] = {}  # aggregate id → pending events already stamped
        self.loaded: dict[UUID, tuple[Aggregate, bool]] = {}  # id → (aggregate, is a copy)
        self.keys: list[tuple[str, str, str, str]] = []  # key, digest, op, ref
        self.checkpoints: list[str] = []  # reasons: approvals ask for a signed checkpoint
        self.warnings: list[dict[str, Any]] = []  # accepted with a word: an entry the cap will not count in full
        self.guards: dict[UUID, int] = {}  # aggregates read, not written, that must not have moved
        self.saved: list[Callable[[], Any]] = []  # run once the events are stored (see after_save)
        # Stored events made without event objects (the batch path, domain/service/score_batch.py):
        # aggregate id → makes them, after the aggregate's own pending events, when saved.
        self.prepared: dict[UUID, Callable[[], list[Any]]] = {}

    @property
    def index(self) -> KeyIndex:
        """What the store knows about import keys and the log (the application's recorder)."""
        index: KeyIndex = self.app.recorder
        return index

    def stored_events(self, aggregate: Aggregate) -> Iterable[Any]:
        """The stored events of ``aggregate`` up to the version it was loaded at (its pending
        events not included). Precondition: ``aggregate`` was loaded in this unit of work."""
        stored_version = aggregate.version - len(aggregate.pending_events)
        return self.app.repository.event_store.get(aggregate.id, lte=stored_version) if stored_version > 0 else ()

    def after_save(self, action: Callable[[], Any]) -> None:
        """Run ``action`` once this unit of work is saved (not if the save fails: a retry
        runs in a new unit of work). For what must follow the log, never precede it
        (destroying a key after its erasure is recorded)."""
        self.saved.append(action)

    def stamp(self) -> None:
        """Mark the events the current command added with its acting user (``by``) and, for a
        migration, ``migrated`` and the original document's ``occurred_at``. The marks are
        part of the stored payload, so the Merkle leaf covers them."""
        auth = self.auth
        if auth is None:
            return
        for aggregate, copied in self.loaded.values():
            done = self._stamped.get(aggregate.id, 0)
            if not copied or len(aggregate.pending_events) == done:
                continue
            for e in aggregate.pending_events[done:]:
                object.__setattr__(e, "by", auth.user)
                if auth.migrated:
                    object.__setattr__(e, "migrated", True)
                if auth.occurred_at is not None:  # a migration's, or init's --documented-at
                    object.__setattr__(e, "occurred_at", auth.occurred_at)
            self._stamped[aggregate.id] = len(aggregate.pending_events)

    def access(self) -> Access:
        """The user directory, read-only (a cached copy within ``ORG_MAX_STALENESS``)."""
        trust = time.monotonic() - self.app.access_refreshed_at < ORG_MAX_STALENESS
        found = self.find_as(Access, access_id(), for_update=False, trust_cache=trust)
        if not trust:
            self.app.access_refreshed_at = time.monotonic()
        return found if found is not None else Access()

    def authorize(self, user: str | None, command: c.Command) -> Authorization:
        """Check ``user`` may send ``command`` now; remember it for :meth:`stamp`."""
        self.auth = authorize(self.access(), self.organization(), user, command, now_us())
        return self.auth

    def checkpoint(self, reason: str) -> None:
        """Ask the store for a signed checkpoint covering this unit of work's events."""
        self.checkpoints.append(reason)

    def find(self, aggregate_id: UUID, for_update: bool, trust_cache: bool = False) -> Any | None:
        """The aggregate, or None. Read-only loads share the cached object (never mutate it)."""
        if aggregate_id in self.loaded:
            held, copied = self.loaded[aggregate_id]
            if for_update and not copied:
                held = deepcopy(held)
                self.loaded[aggregate_id] = (held, True)
            return held
        aggregate: Aggregate | None = self._cached(aggregate_id) if (trust_cache and not self.fresh) else None
        if aggregate is not None:
            if for_update:
                aggregate = deepcopy(aggregate)
        else:
            try:
                aggregate = self.app.repository.get(aggregate_id, deepcopy_from_cache=for_update)
            except AggregateNotFoundError:
                return None
        self.loaded[aggregate_id] = (aggregate, for_update)
        return aggregate

    def find_as(self, kind: type[A], aggregate_id: UUID, for_update: bool,
                trust_cache: bool = False) -> A | None:
        """:meth:`find`, typed as ``kind``. Precondition: ``aggregate_id`` is an id of that kind
        of aggregate (``domain/ids.py`` derives each id from its kind's own namespace and
        key, so an id never names an aggregate of another class)."""
        return cast("A | None", self.find(aggregate_id, for_update, trust_cache))

    def _cached(self, aggregate_id: UUID) -> Any | None:
        cache = self.app.repository.cache
        try:
            return cache.get(aggregate_id) if cache is not None else None
        except KeyError:
            return None

    def depend_on(self, aggregate: Aggregate | None) -> None:
        """Make the save fail (an integrity error: the command is retried with fresh loads)
        if ``aggregate`` got a new event after it was loaded here. For what a command only
        reads but records a result of (an approval freezes its months' scores): the store
        checks the versions under its write lock, so no write to them can land between the
        read and this command's events. Precondition: ``aggregate`` was loaded fresh in this
        unit of work (not a trusted cached copy)."""
        if aggregate is not None:
            self.guards.setdefault(aggregate.id, aggregate.version - len(aggregate.pending_events))

    def add(self, aggregate: Aggregate) -> None:
        self.loaded[aggregate.id] = (aggregate, True)

    def holder_of(self, event_name: str, field: str, value: UUID) -> UUID | None:
        """The aggregate, among those changed in this unit of work, with a pending event of
        that name carrying ``value`` (a batch refers to its own earlier lines)."""
        for aggregate, copied in self.loaded.values():
            if copied and any(type(e).__name__ == event_name and getattr(e, field, None) == value
                              for e in aggregate.pending_events):
                return aggregate.id
        return None

    def organization(self, for_update: bool = False) -> Organization:
        trust = not for_update and time.monotonic() - self.app.org_refreshed_at < ORG_MAX_STALENESS
        org = self.find_as(Organization, organization_id(), for_update, trust_cache=trust)
        if not trust:
            self.app.org_refreshed_at = time.monotonic()
        if org is None or not org.rulebooks:
            raise NotInitialized("账本尚未初始化，请先运行 ledger init", None)
        return org

    def find_or_open(self, aggregate_id: UUID, open_: Callable[[], A], trust_cache: bool = False) -> A:
        """The aggregate, loaded for update, or a new one (its first event pending).
        Precondition: ``aggregate_id`` is an id of the kind ``open_`` makes (see :meth:`find_as`)."""
        found = self.find(aggregate_id, for_update=True, trust_cache=trust_cache)
        if found is None:
            opened = open_()
            self.add(opened)
            return opened
        return cast(A, found)

    def month(self, period: str) -> AssessmentMonth:
        return self.find_or_open(month_id(period), lambda: AssessmentMonth(period=period),
                                 trust_cache=True)

    def save(self) -> int:
        """Save every changed aggregate in one transaction; cache the saved copies (they
        are now the stored state)."""
        pending = [a for a, copied in self.loaded.values() if copied and (a.pending_events or a.id in self.prepared)]
        count = sum(len(a.pending_events) for a in pending)
        if pending or self.keys:
            reason = None
            if self.checkpoints:  # a batch may approve many periods: name the first and count the rest
                more = len(self.checkpoints) - 1
                op, _, rest = self.checkpoints[0].partition(" ")  # "approve_month 2019-07" → 审批月度 2019-07
                reason = f"{vocabulary.op_name(op)} {rest}".strip() + (f"（另 {more} 项）" if more else "")
            written = {a.id for a in pending}  # their own versions are checked by the insert
            guards = {i: v for i, v in self.guards.items() if i not in written}
            if self.prepared:
                pending = self._save_prepared(reason, guards)
            else:
                self.app.save(*pending, import_keys=self.keys, checkpoint=reason, guards=guards)
            cache = self.app.repository.cache
            if cache is not None:
                for aggregate in pending:
                    cache.put(aggregate.id, aggregate)
        for action in self.saved:
            action()
        return count

    def _save_prepared(self, reason: str | None, guards: dict[UUID, int]) -> list[Aggregate]:
        """:meth:`save` with prepared events: each changed aggregate's pending events (through
        the library's mapper), then its prepared ones, in the order the aggregates were
        loaded — the order ``Application.save`` stores them in — in one transaction.
        Returns the aggregates saved."""
        saved, stored = [], []
        to_stored = self.app.mapper.to_stored_event
        for aggregate, copied in self.loaded.values():
            prepared = self.prepared.get(aggregate.id)
            if not copied or not (aggregate.pending_events or prepared):
                continue
            stored += [to_stored(e) for e in aggregate.pending_events]
            if prepared is not None:
                stored += prepared()
            saved.append(aggregate)
        self.app.recorder.insert_events(stored, import_keys=self.keys, checkpoint=reason, guards=guards)
        for aggregate in saved:
            aggregate.collect_events()
        return saved
