"""Web log-in (网页登录): password hashes, log-in throttling and web sessions, kept OUTSIDE
the event log.

Like the key store and the security log, these tables are not part of the ledger: they
are not events, not in the Merkle tree, not in any result, and a password can be changed
or a session ended without a trace in the log (the log records what the ledger decided,
not how people logged in). Tables, created on first use by this adapter:

* ``ledger_credentials (user_id, hash, updated_at_us, failures, locked_until_us)`` — one
  argon2id hash per user (``argon2-cffi``, its default parameters: RFC 9106's second
  recommended option, 64 MiB, 3 passes), set by an admin (``ledger user password USER``)
  or by the user on the web (old password required). ``failures`` and ``locked_until_us``
  are no longer used (the old hard lock-out); they stay for existing databases.
* ``ledger_login_throttle (subject, failures, last_us, blocked_until_us)`` — failed
  log-ins per account (``user:<name>``, known or not) and per client address
  (``addr:<ip>``). Every attempt counts as a failure until the password proves right; a
  subject's first ``free`` failures cost nothing, then each failure makes it wait
  ``base × 2^(failures − free)`` seconds (up to ``cap``) before its next attempt (answered
  429 without checking any password meanwhile). A right password after the wait logs in
  and clears the account's count (and takes back its own charge on the address); a
  subject with no failure for ``FORGET_SECONDS`` starts again. Unknown names are counted
  and checked against a dummy hash exactly like known ones, so answers and timings do not
  reveal which accounts exist. See docs/web.md.
* ``ledger_web_sessions (token_hash, user_id, csrf, created_at_us, expires_at_us, flash)``
  — server-side sessions: the browser holds a random token in an HttpOnly cookie, the
  table only its SHA-256 (a stolen database cannot be replayed as cookies). A session
  carries its own CSRF token (every form posts it back) and a one-shot message (``flash``)
  for the page after a redirect. Log-out deletes the row; a new password ends every
  session of that user; roles are NOT cached here (every request reads them fresh).

The clock is injectable (``Credentials(engine, clock=...)``, µs since the epoch) so tests
need not sleep.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, case, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.store.tree import BIGINT
from domain.errors import InvalidInput

METADATA = MetaData()
CREDENTIALS = Table(
    "ledger_credentials", METADATA,
    Column("user_id", String(64), primary_key=True),
    Column("hash", Text, nullable=False),
    Column("updated_at_us", BIGINT, nullable=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_until_us", BIGINT, nullable=False, default=0),
)
THROTTLE = Table(
    "ledger_login_throttle", METADATA,
    Column("subject", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_us", BIGINT, nullable=False),
    Column("blocked_until_us", BIGINT, nullable=False),
)
SESSIONS = Table(
    "ledger_web_sessions", METADATA,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at_us", BIGINT, nullable=False),
    Column("expires_at_us", BIGINT, nullable=False),
    Column("flash", Text, nullable=True),
)

MIN_LENGTH = 8
MAX_LENGTH = 256  # argon2 hashes anything, but a megabyte "password" is an attack, not a password
SESSION_SECONDS = 12 * 3600  # one working day
FORGET_SECONDS = 3600  # a subject with no failed log-in for an hour starts again
_HASHER = PasswordHasher()
_DUMMY: list[str] = []
_DUMMY_LOCK = threading.Lock()


@dataclass(frozen=True)
class Throttle:
    """Growing delays for one kind of subject: none for the first ``free`` failures, then
    ``base_seconds`` doubling per failure, at most ``cap_seconds``."""

    free: int
    base_seconds: int
    cap_seconds: int

    def delay(self, failures: int) -> int:
        """Seconds to wait after the ``failures``-th failure in a row."""
        if failures < self.free:
            return 0
        return min(self.cap_seconds, self.base_seconds * 2 ** min(failures - self.free, 30))


ACCOUNT = Throttle(free=3, base_seconds=1, cap_seconds=60)  # after the 3rd failure: 1 s, 2 s, 4 s, … 60 s
ADDRESS = Throttle(free=10, base_seconds=1, cap_seconds=300)  # one office's typos pass; spraying crawls


def _now_us() -> int:
    return int(time.time() * 1_000_000)


def _dummy_hash() -> str:
    """A hash of no one's password, to check unknown users against (computed once, on the
    first log-in of an unknown user: argon2 costs ~0.1 s, too much for every CLI process)."""
    if not _DUMMY:
        with _DUMMY_LOCK:
            if not _DUMMY:
                _DUMMY.append(_HASHER.hash("not-a-password: equal time for unknown users"))
    return _DUMMY[0]


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> str:
    """A password fit to store: 8–256 characters, not only spaces (:class:`InvalidInput`)."""
    if len(password) < MIN_LENGTH or not password.strip():
        raise InvalidInput(f"密码至少 {MIN_LENGTH} 个字符", "password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"密码最多 {MAX_LENGTH} 个字符", "password")
    return password


@dataclass(frozen=True)
class Session:
    """A live web session: whose, its CSRF token, and the token's hash (its row)."""

    user: str
    csrf: str
    token_hash: str


class LoginThrottled(Exception):
    """Too many failed log-ins for this account or from this address: wait ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


LoginLocked = LoginThrottled  # the former name


class Credentials:
    """Password hashes and sessions in the ledger's database (tables created if absent)."""

    def __init__(self, engine: Engine, clock: Callable[[], int] = _now_us) -> None:
        """``clock``: now in µs since the epoch (tests inject one)."""
        self.engine = engine
        self.clock = clock
        try:
            METADATA.create_all(engine, checkfirst=True)
        except DBAPIError:  # another worker process created them at the same moment
            METADATA.create_all(engine, checkfirst=True)

    # -- passwords -------------------------------------------------------------------------
    def set_password(self, user: str, password: str) -> None:
        """Store the argon2 hash of ``password`` for ``user`` and end their sessions.
        Precondition: the caller checked that ``user`` exists and may be given a password."""
        hashed = _HASHER.hash(check_password(password))
        with self.engine.begin() as conn:
            row = {"hash": hashed, "updated_at_us": self.clock(), "failures": 0, "locked_until_us": 0}
            if conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.user_id == user).values(**row)).rowcount == 0:
                conn.execute(insert(CREDENTIALS).values(user_id=user, **row))
            conn.execute(delete(SESSIONS).where(SESSIONS.c.user_id == user))

    def has_password(self, user: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(CREDENTIALS.c.user_id).where(CREDENTIALS.c.user_id == user)).first() is not None

    def verify(self, user: str, password: str, address: str | None = None) -> bool:
        """True if ``password`` is ``user``'s. Raises :class:`LoginThrottled` while the
        account or the client ``address`` must wait after repeated failures (no password is
        checked then). An unknown user is counted and costs the same time as a wrong
        password. Precondition: none (any text for ``user``)."""
        now = self.clock()
        subjects = [("user:" + user[:150], ACCOUNT)]
        if address:
            subjects.append(("addr:" + address[:150], ADDRESS))
        with self.engine.connect() as conn:  # a subject that must wait: refuse before counting any
            waits = [r.blocked_until_us - now for r in conn.execute(
                select(THROTTLE).where(THROTTLE.c.subject.in_([s for s, _ in subjects])))]
        if any(w > 0 for w in waits):
            raise LoginThrottled(_seconds(max(waits)))
        claims = [self._claim(subject, policy, now) for subject, policy in subjects]
        with self.engine.connect() as conn:
            row = conn.execute(select(CREDENTIALS).where(CREDENTIALS.c.user_id == user)).first()
        if row is None or len(password) > MAX_LENGTH:
            _matches(_dummy_hash(), password[:MAX_LENGTH])
            return False
        if not _matches(row.hash, password):
            return False
        values: dict[str, object] = {"failures": 0, "locked_until_us": 0}
        if _HASHER.check_needs_rehash(row.hash):  # parameters raised since: upgrade on the next log-in
            values["hash"] = _HASHER.hash(password)
        with self.engine.begin() as conn:
            conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.user_id == user).values(**values))
            conn.execute(delete(THROTTLE).where(THROTTLE.c.subject == subjects[0][0]))  # the account starts again
            for (subject, _), (before, claimed) in zip(subjects[1:], claims[1:]):  # take back this attempt's charge
                conn.execute(update(THROTTLE).where(THROTTLE.c.subject == subject).values(
                    failures=case((THROTTLE.c.failures > 0, THROTTLE.c.failures - 1), else_=0),
                    blocked_until_us=case((THROTTLE.c.blocked_until_us == claimed, before),
                                          else_=THROTTLE.c.blocked_until_us)))
        return True

    def _claim(self, subject: str, policy: Throttle, now: int) -> tuple[int, int]:
        """Count one attempt of ``subject`` as a failure in advance (a right password takes
        it back), or raise :class:`LoginThrottled` while it must wait. Once delays apply the
        claim is conditional on the row read, so parallel attempts cannot slip through one
        wait. Returns (blocked-until before, blocked-until set)."""
        for _ in range(3):
            with self.engine.connect() as conn:
                row = conn.execute(select(THROTTLE).where(THROTTLE.c.subject == subject)).first()
            fresh = row is None or now - row.last_us > FORGET_SECONDS * 1_000_000
            if row is not None and row.blocked_until_us > now:
                raise LoginThrottled(_seconds(row.blocked_until_us - now))
            failures = 1 if fresh else row.failures + 1
            before = 0 if row is None else row.blocked_until_us
            delay = policy.delay(failures)
            blocked = now + delay * 1_000_000 if delay else before
            if row is None:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(insert(THROTTLE).values(subject=subject, failures=1, last_us=now,
                                                             blocked_until_us=blocked))
                    return before, blocked
                except IntegrityError:  # another attempt inserted it just now: read it again
                    continue
            with self.engine.begin() as conn:
                if not delay:  # no wait yet: count it, whatever others count at the same moment
                    conn.execute(update(THROTTLE).where(THROTTLE.c.subject == subject).values(
                        failures=1 if fresh else THROTTLE.c.failures + 1, last_us=now))
                    return before, blocked
                done = conn.execute(update(THROTTLE).where(
                    THROTTLE.c.subject == subject, THROTTLE.c.failures == row.failures,
                    THROTTLE.c.last_us == row.last_us, THROTTLE.c.blocked_until_us == row.blocked_until_us,
                ).values(failures=failures, last_us=now, blocked_until_us=blocked)).rowcount
            if done:
                return before, blocked
        raise LoginThrottled(1)  # raced by other attempts on the same subject: try again shortly

    # -- sessions --------------------------------------------------------------------------
    def open_session(self, user: str) -> str:
        """A new session for ``user``; returns the cookie's token (kept only hashed)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.expires_at_us < now))  # sweep the stale ones
            conn.execute(insert(SESSIONS).values(token_hash=_sha(token), user_id=user, csrf=secrets.token_urlsafe(24),
                                                 created_at_us=now, expires_at_us=now + SESSION_SECONDS * 1_000_000))
        return token

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, or None (absent, unknown or expired)."""
        if not token or len(token) > 100:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(SESSIONS).where(SESSIONS.c.token_hash == _sha(token))).first()
        if row is None or row.expires_at_us < self.clock():
            return None
        return Session(row.user_id, row.csrf, row.token_hash)

    def close_session(self, session: Session) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == session.token_hash))

    def set_flash(self, session: Session, message: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(SESSIONS).where(SESSIONS.c.token_hash == session.token_hash)
                         .values(flash=message[:4000]))

    def pop_flash(self, session: Session) -> str | None:
        """The message left for this page (once)."""
        with self.engine.begin() as conn:
            flash = conn.execute(select(SESSIONS.c.flash).where(SESSIONS.c.token_hash == session.token_hash)).scalar()
            if flash is not None:
                conn.execute(update(SESSIONS).where(SESSIONS.c.token_hash == session.token_hash).values(flash=None))
        return flash  # type: ignore[no-any-return]


def _seconds(us: int) -> int:
    return max(1, -(-us // 1_000_000))


def _matches(hashed: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(hashed, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
