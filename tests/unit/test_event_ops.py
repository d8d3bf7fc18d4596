"""The event → ops table that ``ledger verify`` checks acting users with (domain/service/event_ops.py)."""
from __future__ import annotations

from domain import vocabulary
from domain.service.event_ops import EVENT_OPS, INIT, op_roles, ops_of


def test_every_event_kind_has_ops_and_every_op_exists() -> None:
    registry = op_roles()
    unknown = {op for ops in EVENT_OPS.values() for op in ops if op != INIT and op not in registry}
    assert not unknown, unknown
    missing = [name for name in vocabulary.EVENTS if ops_of(name) is None]
    assert not missing, missing
    assert not set(EVENT_OPS) - set(vocabulary.EVENTS), set(EVENT_OPS) - set(vocabulary.EVENTS)
    assert "committee" in registry["erase_person_key"] and "scorer" in registry["record_score"]
