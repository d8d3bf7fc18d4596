"""The ledger's one application service: the commands every adapter calls.

It gets its store from the environment (``PERSISTENCE_MODULE``, ``SQLALCHEMY_URL``; see
``adapters/bootstrap.py``), so it imports no driver. Each command is one unit of work:
load, act, save every pending event in one transaction, return ids. A write that loses
a race (same aggregate version, or same import key) is reloaded and re-checked, up to
``RETRIES`` times, then refused with :class:`ConcurrentWrite`.
"""
from __future__ import annotations

import random
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol, Sequence, TypeVar
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain import commands as c
from domain.assessment import APPROVED, AssessmentMonth, AssessmentQuarter
from domain.annual import annual_ranking
from domain.corrections import CorrectionCommands
from domain.access import Access, now_us
from domain.handlers import HANDLERS
from domain.permissions import Authorization, authorize, roles_of
from domain.errors import (PermissionDenied, SeparationOfDuties, UserRefused, BranchNotFound, BranchNotTakingPart, ConcurrentWrite, DuplicateKey, LedgerError,
                           NotInitialized, QuarterNotReady, YearNotReady)
from domain.ids import access_id, month_id, organization_id, quarter_id, year_id
from domain.organization import Organization, members_in
from domain.periods import month_range, quarter_months
from domain.results import canonical_hash, frozen_secretary, month_records, month_results, quarter_ranking
from domain.rulebook import RULEBOOK_V1
from domain.scoring import monthly_score_cents, to_cents
from domain.year import AssessmentYear

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
try:
    CODE_VERSION = _package_version("party-ledger")  # recorded by approvals: which code computed them
except PackageNotFoundError:  # running from a checkout that was not installed
    CODE_VERSION = "unknown"
RETRIES = 5
ORG_MAX_STALENESS = 1.0  # seconds a cached organization may serve record_score unrefreshed


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


@dataclass
class LineError:
    """A refused import line: 1-based line number, field at fault, reason."""

    line: int
    field: str | None
    reason: str


class ImportRefused(LedgerError):
    """A batch with at least one invalid line; nothing was written."""

    def __init__(self, errors: list[LineError]) -> None:
        first = errors[0]
        super().__init__(f"第 {first.line} 行：{first.reason}", first.field)
        self.errors = errors


@dataclass
class ImportResult:
    appended: int = 0
    skipped: int = 0
    ids: dict[str, str] = field(default_factory=dict)


class UnitOfWork:
    """Aggregates loaded for one command (or one batch), saved together.

    ``fresh``: load every aggregate with the library's cache fast-forward (one query each).
    Otherwise (the hot path, ``record_score``) a cached copy is trusted: an aggregate to be
    changed is verified by its version when saved (a stale copy loses with an integrity
    error, and the command is retried fresh); the organization, only read there, is
    trusted if it was refreshed less than ``ORG_MAX_STALENESS`` seconds ago.
    """

    def __init__(self, app: "Ledger", fresh: bool = True) -> None:
        self.app = app
        self.fresh = fresh
        self.auth: Authorization | None = None  # the acting user of the command being run
        self._stamped: dict[UUID, int] = {}  # aggregate id → pending events already stamped
        self.loaded: dict[UUID, tuple[Aggregate, bool]] = {}  # id → (aggregate, is a copy)
        self.keys: list[tuple[str, str, str, str]] = []  # key, digest, op, ref
        self.checkpoints: list[str] = []  # reasons: approvals ask for a signed checkpoint

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
                    if auth.occurred_at is not None:
                        object.__setattr__(e, "occurred_at", auth.occurred_at)
            self._stamped[aggregate.id] = len(aggregate.pending_events)

    def access(self) -> Access:
        """The user directory, read-only (a cached copy within ``ORG_MAX_STALENESS``)."""
        trust = time.monotonic() - self.app.access_refreshed_at < ORG_MAX_STALENESS
        found = self.find(access_id(), for_update=False, trust_cache=trust)
        if not trust:
            self.app.access_refreshed_at = time.monotonic()
        return found if found is not None else Access()  # type: ignore[no-any-return]

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
            aggregate, copied = self.loaded[aggregate_id]
            if for_update and not copied:
                aggregate = deepcopy(aggregate)
                self.loaded[aggregate_id] = (aggregate, True)
            return aggregate
        aggregate = self._cached(aggregate_id) if (trust_cache and not self.fresh) else None
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

    def _cached(self, aggregate_id: UUID) -> Any | None:
        cache = self.app.repository.cache
        try:
            return cache.get(aggregate_id) if cache is not None else None
        except KeyError:
            return None

    def add(self, aggregate: Aggregate) -> None:
        self.loaded[aggregate.id] = (aggregate, True)

    def holder_of(self, event_name: str, field: str, value: UUID) -> UUID | None:
        """The aggregate, among those changed in this unit of work, with a pending event of
        that name carrying ``value`` (a batch refers to its own earlier lines)."""
        for aggregate, copied in self.loaded.values():
            if copied and any(type(e).__name__ == event_name and getattr(e, field, None) == value
                              for e in aggregate.pending_events):
                return aggregate.id  # type: ignore[no-any-return]
        return None

    def organization(self, for_update: bool = False) -> Organization:
        trust = not for_update and time.monotonic() - self.app.org_refreshed_at < ORG_MAX_STALENESS
        org = self.find(organization_id(), for_update, trust_cache=trust)
        if not trust:
            self.app.org_refreshed_at = time.monotonic()
        if org is None or not org.rulebooks:
            raise NotInitialized("账本尚未初始化，请先运行 ledger init", None)
        return org  # type: ignore[no-any-return]

    def find_or_open(self, aggregate_id: UUID, open_: Callable[[], Aggregate], trust_cache: bool = False) -> Any:
        """The aggregate, loaded for update, or a new one (its first event pending)."""
        aggregate = self.find(aggregate_id, for_update=True, trust_cache=trust_cache)
        if aggregate is None:
            aggregate = open_()
            self.add(aggregate)
        return aggregate

    def month(self, period: str) -> AssessmentMonth:
        return self.find_or_open(month_id(period), lambda: AssessmentMonth(period=period),  # type: ignore[no-any-return]
                                 trust_cache=True)

    def save(self) -> int:
        """Save every changed aggregate in one transaction; cache the saved copies (they
        are now the stored state)."""
        pending = [a for a, copied in self.loaded.values() if copied and a.pending_events]
        count = sum(len(a.pending_events) for a in pending)
        if pending or self.keys:
            reason = None
            if self.checkpoints:  # a batch may approve many periods: name the first and count the rest
                more = len(self.checkpoints) - 1
                reason = self.checkpoints[0] + (f" (+{more} more)" if more else "")
            self.app.save(*pending, import_keys=self.keys, checkpoint=reason)
            cache = self.app.repository.cache
            if cache is not None:
                for aggregate in pending:
                    cache.put(aggregate.id, aggregate)
        return count


class Ledger(CorrectionCommands, Application):
    """党建考核审计账本 — the commands of the task-book flow."""

    name = "Ledger"
    env = {"AGGREGATE_CACHE_MAXSIZE": "4096"}
    org_refreshed_at = float("-inf")
    access_refreshed_at = float("-inf")
    default_user: str | None = None  # the acting user when a call names none (test fixtures, scripts)
    security_log: SecurityLog | None = None  # set by the adapters (adapters/security.py)

    # -- running commands --------------------------------------------------------------
    def _run(self, work: Callable[[UnitOfWork], T], hot: bool = False) -> T:
        """Run ``work`` in a unit of work and save it; on a lost race, retry with fresh
        loads. ``hot``: trust cached copies on the first attempt (see UnitOfWork)."""
        for attempt in range(RETRIES):
            uow = UnitOfWork(self, fresh=not (hot and attempt == 0))
            try:
                result = work(uow)
            except BranchNotFound:
                if uow.fresh:
                    raise
                continue  # the cached organization may predate the branch: look again
            try:
                uow.save()
                return result
            except IntegrityError:
                if attempt == RETRIES - 1:
                    raise ConcurrentWrite("另一个写入者同时修改了同一对象，请重试", None) from None
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # spread the retries
        raise AssertionError("unreachable")

    def execute(self, command: c.Command, user: str | None = None) -> Any:
        """Run one validated command as ``user`` (default :attr:`default_user`) in its own
        unit of work (with retries). A refusal for want of a role writes nothing to the
        ledger and is recorded in the security log."""
        user = user or self.default_user

        def work(uow: UnitOfWork) -> Any:
            uow.authorize(user, command)
            if self._check_key(uow, command, None):
                return None  # applied before (same key, same content): nothing written again
            result = HANDLERS[type(command)](self, uow, command)
            uow.stamp()
            return result
        try:
            return self._run(work, hot=isinstance(command, c.RecordScore))
        except (PermissionDenied, SeparationOfDuties, UserRefused) as e:
            self._refused(user, command.op, e)
            raise

    def require_role(self, user: str | None, role: str, what: str) -> frozenset[str]:
        """For actions that are not ledger commands (cosigning a checkpoint): ``user`` must
        hold ``role`` now; a refusal is logged like a command's. Returns the user's roles."""
        uow = UnitOfWork(self)
        try:
            if user is None or user not in uow.access().users:
                raise PermissionDenied("未指定操作用户或用户未登记", "user")
            roles = roles_of(uow.access(), uow.organization(), user, now_us())
            if role not in roles:
                raise PermissionDenied(f"用户 {user} 无权{what}：需要角色 {role}", None)
            return roles
        except PermissionDenied as e:
            self._refused(user, what, e)
            raise

    def roles_now(self, user: str) -> frozenset[str]:
        """The roles ``user`` holds now (granted and secretary), for read checks."""
        uow = UnitOfWork(self)
        return roles_of(uow.access(), uow.organization(), user, now_us())

    def _refused(self, user: str | None, op: str, error: LedgerError) -> None:
        """Log a refusal; names not in the directory share one bucket (no flooding by inventing names)."""
        if self.security_log is None:
            return
        reason = error.reason
        if user is not None and user not in UnitOfWork(self).access().users:
            user, reason = "(unknown)", f"{reason}（声称的用户：{user[:64]}）"
        self.security_log.refused(user, op, reason)

    def _check_key(self, uow: UnitOfWork, command: c.Command, known: dict[str, str] | None) -> bool:
        """True if the command's key is already in the ledger with the same content
        (skip it); raise :class:`DuplicateKey` if with other content. ``known``: the
        batch's keys already looked up (None: look this one up)."""
        if command.key is None:
            return False
        digest = command.digest()
        if known is None:
            known = self._key_index().lookup_keys([command.key])
        stored = known.get(command.key)
        if stored is None:
            ref = str(command.entry_id) if isinstance(command, c.RecordScore) else ""
            uow.keys.append((command.key, digest, command.op, ref))  # type: ignore[attr-defined]
            return False
        if stored != digest:
            raise DuplicateKey(f"键 {command.key!r} 已在账本中，但内容不同", "key")
        return True

    def _key_index(self) -> KeyIndex:
        return self.recorder  # type: ignore[return-value]

    # -- public commands ---------------------------------------------------------------
    def init(self, actor: str = "system", admin: str | None = None, admin_name: str | None = None) -> int:
        """Create the organization and adopt rulebook v1 if absent; with ``admin``, create
        the first user and grant them ``admin`` if the directory has no users yet (the one
        command that needs no role: there is nobody to hold one). Returns the latest version."""
        def work(uow: UnitOfWork) -> int:
            uow.auth = Authorization(admin or actor, frozenset())  # the events of setting up
            org = uow.find(organization_id(), for_update=True)
            if org is None:
                org = Organization(actor=actor)
                uow.add(org)
            if admin is not None:
                directory = uow.find(access_id(), for_update=True)
                if directory is None:
                    directory = Access()
                    uow.add(directory)
                if not directory.users:
                    directory.create_user(admin, admin_name or admin, actor, None)
                    directory.grant(admin, "admin", now_us(), actor, None)
            version = org.adopt_rulebook(RULEBOOK_V1, None, actor) if not org.rulebooks else max(org.rulebooks)
            uow.stamp()
            return version
        return self._run(work)

    def is_initialized(self) -> bool:
        try:
            return bool(self.repository.get(organization_id(), deepcopy_from_cache=False).rulebooks)
        except AggregateNotFoundError:
            return False

    def import_batch(self, lines: Iterable[tuple[int, Any]], user: str | None = None) -> ImportResult:
        """Apply every line in one unit of work, as ``user`` (default :attr:`default_user`):
        all or nothing. Each line is checked against the user's roles; a line's ``actor``
        stays the name on the original document.

        ``lines`` are (line number, decoded JSON). Raises :class:`ImportRefused` with every
        error found (validation continues past an invalid line where it can).
        """
        user = user or self.default_user
        parsed: list[tuple[int, c.Command]] = []
        errors: list[LineError] = []
        seen: dict[str, int] = {}
        for number, data in lines:
            try:
                command = c.parse_command(data)
            except LedgerError as e:
                errors.append(LineError(number, e.field, e.reason))
                continue
            if command.key is not None:
                if command.key in seen:
                    errors.append(LineError(number, "key", f"键 {command.key!r} 在本文件第 {seen[command.key]} 行已出现"))
                    continue
                seen[command.key] = number
            parsed.append((number, command))
        if errors:
            raise ImportRefused(errors)

        def work(uow: UnitOfWork) -> ImportResult:
            known = self._key_index().lookup_keys(list(seen))
            result, failures = ImportResult(), []
            for number, command in parsed:
                try:
                    uow.authorize(user, command)
                    if self._check_key(uow, command, known):
                        result.skipped += 1
                    else:
                        HANDLERS[type(command)](self, uow, command)
                        uow.stamp()
                        result.appended += 1
                except (PermissionDenied, SeparationOfDuties, UserRefused) as e:
                    self._refused(user, command.op, e)
                    failures.append(LineError(number, e.field, e.reason))
                except LedgerError as e:
                    failures.append(LineError(number, e.field, e.reason))
                if isinstance(command, c.RecordScore) and command.key is not None:
                    result.ids[command.key] = str(command.entry_id)
            if failures:
                raise ImportRefused(failures)
            return result
        return self._run(work)

    # -- handlers (one per command) -------------------------------------------------------
    def _register_branch(self, uow: UnitOfWork, cmd: c.RegisterBranch) -> str:
        uow.organization(for_update=True).register_branch(
            code=cmd.code, name=cmd.name, members=cmd.members, from_month=cmd.from_month,
            actor=cmd.actor, key=cmd.key)
        return cmd.code

    def _set_members(self, uow: UnitOfWork, cmd: c.SetMembers) -> str:
        uow.organization(for_update=True).set_members(
            branch=cmd.branch, members=cmd.members, from_month=cmd.from_month,
            actor=cmd.actor, key=cmd.key)
        return cmd.branch

    def _appoint_secretary(self, uow: UnitOfWork, cmd: c.AppointSecretary) -> str:
        auth = uow.auth
        if cmd.user is not None and auth is not None and not auth.migrated:
            access = uow.access()
            if cmd.user not in access.users:
                raise UserRefused(f"用户 {cmd.user!r} 未登记：请先由系统管理员创建", "user")
            if cmd.user == auth.user:
                raise SeparationOfDuties("登记员不能任命自己为支部书记", "user")
            if access.holds(cmd.user, "admin", now_us()):
                raise SeparationOfDuties("系统管理员不能兼任支部书记", "user")
        uow.organization(for_update=True).appoint_secretary(
            branch=cmd.branch, name=cmd.name, user=cmd.user, mode=cmd.mode,
            allowance=cmd.allowance, from_month=cmd.from_month, actor=cmd.actor, key=cmd.key)
        return cmd.branch

    def _record_score(self, uow: UnitOfWork, cmd: c.RecordScore) -> UUID:
        org = uow.organization()
        self._branch_taking_part(org, cmd.branch, cmd.period)
        entry_id = cmd.entry_id or uuid4()
        uow.month(cmd.period).record_score(
            entry_id=entry_id, branch=cmd.branch, category=cmd.category, points=cmd.points,
            reason=cmd.reason, department=cmd.department, actor=cmd.actor, key=cmd.key,
            rulebook=org.rulebook_in_force(cmd.period))
        return entry_id

    def _submit_month(self, uow: UnitOfWork, cmd: c.SubmitMonth) -> str:
        uow.organization()
        uow.month(cmd.period).submit(actor=cmd.actor, key=cmd.key, user=_user(uow))
        return cmd.period

    def _return_month(self, uow: UnitOfWork, cmd: c.ReturnMonth) -> str:
        uow.organization()
        uow.month(cmd.period).return_to_draft(reason=cmd.reason, actor=cmd.actor, key=cmd.key)
        return cmd.period

    def _approve_month(self, uow: UnitOfWork, cmd: c.ApproveMonth) -> str:
        org = uow.organization(for_update=True)
        month = uow.month(cmd.period)
        rulebook = org.rulebook_in_force(cmd.period)
        branches = org.taking_part(cmd.period)
        sums = self._month_sums(month)
        secretaries = {b: org.secretary_in(b, cmd.period) for b in branches}
        results = month_records(month_results(branches, sums, secretaries, rulebook))
        month.approve(rulebook_version=rulebook.version, results=results,
                      proof=approval_proof(rulebook, results), actor=cmd.actor, key=cmd.key,
                      user=_user(uow), exempt=_exempt(uow))
        org.seal_month(cmd.period)
        uow.checkpoint(f"approve_month {cmd.period}")
        return cmd.period

    def _month_sums(self, month: AssessmentMonth) -> dict[str, dict[str, int]]:
        """Signed sum of points (in cents) per branch and category: stored events up to
        the version the unit of work started from, then the ones still pending in it."""
        stored_version = month.version - len(month.pending_events)
        stored: Iterable[Any] = ()
        if stored_version > 0:
            stored = self.repository.event_store.get(month.id, lte=stored_version)
        sums: dict[str, dict[str, int]] = {}
        for events in (stored, list(month.pending_events)):
            for e in events:
                kind = type(e).__name__
                if kind == "ScoreRecorded":
                    delta = to_cents(e.points)
                elif kind == "EntryCorrected":
                    delta = to_cents(e.new_points) - to_cents(e.old_points)
                elif kind == "EntryVoided":
                    delta = -to_cents(e.points)
                else:
                    continue
                cats = sums.setdefault(e.branch, {})
                cats[e.category] = cats.get(e.category, 0) + delta
        return sums

    def _approved_results(self, uow: UnitOfWork, months: Sequence[str],
                          not_ready: Callable[[str], LedgerError]) -> list[dict[str, Any]]:
        """Each month's results by branch: the inputs its approval froze, the score as it
        stands now (corrections after the approval count); ``not_ready(month)`` for the
        first month not approved."""
        org = uow.organization()
        approved = []
        for m in months:
            month = uow.find(month_id(m), for_update=False)
            if month is None or month.status != APPROVED:
                raise not_ready(m)
            rulebook = org.rulebook_version(month.rulebook_version)
            sums = self._month_sums(month)
            approved.append({r["branch"]: {**r, "score": monthly_score_cents(sums.get(r["branch"], {}), rulebook)}
                             for r in month.results})
        return approved

    def _quarter_ranking(self, uow: UnitOfWork, period: str) -> tuple[Any, list[dict[str, Any]]]:
        """The rulebook and the ranking records of a quarter whose three months are approved."""
        org = uow.organization()
        months = quarter_months(period)
        approved = self._approved_results(uow, months, lambda m: QuarterNotReady(
            f"{period} 的 {m} 尚未审批，不能审批季度排名", "period"))
        taking_part = [b for b in org.taking_part(months[0]) if all(b in a for a in approved)]
        scores = {b: {m: approved[i][b]["score"] for i, m in enumerate(months)} for b in taking_part}
        secretaries = {b: frozen_secretary(approved[2][b]) for b in taking_part}
        rulebook = org.rulebook_in_force(months[0])
        return rulebook, [row.to_record() for row in quarter_ranking(scores, secretaries, rulebook)]

    def _quarter(self, uow: UnitOfWork, period: str) -> AssessmentQuarter:
        return uow.find_or_open(quarter_id(period), lambda: AssessmentQuarter(period=period))  # type: ignore[no-any-return]

    def _approve_quarter(self, uow: UnitOfWork, cmd: c.ApproveQuarter) -> UUID:
        rulebook, ranking = self._quarter_ranking(uow, cmd.period)
        quarter = self._quarter(uow, cmd.period)
        approval_id = next_approval_id(quarter)
        quarter.approve(approval_id=approval_id, rulebook_version=rulebook.version,
                        ranking=ranking, proof=approval_proof(rulebook, ranking), actor=cmd.actor, key=cmd.key)
        uow.checkpoint(f"approve_quarter {cmd.period}")
        return approval_id

    def _reapprove_quarter(self, uow: UnitOfWork, cmd: c.ReapproveQuarter) -> UUID:
        rulebook, ranking = self._quarter_ranking(uow, cmd.period)
        quarter = self._quarter(uow, cmd.period)
        approval_id = next_approval_id(quarter)
        quarter.reapprove(approval_id=approval_id, rulebook_version=rulebook.version, ranking=ranking,
                          proof=approval_proof(rulebook, ranking), reason=cmd.reason, actor=cmd.actor, key=cmd.key)
        uow.checkpoint(f"reapprove_quarter {cmd.period}")
        return approval_id

    def _branch_taking_part(self, org: Organization, branch: str, month: str) -> None:
        record = org.branch(branch)
        if record["from_month"] is not None and month < record["from_month"]:
            raise BranchNotTakingPart(
                f"支部 {branch} 自 {record['from_month']} 起参加考核，不能录入 {month}", "period")

    def _year(self, uow: UnitOfWork, period: str) -> AssessmentYear:
        return uow.find_or_open(year_id(period), lambda: AssessmentYear(period=period))  # type: ignore[no-any-return]

    def _record_unit_performance(self, uow: UnitOfWork, cmd: c.RecordUnitPerformance) -> str:
        self._branch_taking_part(uow.organization(), cmd.branch, f"{cmd.year}-01")
        self._year(uow, cmd.year).record_unit_performance(cmd.branch, cmd.score, cmd.actor, cmd.key)
        return cmd.branch

    def _record_debriefing(self, uow: UnitOfWork, cmd: c.RecordDebriefing) -> str:
        self._branch_taking_part(uow.organization(), cmd.branch, f"{cmd.year}-01")
        self._year(uow, cmd.year).record_debriefing(cmd.branch, cmd.score, cmd.actor, cmd.key)
        return cmd.branch

    def _record_business_score(self, uow: UnitOfWork, cmd: c.RecordBusinessScore) -> str:
        self._branch_taking_part(uow.organization(), cmd.branch, cmd.period)
        uow.month(cmd.period).record_business_score(cmd.branch, cmd.score, cmd.actor, cmd.key)
        return cmd.branch

    def _adopt_rulebook(self, uow: UnitOfWork, cmd: c.AdoptRulebook) -> int:
        uow.organization(for_update=True).adopt_version(
            cmd.version, cmd.from_month, cmd.parameters, cmd.actor, cmd.key)
        return cmd.version

    def _approve_year(self, uow: UnitOfWork, cmd: c.ApproveYear) -> UUID:
        org = uow.organization()
        months = month_range(f"{cmd.year}-01", 12)
        approved = self._approved_results(uow, months, lambda m: YearNotReady(
            f"{m} 尚未审批，不能审批 {cmd.year} 年度总评", "year"))
        for q in range(1, 5):
            quarter = uow.find(quarter_id(f"{cmd.year}Q{q}"), for_update=False)
            if quarter is None or quarter.approval_id is None:
                raise YearNotReady(f"{cmd.year}Q{q} 尚未审批，不能审批年度总评", "year")
        year = self._year(uow, cmd.year)
        taking_part = [b for b in org.taking_part(months[0]) if all(b in a for a in approved)]
        missing = [b for b in taking_part if b not in year.unit or b not in year.debriefing]
        if missing:
            raise YearNotReady(f"支部 {', '.join(missing)} 缺少单位经营业绩或书记述职评分", "year")
        rulebook = org.rulebook_in_force(months[-1])
        rows = annual_ranking(
            {b: [a[b]["score"] for a in approved] for b in taking_part}, year.unit, year.debriefing,
            {b: member_count(uow, b, months[-1], members_in(org.branches[b]["members"], months[-1]))
             for b in taking_part},
            {b: frozen_secretary(approved[-1][b]) for b in taking_part}, rulebook)
        approval_id = next_approval_id(year)
        results = [r.to_record() for r in rows]
        year.approve(approval_id=approval_id, rulebook_version=rulebook.version, results=results,
                     proof=approval_proof(rulebook, results), actor=cmd.actor, key=cmd.key)
        uow.checkpoint(f"approve_year {cmd.year}")
        return approval_id

    # -- convenience wrappers (keyword arguments, validated like an import line) ----------
    def command(self, op: str, as_user: str | None = None, **fields: Any) -> Any:
        """Validate ``fields`` as the import op ``op`` and execute it as ``as_user``."""
        return self.execute(c.parse_command({"op": op, **fields}), as_user)

    def register_branch(self, **fields: Any) -> str:
        return self.command("register_branch", **fields)  # type: ignore[no-any-return]

    def set_members(self, **fields: Any) -> str:
        return self.command("set_members", **fields)  # type: ignore[no-any-return]

    def appoint_secretary(self, **fields: Any) -> str:
        return self.command("appoint_secretary", **fields)  # type: ignore[no-any-return]

    def record_score(self, **fields: Any) -> UUID:
        return self.command("record_score", **fields)  # type: ignore[no-any-return]

    def submit_month(self, **fields: Any) -> str:
        return self.command("submit_month", **fields)  # type: ignore[no-any-return]

    def return_month(self, **fields: Any) -> str:
        return self.command("return_month", **fields)  # type: ignore[no-any-return]

    def approve_month(self, **fields: Any) -> str:
        return self.command("approve_month", **fields)  # type: ignore[no-any-return]

    def approve_quarter(self, **fields: Any) -> UUID:
        return self.command("approve_quarter", **fields)  # type: ignore[no-any-return]

    def reapprove_quarter(self, **fields: Any) -> UUID:
        return self.command("reapprove_quarter", **fields)  # type: ignore[no-any-return]

    def record_unit_performance(self, **fields: Any) -> str:
        return self.command("record_unit_performance", **fields)  # type: ignore[no-any-return]

    def record_debriefing(self, **fields: Any) -> str:
        return self.command("record_debriefing", **fields)  # type: ignore[no-any-return]

    def record_business_score(self, **fields: Any) -> str:
        return self.command("record_business_score", **fields)  # type: ignore[no-any-return]

    def approve_year(self, **fields: Any) -> UUID:
        return self.command("approve_year", **fields)  # type: ignore[no-any-return]

    def file_appeal(self, **fields: Any) -> UUID:
        return self.command("file_appeal", **fields)  # type: ignore[no-any-return]

    def decide_appeal(self, **fields: Any) -> UUID:
        return self.command("decide_appeal", **fields)  # type: ignore[no-any-return]

    def void_entry(self, **fields: Any) -> UUID:
        return self.command("void_entry", **fields)  # type: ignore[no-any-return]

    def correct_entry(self, **fields: Any) -> UUID:
        return self.command("correct_entry", **fields)  # type: ignore[no-any-return]

    def adopt_rulebook(self, **fields: Any) -> int:
        return self.command("adopt_rulebook", **fields)  # type: ignore[no-any-return]


class SecurityLog(Protocol):
    """Where refusals go (adapters/security.py): append-only, outside the ledger's log."""

    def refused(self, user: str | None, op: str, reason: str) -> None: ...


def _user(uow: UnitOfWork) -> str | None:
    return None if uow.auth is None else uow.auth.user


def _exempt(uow: UnitOfWork) -> bool:
    """Migrations are exempt from separation of duties (README)."""
    return uow.auth is not None and uow.auth.migrated


def next_approval_id(aggregate: Aggregate) -> UUID:
    """A deterministic id for the approval about to be recorded on ``aggregate``."""
    return uuid5(aggregate.id, f"approval:{aggregate.version + len(aggregate.pending_events)}")


def approval_proof(rulebook: Any, results: Any) -> dict[str, str]:
    """What makes an approval checkable: the hashes of the rulebook version and of the
    canonical result. It was computed from every event before it in the log (the tree
    size at its leaf index); ``ledger verify`` recomputes it from there."""
    return {"rulebook_hash": rulebook.digest(), "result_hash": canonical_hash(results),
            "code_version": CODE_VERSION}


HANDLERS.update({
    c.RegisterBranch: Ledger._register_branch,
    c.SetMembers: Ledger._set_members,
    c.AppointSecretary: Ledger._appoint_secretary,
    c.RecordScore: Ledger._record_score,
    c.SubmitMonth: Ledger._submit_month,
    c.ReturnMonth: Ledger._return_month,
    c.ApproveMonth: Ledger._approve_month,
    c.ApproveQuarter: Ledger._approve_quarter,
    c.ReapproveQuarter: Ledger._reapprove_quarter,
    c.RecordUnitPerformance: Ledger._record_unit_performance,
    c.RecordDebriefing: Ledger._record_debriefing,
    c.RecordBusinessScore: Ledger._record_business_score,
    c.ApproveYear: Ledger._approve_year,
    c.AdoptRulebook: Ledger._adopt_rulebook,
    c.FileAppeal: Ledger._file_appeal,
    c.DecideAppeal: Ledger._decide_appeal,
    c.VoidEntry: Ledger._void_entry,
    c.CorrectEntry: Ledger._correct_entry,
})

# The other mechanisms register their handlers when imported (domain/handlers.py).
from domain import access, people  # noqa: E402,F401
from domain import care  # noqa: E402,F401
from domain.people import member_count  # noqa: E402
from domain import member_points  # noqa: E402,F401
from domain import innovation, links, projects  # noqa: E402,F401
from domain import mentoring, selection  # noqa: E402,F401
from domain import dues, meetings  # noqa: E402,F401
