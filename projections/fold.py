"""A small base for the on-demand folds of the member-level mechanisms.

Each fold names the aggregates whose events it reads (``TOPICS``: the ``Aggregate.``
prefixes of the topics) and has one ``on_<Aggregate>_<Event>`` method per event it
understands; events it does not understand are skipped. The adapters feed it the log
filtered by those topics, up to a position or an as-of moment: the same fold serves the
live view, an as-of replay and an explanation.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Iterable

from domain.integrity.log import LoggedEvent


class Fold:
    TOPICS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.position = 0
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


class OrgFold(Fold):
    """A fold that also needs the organization: its branches, its rulebook versions and its
    people (a :class:`projections.people.PeopleModel` fed the person and roster events).

    Subclasses name their own aggregates in ``TOPICS``; these three are always read.
    """

    ORG_TOPICS: ClassVar[tuple[str, ...]] = ("Organization", "Person", "BranchRoster")

    def __init__(self) -> None:
        super().__init__()
        from projections.people import PeopleModel  # people is itself a Fold: import here
        self.people = PeopleModel()
        self.branches: dict[str, dict[str, Any]] = {}
        self.rulebooks: dict[int, tuple[str | None, dict[str, Any]]] = {}
        self._parsed: dict[int, Any] = {}

    @classmethod
    def topic_filter(cls) -> tuple[str, ...]:
        return tuple(t + ".%" for t in dict.fromkeys((*cls.TOPICS, *cls.ORG_TOPICS)))

    def apply(self, event: LoggedEvent) -> None:
        if event.name.startswith(("Person.", "BranchRoster.")):
            self.people.apply(event)
            self.position = event.position
        else:
            super().apply(event)

    def on_Organization_BranchRegistered(self, e: LoggedEvent) -> None:
        self.branches[e.raw["code"]] = {"name": e.raw["name"], "from_month": e.raw["from_month"]}

    def on_Organization_RulebookAdopted(self, e: LoggedEvent) -> None:
        self.rulebooks[int(e.raw["version"])] = (e.raw["effective_from"], e.raw["parameters"])

    def rulebook_in(self, month: str) -> Any:
        """The :class:`domain.assessment.rulebook.Rulebook` version in force in ``month`` (YYYY-MM);
        :class:`NotInitialized` if the log (as folded) has no version yet."""
        from domain.assessment.organization import version_in_force
        from domain.assessment.rulebook import Rulebook
        from domain.errors import NotInitialized
        try:
            version = version_in_force(((v, start) for v, (start, _) in self.rulebooks.items()), month)
        except ValueError:  # no version (in force) yet
            raise NotInitialized("账本（在所示时刻）还没有考核细则：尚未初始化", None) from None
        if version not in self._parsed:
            self._parsed[version] = Rulebook.from_parameters(version, self.rulebooks[version][1])
        return self._parsed[version]
