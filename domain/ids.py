"""Deterministic ids: an aggregate's id follows from its natural key, so that two writers
creating "the same" branch, month or quarter collide on version 1 instead of forking it."""
from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c1e4e-5d3a-4c1e-9a59-3b1f0d0c2a77")


@lru_cache(maxsize=4096)
def organization_id() -> UUID:
    return uuid5(NAMESPACE, "organization")


@lru_cache(maxsize=4096)
def month_id(period: str) -> UUID:
    return uuid5(NAMESPACE, f"month:{period}")


@lru_cache(maxsize=4096)
def quarter_id(period: str) -> UUID:
    return uuid5(NAMESPACE, f"quarter:{period}")


@lru_cache(maxsize=256)
def year_id(period: str) -> UUID:
    return uuid5(NAMESPACE, f"year:{period}")


def appeals_id(entry_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"appeals:{entry_id}")


def appeal_id_for_key(key: str) -> UUID:
    return uuid5(NAMESPACE, f"appeal-key:{key}")


def entry_id_for_key(key: str) -> UUID:
    """The entry id of a score entry imported with ``key`` (stable across re-imports)."""
    return uuid5(NAMESPACE, f"entry:{key}")


@lru_cache(maxsize=65536)
def person_id(code: str) -> UUID:
    """A member's or employee's aggregate id, from the person id given on registration."""
    return uuid5(NAMESPACE, f"person:{code}")


@lru_cache(maxsize=65536)
def roster_id(branch: str) -> UUID:
    return uuid5(NAMESPACE, f"roster:{branch}")
