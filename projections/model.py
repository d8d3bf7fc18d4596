"""The assessment fold: organization, rulebook versions, month sums, approvals.

``AssessmentModel.apply`` takes events in log order. The state is bounded by branches ×
periods × categories (sums, never the entries themselves). It is split in sections
(``org``, ``month:YYYY-MM``, ``quarter:YYYYQn``) that serialise to JSON, so a maintained
view stores only the sections an event changed.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import orjson

from domain.assessment.in_force import members_in, secretary_in, taking_part, version_in_force
from domain.assessment.rulebook import Rulebook
from domain.assessment.scoring import Secretary, to_cents
from domain.errors import CorruptLog, NotInitialized
from domain.ids import month_id, quarter_id, year_id
from domain.integrity.log import LoggedEvent, provenance
from domain.members.enrolment import enrolled_count
from projections.fold import closing_iterable

ORG = "org"
SCORE_RECORDED = "AssessmentMonth.ScoreRecorded"
# What a stored event that is not what its type says raises while folded: a payload that is
# not JSON (ValueError), an event of an aggregate never opened or missing a field (KeyError),
# a field of the wrong shape (TypeError, AttributeError, IndexError, decimal.InvalidOperation).
FOLD_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError, ArithmeticError)
_CENTS: dict[str, int] = {}  # points text → cents: a month's entries repeat a few values
_RULEBOOKS: dict[tuple[int, bytes], Rulebook] = {}  # (version, its stored parameters' JSON) → parsed


def parsed_rulebook(version: int, params: Mapping[str, Any]) -> Rulebook:
    """``Rulebook.from_parameters``, each distinct version and parameters parsed once per
    process (a quarter's view asks for its rulebook four times; a Rulebook is frozen, so
    sharing it is safe). Parameters that are not plain JSON are parsed every time."""
    try:
        key = (version, orjson.dumps(params))
    except TypeError:
        return Rulebook.from_parameters(version, params)
    known = _RULEBOOKS.get(key)
    if known is None:
        known = Rulebook.from_parameters(version, params)
        if len(_RULEBOOKS) >= 256:
            _RULEBOOKS.clear()
        _RULEBOOKS[key] = known
    return known


def _cents_of(points: Any) -> int:
    """Cents of a transcoded decimal (``{"_type_": "decimal_str", "_data_": "-0.50"}``) or its
    text, as :func:`to_cents` of the Decimal gives (memoised by text)."""
    text = points["_data_"] if type(points) is dict else points
    found = _CENTS.get(text)
    if found is None:
        from decimal import Decimal
        found = to_cents(Decimal(text))
        if len(_CENTS) > 4096:
            _CENTS.clear()
        _CENTS[text] = found
    return found


def corrupt(position: int | None, exc: BaseException) -> CorruptLog:
    """The :class:`CorruptLog` for an event at ``position`` that failed to decode or fold with ``exc``."""
    if isinstance(exc, ValueError) and type(exc).__name__ == "JSONDecodeError":
        return CorruptLog(position, "事件内容不是有效的 JSON")
    if isinstance(exc, KeyError):
        return CorruptLog(position, f"缺少 {exc.args[0]!s:.80}：事件所属的对象未建立，或事件缺少该字段")
    return CorruptLog(position, "事件的字段与其类型不符")


def plain(value: Any) -> Any:
    """Decimals and UUIDs to strings, recursively (JSON-able sections)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


class MonthState:
    """A month as folded: status, sums per branch and category, and its approval."""

    __slots__ = ("status", "sums", "entries", "approval", "business", "_marked")
    _marked: set[str] | None  # the dirty set this month was last marked in

    def dirty_section(self, dirty: set[str], period: str) -> None:
        """Mark this month's section changed (once per set of dirty sections)."""
        if self._marked is not dirty:
            dirty.add("month:" + period)
            self._marked = dirty

    def __init__(self) -> None:
        self._marked = None
        self.status = "draft"
        self.sums: dict[str, dict[str, int]] = {}  # branch → category → signed sum in cents
        self.business: dict[str, str] = {}  # branch → business score (双百分), latest recorded
        self.entries = 0
        # On approval: {"position", "rulebook_version", "actor", "results": [frozen rows]}
        self.approval: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "entries": self.entries, "approval": self.approval,
                "sums": self.sums, "business": self.business}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MonthState":
        m = cls()
        m.status, m.entries, m.approval = data["status"], data["entries"], data["approval"]
        m.sums = data["sums"]
        m.business = data.get("business", {})
        return m


class AssessmentModel:
    """The fold. ``position`` is the last log position applied."""

    # The aggregates whose events it folds (the ``Aggregate.`` prefixes of their topics).
    TOPICS = ("Organization", "AssessmentMonth", "AssessmentQuarter", "AssessmentYear", "BranchRoster")

    def __init__(self) -> None:
        self.position = 0
        # On the document clock, what the slice held (projections/documents.py); None otherwise.
        self.replayed: dict[str, Any] | None = None
        # code → {"name", "from_month", "members": [[from, n]], "secretaries": [[from, name, mode, user, allowance]]}
        self.org: dict[str, Any] = {"branches": {}, "rulebooks": {}}
        self.months: dict[str, MonthState] = {}
        self.quarters: dict[str, dict[str, Any]] = {}
        # year → {"unit": {branch: score}, "debriefing": {…}, "approval": {…} | None}
        self.years: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        self.names: dict[Any, str] = {}  # month or quarter aggregate id → period
        self._handlers: dict[str, Callable[[LoggedEvent], None]] = {
            "Organization.BranchRegistered": self._branch_registered,
            "Organization.MembersSet": self._members_set,
            "Organization.SecretaryAppointed": self._secretary_appointed,
            "Organization.RulebookAdopted": self._rulebook_adopted,
            "AssessmentMonth.Opened": self._opened,
            "AssessmentMonth.ScoreRecorded": self._score_recorded,
            "AssessmentMonth.Submitted": self._month_status("submitted"),
            "AssessmentMonth.Returned": self._month_status("draft"),
            "AssessmentMonth.Approved": self._month_approved,
            "AssessmentMonth.BusinessScoreRecorded": self._business_recorded,
            "AssessmentMonth.EntryVoided": self._entry_changed,
            "AssessmentMonth.EntryCorrected": self._entry_changed,
            "AssessmentQuarter.Opened": self._opened,
            "AssessmentQuarter.Approved": self._quarter_approved,
            "AssessmentQuarter.Reapproved": self._quarter_approved,
            "AssessmentYear.Opened": self._opened,
            "AssessmentYear.UnitPerformanceRecorded": self._year_input("unit"),
            "AssessmentYear.DebriefingRecorded": self._year_input("debriefing"),
            "AssessmentYear.Approved": self._year_approved,
            "AssessmentYear.Reapproved": self._year_approved,
            "BranchRoster.MemberJoined": self._member_joined,
            "BranchRoster.MemberLeft": self._member_left,
        }

    @property
    def branches(self) -> dict[str, dict[str, Any]]:
        branches: dict[str, dict[str, Any]] = self.org["branches"]
        return branches

    # -- folding -------------------------------------------------------------------------
    def apply(self, event: LoggedEvent) -> None:
        """Apply one event. Precondition: ``event.position`` > ``self.position``."""
        handler = self._handlers.get(event.name)
        if handler is not None:
            try:
                handler(event)
            except FOLD_ERRORS as exc:
                raise corrupt(event.position, exc) from None
        self.position = event.position

    def apply_all(self, events: Iterable[LoggedEvent]) -> "AssessmentModel":
        """Apply every event; the iterable is closed however the fold ends (a log reader's
        generator holds a database transaction until it is)."""
        with closing_iterable(events):
            for e in events:
                self.apply(e)
        return self

    def handled_events(self) -> frozenset[str]:
        """The event names (``Aggregate.Event``) this fold reads (projections/readers.py)."""
        return frozenset(self._handlers)

    @classmethod
    def topic_filter(cls) -> tuple[str, ...]:
        """The ``topic_suffixes`` a log reader is given for this fold's events."""
        return tuple(t + ".%" for t in cls.TOPICS)

    def apply_rows(self, pages: Iterable[tuple[list[tuple[int, int, Any, int, str, Any]], Mapping[Any, Any]]],
                   decode: Callable[[Any], Any]) -> "AssessmentModel":
        """:meth:`apply_all` over pages of plain rows (``LogReader.rows``): each page a list
        of ``(position, recorded_at_us, stored aggregate id, version, topic, payload)`` and a
        map from stored aggregate ids to UUIDs; ``decode`` turns a payload into its JSON
        value. The same result as :meth:`apply_all`; the hot event (a score entry) is folded
        without building a :class:`LoggedEvent`, and no decoded payload outlives its event.
        Precondition: rows in log order, positions above :attr:`position`."""
        handlers = self._handlers
        names, months, dirty = self.names, self.months, self.dirty
        kinds: dict[str, str] = {}
        periods: dict[Any, str] = {}  # stored aggregate id → period, for score entries
        cents = _cents_of
        with closing_iterable(pages):
            self._fold_pages(pages, decode, handlers, names, months, dirty, kinds, periods, cents)
        return self

    def _fold_pages(self, pages: Iterable[tuple[list[tuple[int, int, Any, int, str, Any]], Mapping[Any, Any]]],
                    decode: Callable[[Any], Any], handlers: Mapping[str, Callable[[LoggedEvent], None]],
                    names: dict[Any, str], months: dict[str, MonthState], dirty: set[str],
                    kinds: dict[str, str], periods: dict[Any, str], cents: Callable[[Any], int]) -> None:
        for page, ids in pages:
            pos = self.position
            try:
                for pos, at, agg, ver, topic, state in page:
                    kind = kinds.get(topic)
                    if kind is None:
                        kind = kinds[topic] = topic.rpartition(":")[2]
                    if kind == SCORE_RECORDED:
                        raw = decode(state)
                        period = periods.get(agg)
                        if period is None:
                            period = periods[agg] = names[ids[agg]]
                        month = months.get(period)
                        if month is None or month._marked is not dirty:
                            month = self._month(period)
                        branch = raw["branch"]
                        cats = month.sums.get(branch)
                        if cats is None:
                            cats = month.sums[branch] = {}
                        category = raw["category"]
                        cats[category] = cats.get(category, 0) + cents(raw["points"])
                        month.entries += 1
                    else:
                        handler = handlers.get(kind)
                        if handler is not None:
                            handler(LoggedEvent(pos, at, ids[agg], ver, topic, decode(state)))
            except FOLD_ERRORS as exc:  # the event at fault: the loop's current row
                raise corrupt(pos, exc) from None
            if page:
                self.position = page[-1][0]

    def _branch_registered(self, e: LoggedEvent) -> None:
        d = e.data
        self.branches[d["code"]] = {"name": d["name"], "from_month": d["from_month"],
                                    "members": [[d["from_month"], d["members"]]],
                                    "secretaries": []}
        self.dirty.add(ORG)

    def _members_set(self, e: LoggedEvent) -> None:
        self.branches[e.data["branch"]]["members"].append([e.data["from_month"], e.data["members"]])
        self.dirty.add(ORG)

    def _member_joined(self, e: LoggedEvent) -> None:
        rosters = self.org.setdefault("rosters", {})
        rosters.setdefault(e.raw["branch"], {}).setdefault(e.raw["person"], []).append([e.raw["from_month"], None])
        self.dirty.add(ORG)

    def _member_left(self, e: LoggedEvent) -> None:
        self.org["rosters"][e.raw["branch"]][e.raw["person"]][-1][1] = e.raw["from_month"]
        self.dirty.add(ORG)

    def _secretary_appointed(self, e: LoggedEvent) -> None:
        d = e.data
        self.branches[d["branch"]]["secretaries"].append(
            [d["from_month"], d["name"], d["mode"], d["user"], plain(d["allowance"])])
        self.dirty.add(ORG)

    def _rulebook_adopted(self, e: LoggedEvent) -> None:
        self.org["rulebooks"][str(e.data["version"])] = [e.data["effective_from"], e.data["parameters"]]
        self.dirty.add(ORG)

    def _opened(self, e: LoggedEvent) -> None:
        period = e.data["period"]
        self.names[e.aggregate_id] = period
        if len(period) == 7:  # YYYY-MM
            self._month(period)
        elif len(period) == 4:  # YYYY
            self._year(period)

    def _year(self, period: str) -> dict[str, Any]:
        year = self.years.get(period)
        if year is None:
            year = self.years[period] = {"unit": {}, "debriefing": {}, "approval": None}
        self.dirty.add("year:" + period)
        return year

    def _year_input(self, kind: str) -> Callable[[LoggedEvent], None]:
        def handler(e: LoggedEvent) -> None:
            self._year(self.names[e.aggregate_id])[kind][e.data["branch"]] = str(e.data["score"])
        return handler

    def _year_approved(self, e: LoggedEvent) -> None:
        self._year(self.names[e.aggregate_id])["approval"] = {
            "position": e.position, "approval_id": str(e.data["approval_id"]),
            "rulebook_version": e.data["rulebook_version"], "actor": e.data["actor"],
            "results": plain(e.data["results"]), **provenance(e.raw)}

    def _business_recorded(self, e: LoggedEvent) -> None:
        self._month(self.names[e.aggregate_id]).business[e.data["branch"]] = str(e.data["score"])

    def _month(self, period: str) -> MonthState:
        month = self.months.get(period)
        if month is None:
            month = self.months[period] = MonthState()
        month.dirty_section(self.dirty, period)
        return month

    def _score_recorded(self, e: LoggedEvent) -> None:
        raw = e.raw  # the hot path: read the three fields needed, undecoded where possible
        month = self._month(self.names[e.aggregate_id])
        cats = month.sums.get(raw["branch"])
        if cats is None:
            cats = month.sums[raw["branch"]] = {}
        category = raw["category"]
        cats[category] = cats.get(category, 0) + to_cents(e.decimal("points"))
        month.entries += 1

    def _entry_changed(self, e: LoggedEvent) -> None:
        """A void takes the entry's points out; a correction replaces old points by new."""
        raw = e.raw
        month = self._month(self.names[e.aggregate_id])
        cats = month.sums.setdefault(raw["branch"], {})
        if "new_points" in raw:
            delta = to_cents(e.decimal("new_points")) - to_cents(e.decimal("old_points"))
        else:
            delta = -to_cents(e.decimal("points"))
        cats[raw["category"]] = cats.get(raw["category"], 0) + delta

    def _month_status(self, status: str) -> Callable[[LoggedEvent], None]:
        def handler(e: LoggedEvent) -> None:
            self._month(self.names[e.aggregate_id]).status = status
        return handler

    def _month_approved(self, e: LoggedEvent) -> None:
        month = self._month(self.names[e.aggregate_id])
        month.status = "approved"
        month.approval = {"position": e.position, "rulebook_version": e.data["rulebook_version"],
                          "actor": e.data["actor"], "results": plain(e.data["results"]), **provenance(e.raw)}

    def _quarter_approved(self, e: LoggedEvent) -> None:
        period = self.names[e.aggregate_id]
        self.quarters[period] = {"status": "approved", "approval_id": str(e.data["approval_id"]),
                                 "rulebook_version": e.data["rulebook_version"],
                                 "position": e.position, "actor": e.data["actor"],
                                 "ranking": plain(e.data["ranking"]), **provenance(e.raw)}
        self.dirty.add("quarter:" + period)

    # -- questions -----------------------------------------------------------------------
    def rulebook(self, month: str, version: int | None = None) -> Rulebook:
        """The version given, or else the latest in force for ``month``.

        Precondition: a rulebook version exists.
        """
        books = self.org["rulebooks"]
        if not books:
            raise NotInitialized("账本（在所示时刻）还没有考核细则：尚未初始化", None)
        if version is None:
            version = version_in_force(((int(v), start) for v, (start, _) in books.items()), month)
        return parsed_rulebook(version, books[str(version)][1])

    def secretary_in(self, code: str, month: str) -> Secretary | None:
        return secretary_in(self.branches[code]["secretaries"], month)

    def members_in(self, code: str, month: str) -> int:
        """Enrolments in force if the branch has any (domain/members/people.py), else the declared count."""
        counted = enrolled_count(self.org.get("rosters", {}).get(code, {}), month)
        return self.declared_members_in(code, month) if counted is None else counted

    def declared_members_in(self, code: str, month: str) -> int:
        """The count given by ``register_branch``/``set_members``."""
        return members_in(self.branches[code]["members"], month)

    def member_count_warnings(self, month: str) -> list[dict[str, Any]]:
        """Branches whose enrolments and declared count disagree in ``month``."""
        out = []
        for code, spans in sorted(self.org.get("rosters", {}).items()):
            enrolled, declared = enrolled_count(spans, month), self.declared_members_in(code, month)
            if enrolled is not None and enrolled != declared:
                out.append({"branch": code, "month": month, "enrolled": enrolled, "declared": declared})
        return out

    def taking_part(self, first_month: str) -> list[str]:
        """Codes of branches taking part in a period starting at ``first_month``, sorted."""
        return taking_part(self.branches, first_month)

    # -- sections, for a maintained view -------------------------------------------------
    def section(self, name: str) -> Any:
        if name == ORG:
            return self.org
        kind, _, period = name.partition(":")
        if kind == "month":
            return self.months[period].to_json()
        return self.years[period] if kind == "year" else self.quarters[period]

    def load_section(self, name: str, data: Any) -> None:
        kind, _, period = name.partition(":")
        if name == ORG:
            self.org = data
        elif kind == "month":
            self.months[period] = MonthState.from_json(data)
            self.names[month_id(period)] = period
        elif kind == "quarter":
            self.quarters[period] = data
            self.names[quarter_id(period)] = period
        elif kind == "year":
            self.years[period] = data
            self.names[year_id(period)] = period
