"""A fold that also needs the organization: its branches, rulebook versions and people
(the base of the member-level mechanisms' folds; :class:`projections.fold.Fold` is the plain one)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from domain.integrity.log import LoggedEvent
from projections.fold import Fold
from projections.people import PeopleModel

if TYPE_CHECKING:  # imported where used (rulebook_in), as before
    from domain.assessment.rulebook import Rulebook


class OrgFold(Fold):
    """A fold that also needs the organization: its branches, its rulebook versions and its
    people (a :class:`projections.people.PeopleModel` fed the person and roster events).

    Subclasses name their own aggregates in ``TOPICS``; these three are always read.
    """

    ORG_TOPICS: ClassVar[tuple[str, ...]] = ("Organization", "Person", "BranchRoster")

    def __init__(self) -> None:
        super().__init__()
        self.people = PeopleModel()
        self.branches: dict[str, dict[str, Any]] = {}
        self.rulebooks: dict[int, tuple[str | None, dict[str, Any]]] = {}
        self._parsed: dict[int, Rulebook] = {}

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

    def rulebook_in(self, month: str) -> Rulebook:
        """The :class:`domain.assessment.rulebook.Rulebook` version in force in ``month`` (YYYY-MM);
        :class:`NotInitialized` if the log (as folded) has no version yet."""
        from domain.assessment.in_force import version_in_force
        from domain.assessment.rulebook import Rulebook
        from domain.errors import NotInitialized
        try:
            version = version_in_force(((v, start) for v, (start, _) in self.rulebooks.items()), month)
        except ValueError:  # no version (in force) yet
            raise NotInitialized("账本（在所示时刻）还没有考核细则：尚未初始化", None) from None
        if version not in self._parsed:
            self._parsed[version] = Rulebook.from_parameters(version, self.rulebooks[version][1])
        return self._parsed[version]
