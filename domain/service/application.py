"""The ledger's one application service: the commands every adapter calls.

It gets its store from the environment (``PERSISTENCE_MODULE``, ``SQLALCHEMY_URL``; see
``adapters/bootstrap.py``), so it imports no driver. Each command is one unit of work:
load, act, save every pending event in one transaction, return ids. A write that loses
a race (same aggregate version, or same import key) is reloaded and re-checked, up to
``RETRIES`` times, then refused with :class:`ConcurrentWrite`.
"""
from __future__ import annotations

import gc
import random
import time
from typing import Any, Callable, Iterable, Mapping, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain import commands as c
from domain import vocabulary
from domain.access.users import Access, now_us
from domain.asof import check_document_date
from domain.assessment.appeal import AttachmentShelf
from domain.assessment.organization import Organization
from domain.assessment.rulebook import RULEBOOK_V1
from domain.errors import (
    BranchNotFound,
    ConcurrentWrite,
    DuplicateKey,
    ImportRefused,
    InvalidInput,
    LedgerError,
    LineError,
    PermissionDenied,
    SeparationOfDuties,
    UserRefused,
)
from domain.ids import access_id, organization_id
from domain.members.care import Vault
from domain.service.handlers import HANDLERS, discover
from domain.service.handlers.signing import declare
from domain.service.permissions import Authorization, roles_of
from domain.service.score_batch import apply_scores
from domain.service.unit_of_work import ImportResult, KeyIndex, UnitOfWork  # noqa: F401 (re-exported)
from domain.topics import register_moved_topics

T = TypeVar("T")
RETRIES = 5
EMPTY_IMPORT = "导入内容为空（文件为空或只有空行）：没有任何命令，未写入任何内容"



L = TypeVar("L")


def parse_lines(lines: Iterable[tuple[int, Any]], read: Callable[[Any], L]) -> tuple[list[tuple[int, L]], dict[str, int]]:
    """Each line read by ``read`` (a parsed command, or a compact score line), and the line
    number of each import ``key``. Raises :class:`ImportRefused` with every line that does
    not read or repeats a key of an earlier line (validation goes on past them)."""
    parsed: list[tuple[int, L]] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for number, data in lines:
        try:
            line = read(data)
        except LedgerError as e:
            errors.append(LineError(number, e.field, e.reason))
            continue
        key = getattr(line, "key", None)
        if key is not None:
            if key in seen:
                errors.append(LineError(number, "key", f"键 {key!r} 在本文件第 {seen[key]} 行已出现"))
                continue
            seen[key] = number
        parsed.append((number, line))
    if errors:
        raise ImportRefused(errors)
    return parsed, seen


class Ledger(Application[UUID]):
    """党建考核审计账本 — the commands of the task-book flow."""

    name = "Ledger"
    env = {"AGGREGATE_CACHE_MAXSIZE": "4096"}
    org_refreshed_at = float("-inf")
    access_refreshed_at = float("-inf")

    def __init__(self, env: Mapping[str, str] | None = None, *, vault: Vault | None = None,
                 security_log: Callable[[Ledger], SecurityLog] | None = None,
                 default_user: str | None = None, attachments: AttachmentShelf | None = None) -> None:
        """The application over the store ``env`` names (chosen in ``adapters/bootstrap.py``).

        ``vault``: where the per-person keys of talk and visit summaries live (None: such
        summaries are refused, ``VaultUnavailable``). ``security_log``: makes the log of
        refusals from the application once its store is open (it shares the database;
        None: refusals are not logged). ``default_user``: the acting user when a call names
        none (None: every call must name one); :attr:`default_user` may be set again later
        by a fixture or script that creates its acting user after ``init`` (the migration
        user of the demo, benchmarks and tests). ``attachments``: where appeals' attached
        files live (None: an appeal with an attachment is refused)."""
        super().__init__(env)
        self.vault = vault
        self.attachments = attachments
        self.default_user = default_user
        self.security_log: SecurityLog | None = None if security_log is None else security_log(self)

    # -- running commands --------------------------------------------------------------
    def _run(self, work: Callable[[UnitOfWork], T], hot: bool = False) -> T:
        """Run ``work`` in a unit of work and save it; on a lost race, retry with fresh
        loads. ``hot``: trust cached copies on the first attempt (see UnitOfWork)."""
        attempt = 0
        while attempt < RETRIES:
            uow = UnitOfWork(self, fresh=not (hot and attempt == 0))
            try:
                result = work(uow)
            except BranchNotFound:
                if uow.fresh:
                    raise
                attempt += 1
                continue  # the cached organization may predate the branch: look again
            except KeyLanded:
                continue  # not a lost race: the next attempt finds the key (keys are never removed)
            attempt += 1
            try:
                uow.save()
                return result
            except IntegrityError:
                if attempt == RETRIES:
                    raise ConcurrentWrite("另一个写入者同时修改了同一对象，请重试", None) from None
                time.sleep(random.uniform(0, 0.002 * attempt))  # spread the retries
        raise AssertionError("unreachable")

    def execute(self, command: c.Command, user: str | None = None) -> Any:
        """Run one validated command as ``user`` (default :attr:`default_user`) in its own
        unit of work (with retries). A refusal for want of a role writes nothing to the
        ledger and is recorded in the security log."""
        return self.execute_noting(command, user)[0]

    def execute_noting(self, command: c.Command, user: str | None = None) -> tuple[Any, list[dict[str, Any]]]:
        """:meth:`execute`, and the warnings of an accepted command (an entry the category's
        cap will not count in full: ``kind``, ``field``, ``counted``, ``message``…)."""
        user = user or self.default_user

        def work(uow: UnitOfWork) -> tuple[Any, list[dict[str, Any]]]:
            uow.authorize(user, command)
            if self._check_key(uow, command, None):
                return None, []  # applied before (same key, same content): nothing written again
            try:
                result = HANDLERS[type(command)](uow, command)
            except LedgerError:
                self._key_landed(command.key, {})
                raise
            uow.stamp()
            return result, uow.warnings
        try:
            return self._run(work, hot=isinstance(command, c.RecordScore))
        except (PermissionDenied, SeparationOfDuties, UserRefused) as e:
            self._refused(user, command.op, e)
            raise

    def require_role(self, user: str | None, role: str | tuple[str, ...], what: str) -> frozenset[str]:
        """For actions that are not ledger commands (cosigning or issuing a checkpoint):
        ``user`` must hold ``role`` (or one of the roles given) now; a refusal is logged like
        a command's. Returns the user's roles."""
        wanted = (role,) if isinstance(role, str) else role
        uow = UnitOfWork(self)
        try:
            if user is None or user not in uow.access().users:
                raise PermissionDenied("未指定操作用户或用户未登记", "user")
            roles = roles_of(uow.access(), uow.organization(), user, now_us())
            if not roles & set(wanted):
                want = " 或 ".join(f"{r}（{vocabulary.role_name(r)}）" for r in wanted)
                raise PermissionDenied(f"用户 {user} 无权{what}：需要角色 {want}", None)
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
            uow.keys.append((command.key, digest, command.op, ref))
            return False
        if stored != digest:
            raise DuplicateKey(f"键 {command.key!r} 已在账本中，但内容不同", "key")
        return True

    def _key_landed(self, keys: str | list[str] | None, known: dict[str, str]) -> None:
        """After a refusal: raise :class:`KeyLanded` if one of ``keys`` reached the ledger
        since ``known`` was looked up (fresh from the database, after the failing attempt).

        A keyed command that finds a state its own retry made (a month another client just
        approved with the same key) is that retry's duplicate, not a conflict: the key was
        committed in the same transaction as the state, so whoever saw the state sees the
        key. Run again, :meth:`_check_key` answers as the duplicate (or ``DuplicateKey``)."""
        wanted = [keys] if isinstance(keys, str) else list(keys or [])
        if wanted and any(k not in known for k in self._key_index().lookup_keys(wanted)):
            raise KeyLanded()

    def _key_index(self) -> KeyIndex:
        """The recorder, which the store builds as a :class:`KeyIndex` (``adapters/store/recorder.py``)."""
        return cast(KeyIndex, self.recorder)

    # -- public commands ---------------------------------------------------------------
    def init(self, actor: str = "system", admin: str | None = None, admin_name: str | None = None,
             verifier_key: str | None = None, documented_at: str | None = None) -> int:
        """Create the organization and adopt rulebook v1 if absent; with ``admin``, create
        the first user and grant them ``admin`` if the directory has no users yet (the one
        command that needs no role: there is nobody to hold one); with ``verifier_key``,
        declare the ledger's signing key in the log if none is (domain/integrity/signing.py), or
        check it is the one in force. With ``documented_at`` (YYYY-MM-DD: the date of the task
        book a migrated ledger starts from), the events of setting up carry it as their
        document date (``occurred_at``), so that the document clock (domain/asof.py) places
        them before the history migrated onto them. Returns the latest version."""
        if documented_at is not None:
            documented_at = check_document_date(documented_at)

        def work(uow: UnitOfWork) -> int:
            uow.auth = Authorization(admin or actor, frozenset(), occurred_at=documented_at)  # setting up
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
            if verifier_key is not None:
                declare(uow, verifier_key, actor)
            uow.stamp()
            return version
        return self._run(work)

    def is_initialized(self) -> bool:
        try:
            return bool(self.repository.get(organization_id(), deepcopy_from_cache=False).rulebooks)
        except AggregateNotFoundError:
            return False

    def import_batch(self, lines: Iterable[tuple[int, Any]], user: str | None = None,
                     compact: bool = True) -> ImportResult:
        """Apply every line in one unit of work, as ``user`` (default :attr:`default_user`):
        all or nothing. Each line is checked against the user's roles; a line's ``actor``
        stays the name on the original document.

        ``lines`` are (line number, decoded JSON). Raises :class:`ImportRefused` with every
        error found (validation continues past an invalid line where it can).

        A batch of ``record_score`` lines only takes the compact path
        (``domain/service/score_batch.py``): the same events, keys, errors and warnings, without
        an event object per line. ``compact=False`` forces the one-command path (each line
        through its handler), which tests compare it with.
        """
        user = user or self.default_user
        lines = list(lines)
        if not lines:
            raise InvalidInput(EMPTY_IMPORT, None)
        if compact and all(type(d) is dict and d.get("op") == "record_score" for _, d in lines):
            return self._import_scores(lines, user)
        parsed, seen = parse_lines(lines, c.parse_command)

        def work(uow: UnitOfWork) -> ImportResult:
            known = self._key_index().lookup_keys(list(seen))
            result, failures = ImportResult(), []
            for number, command in parsed:
                try:
                    uow.authorize(user, command)
                    if self._check_key(uow, command, known):
                        result.skipped += 1
                    else:
                        noted = len(uow.warnings)
                        HANDLERS[type(command)](uow, command)
                        uow.stamp()
                        result.appended += 1
                        result.warnings += [{"line": number, **w} for w in uow.warnings[noted:]]
                except (PermissionDenied, SeparationOfDuties, UserRefused) as e:
                    self._refused(user, command.op, e)
                    failures.append(LineError(number, e.field, e.reason))
                except LedgerError as e:
                    failures.append(LineError(number, e.field, e.reason))
                if isinstance(command, c.RecordScore) and command.key is not None:
                    result.ids[command.key] = str(command.entry_id)
            if failures:
                self._key_landed(list(seen), known)
                raise ImportRefused(failures)
            return result
        return self._run(work)

    def _import_scores(self, lines: list[tuple[int, Any]], user: str | None) -> ImportResult:
        """:meth:`import_batch` of ``record_score`` lines through the compact path, with the
        cyclic garbage collector off (the batch makes many short-lived objects and no cycles
        worth collecting; its collections were ~30% of an import)."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            parsed, seen = parse_lines(lines, c.ScoreLineReader().read)

            def work(uow: UnitOfWork) -> ImportResult:
                known = self._key_index().lookup_keys(list(seen))
                result, failures = apply_scores(uow, user, parsed, known, self.mapper.transcoder.encode,
                                                self._refused)
                if failures:
                    self._key_landed(list(seen), known)
                    raise ImportRefused(failures)
                return result
            return self._run(work)
        finally:
            if was_enabled:
                gc.enable()

    # -- convenience wrappers (keyword arguments, validated like an import line) ----------
    def command(self, op: str, as_user: str | None = None, **fields: Any) -> Any:
        """Validate ``fields`` as the import op ``op`` and execute it as ``as_user``."""
        return self.execute(c.parse_command({"op": op, **fields}), as_user)

    def _returning(self, kind: type[T], op: str, fields: dict[str, Any]) -> T | None:
        """:meth:`command` ``op`` with ``fields``: its handler's result, a ``kind``, or None
        when the command's import key was applied before (nothing written again).
        Precondition: ``kind`` is what the handler registered for ``op`` returns (the
        registry, :data:`HANDLERS`, keys handlers by command class and loses their types)."""
        return cast("T | None", self.command(op, **fields))

    def register_branch(self, **fields: Any) -> str | None:
        return self._returning(str, "register_branch", fields)

    def set_members(self, **fields: Any) -> str | None:
        return self._returning(str, "set_members", fields)

    def appoint_secretary(self, **fields: Any) -> str | None:
        return self._returning(str, "appoint_secretary", fields)

    def record_score(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "record_score", fields)

    def submit_month(self, **fields: Any) -> str | None:
        return self._returning(str, "submit_month", fields)

    def return_month(self, **fields: Any) -> str | None:
        return self._returning(str, "return_month", fields)

    def approve_month(self, **fields: Any) -> str | None:
        return self._returning(str, "approve_month", fields)

    def approve_quarter(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "approve_quarter", fields)

    def reapprove_quarter(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "reapprove_quarter", fields)

    def record_unit_performance(self, **fields: Any) -> str | None:
        return self._returning(str, "record_unit_performance", fields)

    def record_debriefing(self, **fields: Any) -> str | None:
        return self._returning(str, "record_debriefing", fields)

    def record_business_score(self, **fields: Any) -> str | None:
        return self._returning(str, "record_business_score", fields)

    def approve_year(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "approve_year", fields)

    def reapprove_year(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "reapprove_year", fields)

    def file_appeal(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "file_appeal", fields)

    def decide_appeal(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "decide_appeal", fields)

    def void_entry(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "void_entry", fields)

    def correct_entry(self, **fields: Any) -> UUID | None:
        return self._returning(UUID, "correct_entry", fields)

    def adopt_rulebook(self, **fields: Any) -> int | None:
        return self._returning(int, "adopt_rulebook", fields)


class KeyLanded(Exception):
    """Internal: a refused attempt whose import key landed meanwhile; :meth:`Ledger._run`
    runs the command again (a bounded loop: each time at least one more key is stored)."""


class SecurityLog(Protocol):
    """Where refusals go (adapters/security.py): append-only, outside the ledger's log."""

    def refused(self, user: str | None, op: str, reason: str) -> None: ...


discover()  # every handler module of domain/service/handlers registers its commands
register_moved_topics()  # events stored before the modules moved name the old paths (domain/topics.py)
