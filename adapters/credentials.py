"""Web log-in (网页登录): password hashes and web sessions, kept OUTSIDE the event log.

Like the key store and the security log, these tables are not part of the ledger: they
are not events, not in the Merkle tree, not in any result, and a password can be changed
or a session ended without a trace in the log (the log records what the ledger decided,
not how people logged in). Tables, created on first use by this adapter:

* ``ledger_credentials (user_id, hash, updated_at_us, failures, locked_until_us)`` — one
  argon2id hash per user (``argon2-cffi``, its default parameters: RFC 9106's second
  recommended option, 64 MiB, 3 passes), set by an admin (``ledger user password USER``)
  or by the user on the web (old password required). Five wrong passwords in a row lock
  the log-in for ``LOCK_SECONDS``; a right one resets the count.
* ``ledger_web_sessions (token_hash, user_id, csrf, created_at_us, expires_at_us, flash)``
  — server-side sessions: the browser holds a random token in an HttpOnly cookie, the
  table only its SHA-256 (a stolen database cannot be replayed as cookies). A session
  carries its own CSRF token (every form posts it back) and a one-shot message (``flash``)
  for the page after a redirect. Log-out deletes the row; a new password ends every
  session of that user; roles are NOT cached here (every request reads them fresh).
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from adapters.tree import BIGINT
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
MAX_FAILURES = 5
LOCK_SECONDS = 300
SESSION_SECONDS = 12 * 3600  # one working day
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not-a-password: equal time for unknown users")


def _now_us() -> int:
    return int(time.time() * 1_000_000)


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


class LoginLocked(Exception):
    """Too many wrong passwords in a row: the log-in is locked for a while."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Credentials:
    """Password hashes and sessions in the ledger's database (tables created if absent)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
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
            row = {"hash": hashed, "updated_at_us": _now_us(), "failures": 0, "locked_until_us": 0}
            if conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.user_id == user).values(**row)).rowcount == 0:
                conn.execute(insert(CREDENTIALS).values(user_id=user, **row))
            conn.execute(delete(SESSIONS).where(SESSIONS.c.user_id == user))

    def has_password(self, user: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(CREDENTIALS.c.user_id).where(CREDENTIALS.c.user_id == user)).first() is not None

    def verify(self, user: str, password: str) -> bool:
        """True if ``password`` is ``user``'s. Raises :class:`LoginLocked` after
        ``MAX_FAILURES`` wrong ones in a row (until ``LOCK_SECONDS`` have passed). An
        unknown user costs the same time as a wrong password."""
        with self.engine.connect() as conn:
            row = conn.execute(select(CREDENTIALS).where(CREDENTIALS.c.user_id == user)).first()
        now = _now_us()
        if row is None or len(password) > MAX_LENGTH:
            _matches(_DUMMY, password[:MAX_LENGTH])
            return False
        if row.locked_until_us > now:
            raise LoginLocked((row.locked_until_us - now) // 1_000_000 + 1)
        if not _matches(row.hash, password):
            failures = row.failures + 1
            locked = now + LOCK_SECONDS * 1_000_000 if failures >= MAX_FAILURES else 0
            with self.engine.begin() as conn:
                conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.user_id == user).values(
                    failures=0 if locked else failures, locked_until_us=locked))
            if locked:
                raise LoginLocked(LOCK_SECONDS)
            return False
        values: dict[str, object] = {"failures": 0, "locked_until_us": 0}
        if _HASHER.check_needs_rehash(row.hash):  # parameters raised since: upgrade on the next log-in
            values["hash"] = _HASHER.hash(password)
        with self.engine.begin() as conn:
            conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.user_id == user).values(**values))
        return True

    # -- sessions --------------------------------------------------------------------------
    def open_session(self, user: str) -> str:
        """A new session for ``user``; returns the cookie's token (kept only hashed)."""
        token = secrets.token_urlsafe(32)
        now = _now_us()
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
        if row is None or row.expires_at_us < _now_us():
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


def _matches(hashed: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(hashed, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
