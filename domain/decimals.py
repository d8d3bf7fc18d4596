"""One test on a Decimal shared by the validators of scores, points and money."""
from __future__ import annotations

from decimal import Decimal


def beyond_cents(value: Decimal) -> bool:
    """True if ``value`` is not finite (NaN, Infinity) or has more than two decimals
    (``1.005``); ``1E+2`` and ``1.50`` are within. No precondition."""
    exponent = value.as_tuple().exponent  # an int for a finite value; "n", "N" or "F" otherwise
    return not isinstance(exponent, int) or exponent < -2
