"""What "as of" means to people: a moment, turned into the ledger's clock (UTC µs).

The ledger as of T is every event recorded at or before T (by the database clock at
append, monotone in log position, so it is a prefix of the log). A moment must carry
``Z`` or an offset; a bare date ``YYYY-MM-DD`` means the end of that day in Asia/Shanghai.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

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
