"""Periods: months ``YYYY-MM``, quarters ``YYYYQn``, years ``YYYY``.

Periods are kept as their canonical strings (they sort correctly as strings) and parsed
strictly: ``2019-7`` or ``2019q3`` are refused.
"""
from __future__ import annotations

import re

from domain.errors import InvalidInput

# ASCII digits only, and ``\Z`` (``$`` would also match before a trailing newline): a
# fullwidth ``２０１９-07`` or ``2019-07\n`` must not become a second, distinct month.
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")
_QUARTER = re.compile(r"^([0-9]{4})Q([1-4])\Z")


def check_month(value: object, field: str = "period") -> str:
    """Return ``value`` if it is a month ``YYYY-MM``; raise :class:`InvalidInput` otherwise."""
    if not isinstance(value, str) or not _MONTH.match(value):
        raise InvalidInput(f"月份格式应为 YYYY-MM，收到 {value!r}", field)
    return value


def check_quarter(value: object, field: str = "period") -> str:
    """Return ``value`` if it is a quarter ``YYYYQn``; raise :class:`InvalidInput` otherwise."""
    if not isinstance(value, str) or not _QUARTER.match(value):
        raise InvalidInput(f"季度格式应为 YYYYQn（如 2019Q3），收到 {value!r}", field)
    return value


def check_year(value: object, field: str = "year") -> str:
    """Return the year ``YYYY`` (an int is accepted and written as text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) != 4 or not (value.isascii() and value.isdigit()):
        raise InvalidInput(f"年份格式应为 YYYY，收到 {value!r}", field)
    return value


def quarter_months(quarter: str) -> tuple[str, str, str]:
    """The three months of a quarter, in order. Precondition: ``quarter`` is valid."""
    year, q = quarter.split("Q")
    first = (int(q) - 1) * 3 + 1
    return f"{year}-{first:02d}", f"{year}-{first + 1:02d}", f"{year}-{first + 2:02d}"


def quarter_of(month: str) -> str:
    """The quarter a month belongs to. Precondition: ``month`` is valid."""
    year, m = month.split("-")
    return f"{year}Q{(int(m) - 1) // 3 + 1}"


def month_range(first: str, count: int) -> list[str]:
    """``count`` consecutive months starting at ``first``."""
    year, m = (int(x) for x in first.split("-"))
    out = []
    for i in range(count):
        y, mm = divmod(m - 1 + i, 12)
        out.append(f"{year + y}-{mm + 1:02d}")
    return out


_HALF = re.compile(r"^([0-9]{4})H([12])\Z")


def check_half(value: object, field: str = "half") -> str:
    """Return ``value`` if it is a half-year ``YYYYHn`` (2019H1: January–June, 2019H2:
    July–December); raise :class:`InvalidInput` otherwise."""
    if not isinstance(value, str) or not _HALF.match(value):
        raise InvalidInput(f"半年格式应为 YYYYHn（如 2019H1），收到 {value!r}", field)
    return value


def half_months(half: str) -> list[str]:
    """The six months of a half-year, in order. Precondition: ``half`` is valid."""
    year, h = half.split("H")
    return month_range(f"{year}-{'01' if h == '1' else '07'}", 6)
