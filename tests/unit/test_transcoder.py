"""The fast transcoder against the library's own as the reference: same bytes, same values."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.store.transcoder import FastJSONTranscoder


def _both() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    pair = (JSONTranscoder(), FastJSONTranscoder())
    for t in pair:
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            t.register(transcoding)
    return pair


REFERENCE, FAST = _both()
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.text(), st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.floats(allow_nan=False, allow_infinity=False),
)
payloads = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.text(max_size=10), payloads, max_size=8))
def test_fast_encoding_is_byte_identical_and_decodes_alike(payload: dict) -> None:
    expected = REFERENCE.encode(payload)
    assert FAST.encode(payload) == expected
    assert FAST.decode(expected) == REFERENCE.decode(expected)


def test_a_score_event_payload() -> None:
    payload = {"originator_id": UUID(int=7), "originator_version": 3,
               "timestamp": datetime(2019, 7, 1, 8, 30, tzinfo=timezone.utc),
               "entry_id": UUID(int=9), "branch": "B1", "points": Decimal("-2.50"),
               "reason": "学习\n缺课\u0001\"引号\"", "key": None, "results": [{"score": Decimal("98.00")}]}
    assert FAST.encode(payload) == REFERENCE.encode(payload)
    assert FAST.decode(FAST.encode(payload)) == payload
