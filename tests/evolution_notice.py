"""A test-only aggregate at version 2, for the schema-evolution test (issue 10, item 7).

Version 1 (``tests/fixtures/evolution_notice_v1.py``) posted a notice with ``text``.
Version 2 renames ``text`` to ``body`` and adds ``audience`` (受众; default for old
notices: 全体党员, every party member). Stored events keep their version-1 bytes — the log is
append-only and its Merkle leaves cover them — and are read through the library's upcasting:
an event class with ``class_version = 2`` and a static ``upcast_v1_v2(state)`` that
rewrites the stored state dict before the event object is made. New events are stored with
``class_version: 2`` in their payload.
"""
from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

ALL_MEMBERS = "全体党员"


class Notice(Aggregate):
    """通知, version 2: a title, a body and an audience."""

    class_version = 2  # the aggregate's own state (snapshots) follows the same change

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["body"] = state.pop("text")
        state["audience"] = ALL_MEMBERS

    class Posted(Aggregate.Created):
        class_version = 2
        number: str
        title: str
        body: str
        audience: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 had ``text`` and no audience."""
            state["body"] = state.pop("text")
            state["audience"] = ALL_MEMBERS

    class Amended(Aggregate.Event):
        class_version = 2
        body: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["body"] = state.pop("text")

    @staticmethod
    def create_id(number: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"dangjian-ledger/test-notice/{number}")

    @event(Posted)
    def __init__(self, number: str, title: str, body: str, audience: str = ALL_MEMBERS) -> None:
        self.number = number
        self.title = title
        self.body = body
        self.audience = audience
        self.revisions = 0

    @event(Amended)
    def amend(self, body: str) -> None:
        self.body = body
        self.revisions += 1
