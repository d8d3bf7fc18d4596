"""The read side of the registry (issue 15): every kind of event the domain records is read by
a fold or says where it is read instead (projections/readers.py)."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Iterator

from eventsourcing.domain import Aggregate

import domain
from projections.readers import READ_ELSEWHERE, folded, readers


def _subclasses(cls: type) -> Iterator[type]:
    for s in cls.__subclasses__():
        yield s
        yield from _subclasses(s)


def recorded_events() -> set[str]:
    """``Aggregate.Event`` of every event class of the domain that is recorded as such: the
    leaves of each aggregate's event classes (its ``Event`` and ``Created`` bases are not)."""
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    leaves = [cls for cls in _subclasses(Aggregate.Event)
              if cls.__module__.startswith("domain.") and cls.__qualname__.count(".") == 1 and not cls.__subclasses__()]
    # The library gives every aggregate a ``Created`` class; one that records its own creation
    # event (``Opened``, ``Registered``…) never records that one.
    own_creation = {cls.__qualname__.split(".")[0] for cls in leaves
                    if issubclass(cls, Aggregate.Created) and cls.__name__ != "Created"}
    return {cls.__qualname__ for cls in leaves
            if not (cls.__name__ == "Created" and cls.__qualname__.split(".")[0] in own_creation)}


def test_every_recorded_event_has_a_reader() -> None:
    events = recorded_events()
    assert len(events) > 60  # the walk found the domain's events
    unread = sorted(events - set(readers()))
    assert unread == [], f"events no fold reads and READ_ELSEWHERE does not account for: {unread}"


def test_the_registry_names_only_events_that_exist_and_none_twice() -> None:
    events = recorded_events()
    assert sorted(set(READ_ELSEWHERE) - events) == []
    assert sorted(set(READ_ELSEWHERE) & set(folded())) == []  # a folded event needs no other entry
    assert sorted(set(folded()) - events) == []  # no fold handler for an event that does not exist
