"""Decoding JSON from people and programs the same way everywhere (a line of ``ledger
import``, an HTTP body, a line of ``POST /import``): numbers as exact Decimals; NaN and
Infinity, nesting too deep to decode, invalid UTF-8 and a field given twice in one object
(``json`` would keep the last silently) refused as :class:`InvalidInput`, never raised as
another exception."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from domain import vocabulary
from domain.errors import InvalidInput


def decode_text(text: str) -> Any:
    """The JSON value of ``text``; :class:`InvalidInput` (field: the repeated name, else None)."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_no_repeated_field)
    except InvalidInput:
        raise
    except json.JSONDecodeError as e:
        raise InvalidInput(vocabulary.json_reason(e.msg, e.lineno if "\n" in text.strip() else None, e.colno),
                           None) from None
    except RecursionError:
        raise InvalidInput("不是有效的 JSON：嵌套过深", None) from None
    except ValueError as e:
        message = str(e)[:200]
        raise InvalidInput(f"不是有效的 JSON：{message if vocabulary.has_chinese(message) else '格式无效'}",
                           None) from None


def decode_json(raw: bytes) -> Any:
    """The JSON value of UTF-8 ``raw`` bytes; :class:`InvalidInput` as :func:`decode_text`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInput(f"不是有效的 UTF-8 编码（第 {e.start + 1} 字节）", None) from None
    return decode_text(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"不允许 {name}")


def _no_repeated_field(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise InvalidInput("字段重复出现", name[:100])
        out[name] = value
    return out
