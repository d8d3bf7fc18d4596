"""What a projection sees of one stored event: its place in the log and its payload."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# The library's JSON transcoder tags typed values as {"_type_": name, "_data_": text}.
DECODERS: dict[str, Callable[[Any], Any]] = {
    "decimal_str": Decimal,
    "uuid_hex": UUID,
    "datetime_iso": datetime.fromisoformat,
}


def untranscode(value: Any) -> Any:
    """Turn the transcoder's tagged values back into Decimals, UUIDs and datetimes."""
    t = type(value)
    if t is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return DECODERS[value["_type_"]](value["_data_"])
        return {k: untranscode(v) for k, v in value.items()}
    if t is list:
        return [untranscode(v) for v in value]
    return value


LEAF_FORMAT = 1  # version byte of the canonical leaf layout below


def leaf_bytes(position: int, recorded_at_us: int, aggregate_id: UUID, version: int, topic: str,
               state: bytes) -> bytes:
    """The canonical bytes of one stored event, hashed into its Merkle leaf (README).

    ``0x01`` (layout version) ‖ position (8 bytes, big-endian, unsigned) ‖ recorded-at
    (UTC microseconds, 8 bytes, big-endian, signed) ‖ aggregate id (16 bytes) ‖ version
    (8 bytes, big-endian) ‖ topic length (4 bytes, big-endian) ‖ topic (UTF-8) ‖ payload
    length (4 bytes, big-endian) ‖ payload (the stored bytes, as written).
    """
    t = topic.encode("utf-8")
    return b"".join((bytes((LEAF_FORMAT,)), position.to_bytes(8, "big"),
                     recorded_at_us.to_bytes(8, "big", signed=True), aggregate_id.bytes,
                     version.to_bytes(8, "big"), len(t).to_bytes(4, "big"), t,
                     len(state).to_bytes(4, "big"), bytes(state)))


class LoggedEvent:
    """One event as recorded: ``position`` is its log position (notification id),
    ``recorded_at_us`` the database-clock time of its commit in UTC microseconds.

    ``raw`` is the payload as JSON-decoded (typed values still tagged); ``data`` decodes
    it fully on first use. Hot folds read single fields with :meth:`decimal`.
    """

    __slots__ = ("position", "recorded_at_us", "aggregate_id", "version", "topic", "raw", "_data", "name")

    def __init__(self, position: int, recorded_at_us: int, aggregate_id: UUID, version: int,
                 topic: str, raw: dict[str, Any]) -> None:
        self.position = position
        self.recorded_at_us = recorded_at_us
        self.aggregate_id = aggregate_id
        self.version = version
        self.topic = topic
        self.raw = raw
        self._data: dict[str, Any] | None = None
        self.name: str = topic.rpartition(":")[2]  # ``Aggregate.Event``, e.g. ``AssessmentMonth.ScoreRecorded``

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = untranscode(self.raw)
        return self._data

    def decimal(self, field: str) -> Decimal:
        value = self.raw[field]
        return Decimal(value["_data_"] if type(value) is dict else value)

    @property
    def recorded_at(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.recorded_at_us)

    def at_position(self, position: int) -> "LoggedEvent":
        """The same event at another position (for tests that reorder a log)."""
        return LoggedEvent(position, self.recorded_at_us, self.aggregate_id, self.version, self.topic, self.raw)


def provenance(raw: dict[str, Any]) -> dict[str, Any]:
    """Who made an event and how: the acting user (``by``), whether it came from a
    migration of history (``migrated``) and, then, the original document's date
    (``occurred_at``) — shown beside the ledger's own recorded-at in every view."""
    return {"by": raw.get("by"), "migrated": bool(raw.get("migrated", False)),
            "occurred_at": raw.get("occurred_at")}


def provenance_text(row: dict[str, Any]) -> str:
    """" [迁移，原始单据日期 …]" for migrated rows, "" otherwise (for text output)."""
    if not row.get("migrated"):
        return ""
    date = f"，原始单据日期 {row['occurred_at']}" if row.get("occurred_at") else ""
    return f" [历史迁移{date}]"
