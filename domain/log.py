"""What a projection sees of one stored event: its place in the log and its payload."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One event as recorded: ``position`` is its log position (notification id),
    ``recorded_at_us`` the database-clock time of its commit in UTC microseconds.

    ``data`` is the decoded payload (decimals as ``Decimal``, ids as ``UUID``).
    """

    position: int
    recorded_at_us: int
    aggregate_id: UUID
    version: int
    topic: str
    data: dict[str, Any]

    @property
    def name(self) -> str:
        """``Aggregate.Event`` part of the topic, e.g. ``AssessmentMonth.ScoreRecorded``."""
        return self.topic.rpartition(":")[2]

    @property
    def recorded_at(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.recorded_at_us)
