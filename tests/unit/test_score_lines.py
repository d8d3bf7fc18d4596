"""The batch import's reading of ``record_score`` lines agrees with :func:`parse_command`.

:class:`ScoreLineReader` reads a line of the common shape itself and sends every other line
through ``parse_command``; for each line here, both readings must give the same values, the
same digest and entry id, or the same error (field and reason). How it fails if the fast
reading drifts: a value it accepts that pydantic refuses (or the reverse) — whitespace
around a number, a lone surrogate, a NUL, an unknown field — or a digest over other content.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain import commands as c
from domain.errors import InvalidInput

BASE = {"op": "record_score", "key": "2019-07/1/0", "branch": "B00001", "period": "2019-07", "category": "political",
        "points": "-0.50", "reason": "例行检查扣分", "department": "party_mass", "actor": "考核员"}
VARIANTS: list[dict[str, Any]] = [
    {}, {"key": None}, {"points": "-1"}, {"points": "+2"}, {"points": "-.5"}, {"points": " -1"}, {"points": "-1.234"},
    {"points": "1e2"}, {"points": "NaN"}, {"points": "-１"}, {"points": -1}, {"points": Decimal("-1.5")},
    {"points": 1.5}, {"points": True}, {"points": "-1000000000"}, {"branch": "B 1"}, {"branch": "Ｂ1"},
    {"branch": ""}, {"branch": 7}, {"branch": "x" * 33}, {"period": "2019-7"}, {"period": "2019-13"},
    {"period": "2999-01"}, {"period": 201907}, {"reason": "   "}, {"reason": ""}, {"reason": "a\x00b"},
    {"reason": "a\ud800b"}, {"reason": "x" * 2001}, {"reason": "x" * 2000}, {"reason": None}, {"actor": 5},
    {"category": "bonus", "points": "3"}, {"occurred_at": "2019-07-03"}, {"occurred_at": "2019-7-3"},
    {"occurred_at": None}, {"occurred_at": 20190703}, {"extra": 1}, {"op": "record_scores"}, {"key": ""},
    {"key": " k "}, {"department": "办公室"},
]


def reading(read: Any, data: Any) -> Any:
    try:
        line = read(data)
    except InvalidInput as e:
        return ("error", e.field, e.reason)
    return tuple(getattr(line, f) for f in c.ScoreLine.__slots__)


@pytest.mark.parametrize("change", VARIANTS, ids=lambda v: repr(v)[:40])
def test_the_batch_reading_agrees_with_parse_command(change: dict[str, Any]) -> None:
    data = {**BASE, **change}
    missing = {k: v for k, v in BASE.items() if k not in ("op", "key")}
    want = reading(lambda d: c.ScoreLine.of(c.parse_command(d)), data)
    assert reading(c.ScoreLineReader().read, data) == want
    reader = c.ScoreLineReader()  # remembered values give the same answer the second time
    assert reading(reader.read, data) == reading(reader.read, dict(data)) == want
    for field in missing:  # each required field left out
        partial = {k: v for k, v in data.items() if k != field}
        assert reading(c.ScoreLineReader().read, partial) == reading(
            lambda d: c.ScoreLine.of(c.parse_command(d)), partial)


def test_the_common_shape_is_read_without_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast reading is taken (so the agreement above tests it, not parse_command twice)."""
    want = c.parse_command(dict(BASE))

    def refuse(data: Any) -> Any:
        raise AssertionError("parse_command called for a line of the common shape")
    monkeypatch.setattr(c, "parse_command", refuse)
    line = c.ScoreLineReader().read(dict(BASE))
    assert (line.points, line.digest, line.entry_id) == (want.points, want.digest(), want.entry_id)
