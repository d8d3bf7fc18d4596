"""One stored event as people read it (the web's event page): each field by its Chinese
name (domain/vocabulary.py), codes with their Chinese names, times in Beijing time.
Only formatting; the raw stored form stays available beside it."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain import vocabulary as v
from domain.asof import SHANGHAI
from domain.integrity.log import EPOCH, untranscode

CODED = {"role": v.role_name}
HIDDEN = ("originator_topic",)  # the event type already says which aggregate


def _care_name(name: str, value: str) -> str | None:
    """Talk/visit occasions and personnel decisions are named in domain/members/care.py (with their kind)."""
    from domain.members.care import OCCASIONS, PERSONNEL_KINDS
    if name == "occasion" and value in OCCASIONS:
        return OCCASIONS[value][2]
    if name == "kind" and value in PERSONNEL_KINDS:
        return PERSONNEL_KINDS[value][1]
    return None


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
    if (name == "rule" or name.endswith("_rule")) and isinstance(value, str):
        return f"{v.rule_name(value)}（{value}）"
    if name == "notes" and isinstance(value, list):
        return "、".join(v.rule_name(str(n)) for n in value) or "（无）"
    if name == "mode":
        return v.state_name(value, "mode")
    if name in CODED and isinstance(value, str):
        named = CODED[name](value)
        return f"{named}（{value}）" if named != value else value
    if isinstance(value, str) and (named := v.code_name(name, value) or _care_name(name, value)):
        return f"{named}（{value}）"
    if name == "attendance" and isinstance(value, dict):
        return "，".join(f"{p} {v.ATTENDANCE.get(s, s) if isinstance(s, str) else _compact(s)}" for p, s in value.items())
    if name == "parameters" and isinstance(value, dict):
        return "；".join(f"{v.parameter_name(k)}：{_compact(x)}" for k, x in value.items())
    if isinstance(value, (dict, list)):
        return _compact(value)
    return str(value)


def _compact(value: Any) -> str:
    """A nested value on one line, keys by their Chinese names: ``（结果哈希 2aa4…，程序版本 0.1.0）``."""
    if isinstance(value, dict):
        return "（" + "，".join(f"{v.event_field_name(str(k))} {_text(str(k), x)}" for k, x in value.items()) + "）"
    if isinstance(value, list):
        return "[" + "，".join(_compact(x) for x in value) + "]"
    return "（空）" if value is None else str(value)


def detail_text(detail: dict[str, Any]) -> str:
    """An event's fields on one line (``ledger history``): ``支部：A；分值：-2.00；…``."""
    return "；".join(f"{v.event_field_name(k)}：{_text(k, x)}" for k, x in detail.items() if k not in HIDDEN)


def is_code(name: str) -> bool:
    """Whether a field holds an id, hash, key or sealed text (shown as code, not prose)."""
    return name in ("key", "verifier_key", "summary_sealed", "proof") or name.endswith(("_id", "_hash", "_sha256"))


def event_rows(payload: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(Chinese field name, value as text, whether it is a code) for each field of a stored
    payload (as decoded from its JSON, typed values still tagged)."""
    data = untranscode(payload)
    return [(v.event_field_name(k), _text(k, x), is_code(k)) for k, x in data.items() if k not in HIDDEN]

