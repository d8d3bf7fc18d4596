"""What "as of" means to people: a moment, turned into UTC µs, on one of two clocks.

The ledger as of T (log clock, ``--as-of``) is every event recorded at or before T (by the
database clock at append, monotone in log position, so it is a prefix of the log). As the
documents said by T (document clock, ``--documented-by``) is every event whose original
document is dated by T (:func:`document_us`). A moment must carry ``Z`` or an offset; a bare
date ``YYYY-MM-DD`` means the end of that day in Asia/Shanghai.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from domain.errors import InvalidInput

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_as_of(text: str, field: str = "as_of") -> int:
    """UTC microseconds of the moment ``text`` names; :class:`InvalidInput` otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(23, 59, 59, 999999), SHANGHAI)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"时间格式无效：{text!r}（应为 ISO 8601，带 Z 或时区，如 2026-12-15T00:00:00+08:00；"
                           "或日期 2026-12-15）", field) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"时间 {text!r} 缺少时区：请写 Z 或 +08:00 之类的偏移", field)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# -- the two clocks (两个时钟) ------------------------------------------------------------------
LOG_CLOCK = "log"  # 账本记录时间: when the ledger recorded an event (the database clock at append)
DOCUMENT_CLOCK = "document"  # 单据日期: the date on the paper an event stands for


@dataclass(frozen=True)
class AsOf:
    """A replay point (截至某一时刻): ``text`` as the person wrote it, ``moment_us`` its UTC
    microseconds, ``clock`` which clock it reads.

    On the log clock (``--as-of``) the ledger as of T is every event recorded by T: a prefix
    of the log. On the document clock (``--documented-by``) it is every event whose
    document is dated by T (:func:`document_us`), in the documents' order: not a prefix,
    since a migration may record an old document long after newer ones."""

    text: str
    moment_us: int
    clock: str = LOG_CLOCK

    @property
    def by_document(self) -> bool:
        return self.clock == DOCUMENT_CLOCK



def replay_point(as_of: str | None, documented_by: str | None = None) -> AsOf | None:
    """The replay point a read was asked for, or None for now. At most one of the two may be
    given (:class:`InvalidInput` naming ``documented_by`` otherwise, or the field whose
    moment does not parse)."""
    if as_of and documented_by:
        raise InvalidInput("账本记录时间（as_of）与单据日期（documented_by）只能择一", "documented_by")
    if documented_by:
        return AsOf(documented_by, parse_as_of(documented_by, "documented_by"), DOCUMENT_CLOCK)
    if as_of:
        return AsOf(as_of, parse_as_of(as_of))
    return None


def check_document_date(text: str, field: str = "documented_at") -> str:
    """A document's date as ``YYYY-MM-DD``, or :class:`InvalidInput` naming ``field``."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise InvalidInput(f"不是有效的单据日期：{text!r}（应为 YYYY-MM-DD）", field)


def document_us(raw: dict[str, Any], recorded_at_us: int) -> int | None:
    """Where an event stands on the document clock, in UTC microseconds: an event carrying its
    original document's date ``occurred_at`` (a migration's, or ``ledger init
    --documented-at``'s) at the start (00:00 Asia/Shanghai) of that date (the time of day is
    not on the paper; a query for that date includes it); any other live event at its
    recorded-at (it is its own document). None for a migrated event with no document date:
    it cannot be placed, and views on the document clock say how many such events they left
    out."""
    day = raw.get("occurred_at")
    if day:
        delta = datetime.combine(date.fromisoformat(day), time(0), SHANGHAI) - EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000
    return None if raw.get("migrated") else recorded_at_us
