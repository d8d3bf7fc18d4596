"""Property-based fuzz of the import parser (issue 10, item 5): ``adapters.cli.main.read_jsonl``
and ``domain.commands.parse_command``, bounded for CI (a few hundred examples, no deadline).
No database.

Properties:

* any bytes: ``read_jsonl`` returns, never raises; every non-blank line is either decoded
  or reported as a line error, exactly once, with its line number;
* any JSON-like value, and any valid line with one field replaced by any JSON-like value:
  ``parse_command`` returns a command or raises ``InvalidInput`` naming a field and a reason —
  never another exception; a returned command is storable (its digest computes, its text is
  valid UTF-8 without NUL, its decimals have at most two places and stay below 10^9, its
  integers fit 64 bits, its periods are ASCII);
* a valid entry survives the file round trip, and its points as a JSON number or a string
  are the same content (same digest).

How it fails if the guarantee breaks: before the fixes of this issue the first property
found ``b'\\xff'`` (``UnicodeDecodeError``) within a handful of examples, the second a lone
surrogate or ``{"op": []}`` (``TypeError``).
"""
from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.cli.main import read_jsonl
from domain.commands import COMMANDS, Command, parse_command
from domain.errors import InvalidInput
from tests.reliability.helpers import BASES

pytestmark = pytest.mark.reliability

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**70),
    st.decimals(allow_nan=True, allow_infinity=True), st.decimals(places=3, allow_nan=False),
    st.text(max_size=30), st.sampled_from(["", " ", "\x00", "\ud800", "NaN", "-Infinity", "2019-13", "2019-07",
                                           "２０１９-07", "2019-07\n", "-1.005", "-1e999999999999", "1_0", "-１",
                                           "'; DROP TABLE ledger_events; --", "<script>x</script>", "x" * 2001]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
FIELDS = sorted({f.alias or name for model in COMMANDS.values() for name, f in model.model_fields.items()})
ops = st.one_of(st.sampled_from(sorted(COMMANDS)), values)


def _storable(command: Command) -> None:
    assert len(command.digest()) == 64
    for name in type(command).model_fields:
        value = getattr(command, name)
        if isinstance(value, str):
            value.encode("utf-8")
            assert "\x00" not in value
        elif isinstance(value, Decimal):
            assert value.is_finite() and value.as_tuple().exponent >= -2 and abs(value) < Decimal("1e9"), (name, value)
        elif isinstance(value, int) and not isinstance(value, bool):
            assert -(2**63) <= value < 2**63, (name, value)
        if name in ("period", "year", "from_month") and isinstance(value, str):
            assert value.isascii(), (name, value)


def _parses_or_refuses(data: Any) -> None:
    try:
        command = parse_command(data)
    except InvalidInput as e:
        assert e.reason and isinstance(e.reason, str)
        assert e.field is None or isinstance(e.field, str)
        return
    _storable(command)


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), values, max_size=8), ops)
def test_any_object_parses_or_is_refused_by_name(fields: dict[str, Any], op: Any) -> None:
    _parses_or_refuses({**fields, "op": op})


@FUZZ
@given(st.sampled_from(sorted(BASES)), st.sampled_from(FIELDS) | st.text(max_size=10), values)
def test_a_valid_line_with_one_field_replaced_parses_or_is_refused_by_name(base: str, field: str, value: Any) -> None:
    _parses_or_refuses(BASES[base] | {field: value})


def _read(data: bytes) -> tuple[list[tuple[int, Any]], list[Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.jsonl"
        path.write_bytes(data)
        return read_jsonl(path)


def _json_lines() -> Any:
    valid = st.sampled_from([json.dumps(b, ensure_ascii=False).encode() for b in BASES.values()])
    mutated = valid.flatmap(lambda line: st.tuples(st.integers(0, len(line)), st.binary(max_size=4)).map(
        lambda cut: line[:cut[0]] + cut[1] + line[cut[0] + len(cut[1]):]))
    return st.one_of(st.binary(max_size=80), valid, mutated, st.just(b"   "), st.just(b""),
                     st.just(b"[" * 5000 + b"]" * 5000))


@FUZZ
@given(st.lists(_json_lines(), max_size=6))
def test_any_bytes_become_lines_or_line_errors(raw_lines: list[bytes]) -> None:
    raw_lines = [line.replace(b"\n", b" ") for line in raw_lines]
    lines, errors = _read(b"\n".join(raw_lines))
    decoded = [n for n, _ in lines]
    refused = [e.line for e in errors]
    assert decoded == sorted(decoded) and refused == sorted(refused)
    assert not set(decoded) & set(refused)
    for number, raw in enumerate(raw_lines, start=1):
        try:
            blank = not raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        assert (number in decoded or number in refused) != blank, (number, raw[:60])
    for _, data in lines:
        _parses_or_refuses(data)


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                max_size=60).filter(str.strip)
points = st.decimals(min_value=Decimal("-99.99"), max_value=Decimal("-0.01"), places=2)


@FUZZ
@given(points, texts, texts, st.booleans())
def test_a_valid_entry_round_trips_and_numbers_equal_strings(value: Decimal, reason: str, key: str,
                                                            as_number: bool) -> None:
    line = BASES["record_score"] | {"reason": reason, "key": key}
    text = json.dumps(line | {"points": str(value)}, ensure_ascii=False)
    if as_number:
        text = text.replace(f'"points": "{value}"', f'"points": {value}')
    lines, errors = _read(text.encode("utf-8") + b"\n")
    assert not errors
    [(_, data)] = lines
    command = parse_command(data)
    assert (command.points, command.reason, command.key) == (value, reason, key)
    assert command.digest() == parse_command(line | {"points": str(value)}).digest()
