"""The security log (安全日志): every refused command, who tried what and when.

Append-only (the same triggers as the ledger's tables), separate from the ledger's event
log: a refusal is not part of any result and is not in the Merkle tree. Rate-limited per
user so that a flood of refused commands cannot fill the database: at most ``LIMIT`` rows
per user per ``WINDOW_US``; the row that reaches the limit says so, and further refusals in
that window are counted in memory only (per process) and summarised by the next row that
process writes. Refusals of users who are not in the directory share one bucket per name;
an over-long name is logged under ``(unknown)`` with the name in the reason.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from adapters.store.tree import METADATA, SECURITY_LOG

LIMIT = 20
WINDOW_US = 60_000_000
UNKNOWN = "(unknown)"  # the bucket of made-up user names
log = logging.getLogger(__name__)


class SqlSecurityLog:
    """``Ledger.security_log``: records refusals in ``ledger_security_log``."""

    def __init__(self, engine: Engine, create: bool = False) -> None:
        """``create``: make the table if absent (``ledger init`` makes it with the others;
        opening a ledger creates nothing)."""
        self.engine = engine
        if create:
            METADATA.create_all(engine, tables=[SECURITY_LOG], checkfirst=True)
        self._suppressed: dict[str | None, int] = {}
        self._lock = threading.Lock()

    def refused(self, user: str | None, op: str, reason: str) -> None:
        """Record one refusal; never raises (the refusal itself must reach the caller)."""
        try:
            self._record(user, op, reason)
        except Exception:  # noqa: BLE001 - a failing log must not turn a refusal into a crash
            log.exception("security log write failed")

    def _record(self, user: str | None, op: str, reason: str) -> None:
        now = int(time.time() * 1_000_000)
        if user is not None and len(user) > 64:  # user ids are at most 64: a longer one is a made-up name
            reason, user = f"{reason}（声称的用户：{user[:200]}…）", UNKNOWN
        with self._lock, self.engine.begin() as conn:
            recent = conn.execute(select(func.count()).select_from(SECURITY_LOG).where(
                SECURITY_LOG.c.user_id == user, SECURITY_LOG.c.at_us > now - WINDOW_US)).scalar_one()
            if recent >= LIMIT:
                self._suppressed[user] = self._suppressed.get(user, 0) + 1
                return
            suppressed = self._suppressed.pop(user, 0)
            if suppressed:
                reason = f"{reason}（此前另有 {suppressed} 次被拒绝未逐条记录：已限流）"
            if recent == LIMIT - 1:
                reason = f"{reason}（已达每分钟 {LIMIT} 条上限，之后的拒绝暂不逐条记录）"
            conn.execute(insert(SECURITY_LOG).values(at_us=now, user_id=user, op=op[:100], reason=reason[:2000]))

    def rows(self, user: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The latest refusals, newest first."""
        query = select(SECURITY_LOG).order_by(SECURITY_LOG.c.id.desc()).limit(limit)
        if user is not None:
            query = query.where(SECURITY_LOG.c.user_id == user)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
