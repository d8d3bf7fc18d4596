"""A small base for the on-demand folds of the member-level mechanisms.

Each fold names the aggregates whose events it reads (``TOPICS``: the ``Aggregate.``
prefixes of the topics) and has one ``on_<Aggregate>_<Event>`` method per event it
understands; events it does not understand are skipped. The adapters feed it the log
filtered by those topics, up to a position or an as-of moment: the same fold serves the
live view, an as-of replay and an explanation.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, ClassVar, Iterable, Iterator

from domain.integrity.log import LoggedEvent


@contextmanager
def closing_iterable(items: Iterable[Any]) -> Iterator[None]:
    """Close ``items`` on leaving (if it can be closed: a generator), whatever ended the loop
    over it: a log reader abandoned by a fold that raised would otherwise hold its cursor's
    transaction (and the locks a schema drop or restore waits for) until collected."""
    try:
        yield
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()



class Fold:
    TOPICS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.position = 0
        # On the document clock, what the slice held (projections/documents.py); None otherwise.
        self.replayed: dict[str, Any] | None = None
        self._handlers: dict[str, Callable[[LoggedEvent], None] | None] = {}

    def apply(self, event: LoggedEvent) -> None:
        name = event.name
        handler = self._handlers.get(name, ...)
        if handler is ...:
            handler = self._handlers[name] = getattr(self, "on_" + name.replace(".", "_"), None)
        if handler is not None:
            handler(event)
        self.position = event.position

    def apply_all(self, events: Iterable[LoggedEvent]) -> "Fold":
        """Apply every event; the iterable is closed however the fold ends."""
        with closing_iterable(events):
            for event in events:
                self.apply(event)
        return self

    @classmethod
    def topic_filter(cls) -> tuple[str, ...]:
        """The ``topic_suffixes`` a log reader is given (``Aggregate.%`` each)."""
        return tuple(t + ".%" for t in cls.TOPICS)


def actor_of(event: LoggedEvent) -> dict[str, Any]:
    """Who recorded an event and when (for explanations): actor, recorded-at, position."""
    return {"actor": event.raw.get("actor"), "recorded_at_us": event.recorded_at_us,
            "position": event.position}
