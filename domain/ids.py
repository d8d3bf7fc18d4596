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


def member_points_id(branch: str, year: str) -> UUID:
    """The member-points aggregate of one branch and year (党员积分)."""
    return uuid5(NAMESPACE, f"member-points:{branch}:{year}")


def points_entry_id_for_key(key: str) -> UUID:
    """The id of a member-points entry imported with ``key`` (stable across re-imports)."""
    return uuid5(NAMESPACE, f"points-entry:{key}")


@lru_cache(maxsize=4096)
def links_id(branch: str) -> UUID:
    """The branch's 1+N links (党员联系职工) aggregate."""
    return uuid5(NAMESPACE, f"links:{branch}")


def project_id(project: str) -> UUID:
    """A one-thing-a-year project (一年做成一件事), from the project id given on registration."""
    return uuid5(NAMESPACE, f"project:{project}")


def project_year_id(branch: str, year: str) -> UUID:
    """The index of a branch's projects of one year (who owns which)."""
    return uuid5(NAMESPACE, f"project-year:{branch}:{year}")


def proposal_id(proposal: str) -> UUID:
    """An innovation proposal (合理化建议), from the proposal id given on submission."""
    return uuid5(NAMESPACE, f"proposal:{proposal}")


def innovation_account_id(person: str) -> UUID:
    """A person's innovation-points account (创新积分个人账户)."""
    return uuid5(NAMESPACE, f"innovation-account:{person}")


def selection_id(selection: str) -> UUID:
    """A competitive selection (竞聘), from the selection id given when it is opened."""
    return uuid5(NAMESPACE, f"selection:{selection}")


def mentoring_id(branch: str, year: str) -> UUID:
    """A branch's mentor-apprentice pairs of one year (导师带徒)."""
    return uuid5(NAMESPACE, f"mentoring:{branch}:{year}")


def occasion_id_for_key(key: str) -> UUID:
    """A talk or visit occasion (六必谈 / 六必访) raised by the line with import ``key``
    (a ``raise_occasion`` line, or the ``record_personnel_event`` line that caused it)."""
    return uuid5(NAMESPACE, f"occasion-key:{key}")


def personnel_id_for_key(key: str) -> UUID:
    """A personnel decision (人事事项) recorded by the line with import ``key``."""
    return uuid5(NAMESPACE, f"personnel-key:{key}")


def person_key_id(person: str) -> UUID:
    """The record that a person's summary key was erased (one per person)."""
    return uuid5(NAMESPACE, f"person-key:{person}")


@lru_cache(maxsize=1)
def access_id() -> UUID:
    return uuid5(NAMESPACE, "access")


def meeting_id(branch: str, kind: str, date: str, group: str | None) -> UUID:
    """A meeting (三会一课 etc.), from its natural key: branch, kind, date and (group meetings) group."""
    return uuid5(NAMESPACE, f"meeting:{branch}:{kind}:{date}:{group or ''}")


def dues_account_id(person: str) -> UUID:
    """A member's party-dues account (党费): bases and payments."""
    return uuid5(NAMESPACE, f"dues-account:{person}")


def dues_payment_id_for_key(key: str) -> UUID:
    """The id of a dues payment imported with ``key`` (stable across re-imports)."""
    return uuid5(NAMESPACE, f"dues-payment:{key}")


def dues_statement_id(branch: str, half: str) -> UUID:
    """A branch's half-yearly dues statements (党费收缴公示)."""
    return uuid5(NAMESPACE, f"dues-statement:{branch}:{half}")
