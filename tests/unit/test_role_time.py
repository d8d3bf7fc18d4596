"""The acting-user check of ``ledger verify`` (projections/audit.py) reads an event's own time;
a forger writes that time. It is bounded by the event's recorded-at (which verify checks is in
log order), so a backdated time cannot reach a moment a revoked role was still held."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from domain.integrity.log import LoggedEvent
from projections.audit import MAX_COMMAND_LAG_US, Auditor, role_time, stamp_gap

DAY = 86_400_000_000
T0 = 1_700_000_000_000_000  # UTC µs
MONTH = "domain.assessment.month_and_quarter:AssessmentMonth.ScoreRecorded"
ACCESS = "domain.access.users:Access."


def stamp(at_us: int) -> dict[str, str]:
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=at_us)
    return {"_type_": "datetime_iso", "_data_": moment.isoformat()}


def event(position: int, recorded: int, topic: str, **raw: Any) -> LoggedEvent:
    return LoggedEvent(position, recorded, uuid.UUID(int=position), 1, topic, raw)


def directory() -> Auditor:
    """``admin`` created at T0; ``migration`` a migrator from T0 until its revocation at T0 + 1 day."""
    auditor = Auditor()
    auditor.take(event(1, T0, ACCESS + "UserCreated", user="admin", timestamp=stamp(T0)))
    auditor.take(event(2, T0, ACCESS + "UserCreated", user="migration", timestamp=stamp(T0)))
    auditor.take(event(3, T0, ACCESS + "RoleGranted", user="migration", role="migrator", effective_us=T0))
    auditor.take(event(4, T0 + DAY, ACCESS + "RoleRevoked", user="migration", role="migrator",
                       effective_us=T0 + DAY, by="admin"))
    return auditor


def entry(recorded: int, own: int) -> LoggedEvent:
    return event(9, recorded, MONTH, by="migration", branch="A", category="political", department="party_mass",
                 migrated=True, timestamp=stamp(own))


def test_a_time_backdated_before_the_revocation_does_not_restore_the_role() -> None:
    recorded = T0 + 2 * DAY  # recorded after the revocation, in order
    backdated = entry(recorded, T0 + DAY - 1)  # own time: a microsecond before the revocation
    assert role_time(backdated) == recorded - MAX_COMMAND_LAG_US
    assert stamp_gap(backdated) == DAY + 1 > MAX_COMMAND_LAG_US  # verify: timestamp_mismatch
    why = directory().unauthorized(backdated, lambda branch, at: None)
    assert why is not None and "migration" in why


def test_an_honest_event_is_checked_at_its_own_time() -> None:
    """A command that read the directory before the revocation landed and was recorded just
    after it (the domain accepted it): its own time, within the lag, counts."""
    honest = entry(T0 + DAY + 2_000_000, T0 + DAY - 1_000_000)
    assert role_time(honest) == T0 + DAY - 1_000_000 and stamp_gap(honest) == 3_000_000
    assert directory().unauthorized(honest, lambda branch, at: None) is None
    later = entry(T0 + DAY + 2_000_000, T0 + DAY + 1_000_000)
    assert directory().unauthorized(later, lambda branch, at: None) is not None


def test_an_own_time_after_the_recorded_at_counts_as_the_recorded_at() -> None:
    ahead = entry(T0 + DAY - 1, T0 + 3 * DAY)  # stamped after the revocation, recorded before it
    assert role_time(ahead) == T0 + DAY - 1 and stamp_gap(ahead) == -(2 * DAY + 1)
    assert directory().unauthorized(ahead, lambda branch, at: None) is None


def test_the_remembered_roles_and_times_are_those_computed_afresh() -> None:
    """verify's shortcuts (roles remembered between a user's grant bounds, a timestamp's whole
    seconds from a table) give what roles_at and fromisoformat give, across the bounds."""
    from projections.audit import _parsed_us
    auditor = directory()
    for at in (T0 - 1, T0, T0 + 1, T0 + DAY - 1, T0 + DAY, T0 + DAY + 1, T0 - 1, T0 + DAY - 1):
        assert auditor._roles("migration", at) == auditor.roles_at("migration", at)
    assert auditor._roles("migration", T0) == {"migrator"} and auditor._roles("migration", T0 + DAY) == set()
    auditor.take(event(5, T0 + 2 * DAY, ACCESS + "RoleGranted", user="migration", role="admin", effective_us=T0 + 2 * DAY))
    assert auditor._roles("migration", T0 + 3 * DAY) == {"admin"}  # the directory changed: nothing stale
    texts = [stamp(T0 + n * 999_983)["_data_"] for n in range(2000)]
    texts += ["2026-12-07T20:57:31.+12345+00:00", "2026-13-07T20:57:31.861685+00:00", "2026-12-07T20:57:31+00:00",
              "2026-12-07T20:57:31.861685+08:00", "not a time", texts[0], texts[0]]
    for text in texts:
        try:
            expected: int | None = int(datetime.fromisoformat(text).timestamp() * 1_000_000)
        except ValueError:
            expected = None
        assert _parsed_us(text) == expected, text
