"""One stored event as people read it (the web's event page): each field by its Chinese
name (domain/vocabulary.py), codes with their Chinese names, times in Beijing time.
Only formatting; the raw stored form stays available beside it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from domain import vocabulary as v
from domain.asof import SHANGHAI
from domain.log import EPOCH, untranscode

CODED = {"category": v.category_name, "department": v.department_name, "rule": v.rule_name,
         "role": v.role_name, "originator_topic": lambda t: v.event_name(t).removeprefix("建立") or t}
HIDDEN = ("originator_topic",)  # the event type already says which aggregate


def shanghai(value: datetime) -> str:
    """A datetime as ``2019-07-03 10:00:05.123456（北京时间）``."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S.%f") + "（北京时间）"


def from_us(us: int) -> str:
    """UTC microseconds since the epoch, in Beijing time."""
    return shanghai(EPOCH + timedelta(microseconds=us))


def _text(name: str, value: Any) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, datetime):
        return shanghai(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if name.endswith("_us") and isinstance(value, int):
        return from_us(value)
    if name == "mode":
        return v.state_name(value, "mode")
    if name in CODED and isinstance(value, str):
        named = CODED[name](value)
        return f"{named}（{value}）" if named != value else value
    if name == "parameters" and isinstance(value, dict):
        return "；".join(f"{v.parameter_name(k)}：{_compact(x)}" for k, x in value.items())
    if isinstance(value, (dict, list)):
        return _compact(value)
    return str(value)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list)) else str(value)


def detail_text(detail: dict[str, Any]) -> str:
    """An event's fields on one line (``ledger history``): ``支部：A；分值：-2.00；…``."""
    return "；".join(f"{v.event_field_name(k)}：{_text(k, x)}" for k, x in detail.items())


def event_rows(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(Chinese field name, value as text) for each field of a stored payload (as decoded
    from its JSON, typed values still tagged)."""
    data = untranscode(payload)
    return [(v.event_field_name(k), _text(k, x)) for k, x in data.items() if k not in HIDDEN]

