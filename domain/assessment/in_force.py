"""Which branch, member count, secretary and rulebook version are in force in a month: the
rules the ``Organization`` aggregate (organization.py) and the folds (projections/) share.
Plain functions over the organization's records, apart from the aggregate so that a read
that needs only them does not import the event-sourcing library (issue 18: CLI start-up)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Container, Iterable, Mapping

from domain.assessment.scoring import Secretary


def version_in_force(versions: Iterable[tuple[int, str | None]], month: str) -> int:
    """The rulebook version in force in ``month``: the latest of ``versions`` (number,
    ``effective_from``) whose ``effective_from`` is not after ``month`` (None: from the start).
    The one rule, used by the ``Organization`` aggregate and by the folds
    (``projections/model.py``) alike. Precondition: one version is in force by then (v1
    has no ``effective_from``); otherwise ``ValueError``."""
    return max(version for version, start in versions if start is None or start <= month)


def takes_part(branch: Mapping[str, Any], month: str) -> bool:
    """Whether a branch (its record: ``from_month``, None for from the start) takes part in
    a period starting at ``month``: registered from then or earlier."""
    return branch["from_month"] is None or branch["from_month"] <= month


def taking_part(branches: Mapping[str, Mapping[str, Any]], first_month: str) -> list[str]:
    """Codes of the branches taking part in a period starting at ``first_month``, sorted:
    the one rule for the aggregate and the folds."""
    return sorted(code for code, branch in branches.items() if takes_part(branch, first_month))


def ranked_throughout(taking: Iterable[str], approved: Iterable[Container[str]]) -> list[str]:
    """The branches of ``taking`` (those taking part from a period's first month) that every
    month's approved results list: the branches a quarter's or a year's ranking ranks."""
    inside = list(taking)
    for month in approved:  # one pass per month (a quarter's 3,000 tests without a generator each)
        inside = [b for b in inside if b in month]
    return inside


def secretary_in(appointments: list[Any], month: str) -> Secretary | None:
    """The latest appointment (by ``from`` month, then by order) not after ``month``."""
    current = None
    for row in appointments:
        if row[0] <= month and (current is None or row[0] >= current[0]):
            current = row
    if current is None:
        return None
    allowance = None if current[4] is None else Decimal(current[4])
    return Secretary(name=current[1], mode=current[2], allowance=allowance, user=current[3])


def members_in(history: list[Any], month: str) -> int:
    """The member count in force in ``month``: the latest ``from`` not after it."""
    best: tuple[str, int] | None = None
    for start, count in history:
        start = start or ""
        if start <= month and (best is None or start >= best[0]):
            best = (start, count)
    return best[1] if best else history[0][1]
