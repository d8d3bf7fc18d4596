"""The vocabulary (domain/vocabulary.py) names everything people read, once, in Chinese.

Walks every registered event class, every refusal class, every rulebook parameter, every
role, department, category and rule id, and fails on a missing name or an English phrase.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from typing import Any, Iterator

import pytest

import adapters
import domain
import projections
from domain import vocabulary as v



def _import_all() -> None:
    for package in (domain, projections, adapters):
        for m in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{m.name}")


def _subclasses(cls: type) -> Iterator[type]:
    for s in cls.__subclasses__():
        yield s
        yield from _subclasses(s)


english = v.english  # the English phrases in a text meant for people
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_registered_event_type_has_a_chinese_name() -> None:
    from eventsourcing.domain import Aggregate
    _import_all()
    names = {e.__qualname__ for e in _subclasses(Aggregate.Event)
             if e.__module__.startswith("domain.") and not e.__qualname__.endswith(".Event")}
    assert len(names) > 50
    missing = sorted(n for n in names if n not in v.EVENTS)
    assert not missing, f"events without a Chinese name: {missing}"
    assert v.event_name("domain.dues:DuesAccount.BaseSet") == "核定党费基数"
    assert v.event_name("Nobody.Knows") == "其他事件"


def test_every_refusal_class_has_a_chinese_name() -> None:
    from domain.errors import LedgerError
    _import_all()
    names = {"LedgerError", *(c.__name__ for c in _subclasses(LedgerError))}
    missing = sorted(n for n in names if n not in v.REFUSALS)
    assert not missing, f"refusal classes without a Chinese name: {missing}"


def test_every_rulebook_parameter_has_a_chinese_name() -> None:
    from domain.rulebook import Rulebook
    missing = [f.name for f in dataclasses.fields(Rulebook) if f.name not in v.PARAMETERS]
    assert not missing, f"rulebook parameters without a Chinese name: {missing}"


def test_every_role_department_category_and_rule_has_a_chinese_name() -> None:
    from domain import access, annual, scoring
    from domain.rulebook import CATEGORY_NAMES, DEPARTMENT_NAMES, Rulebook
    assert set(access.FIXED_ROLES) <= set(v.ROLES) and set(access.FIXED_ROLES) <= set(v.ROLE_DUTIES)
    assert set(access.SCORER_DEPARTMENTS) <= set(v.DEPARTMENTS)
    assert set(Rulebook().departments) <= set(v.DEPARTMENTS) and set(DEPARTMENT_NAMES) <= set(v.DEPARTMENTS)
    assert set(Rulebook().categories) <= set(v.CATEGORIES) and set(CATEGORY_NAMES) <= set(v.CATEGORIES)
    for role in (*access.FIXED_ROLES, *(f"scorer:{d}" for d in access.SCORER_DEPARTMENTS), "secretary:B01"):
        assert re.search(r"[\u4e00-\u9fff]", v.role_name(role)), role
    rules = {scoring.RULE_FIRST_AWARD, scoring.RULE_LAST_FINE, annual.RULE_QUOTA_BASE, annual.RULE_QUOTA_FIRST,
             annual.RULE_QUOTA_LAST, "year.inputs_missing",
             *(f"{k}.{r}" for k in ("quarter", "year") for r in
               ("first_place_award", "last_place_no_secretary_no_fine", "last_place_below_threshold_fine"))}
    missing = sorted(r for r in rules if r not in v.RULES)
    assert not missing, f"rule ids without a Chinese name: {missing}"


def test_every_state_has_a_chinese_name() -> None:
    from domain import meetings
    for kind, table in v.STATES.items():
        assert table, kind
    assert {"draft", "submitted", "approved"} <= set(v.PERIOD_STATES)
    assert {"recorded", "corrected", "voided"} <= set(v.ENTRY_STATES)
    assert {"open", "upheld", "rejected"} <= set(v.APPEAL_STATES)
    assert set(meetings.STATUS_NAMES) and all(re.search(r"[\u4e00-\u9fff]", s) for s in meetings.STATUS_NAMES.values())
    assert v.state_name("approved") == "已审批" and v.state_name(None, "mode") == "无书记"


def test_every_import_op_has_a_chinese_name() -> None:
    _import_all()
    ops = _registered_ops()
    assert len(ops) > 30, "no import ops found"
    missing = sorted(o for o in ops if o not in v.OPS)
    assert not missing, f"ops without a Chinese name: {missing}"


def _registered_ops() -> set[str]:
    from pydantic import BaseModel
    from typing import get_args
    out: set[str] = set()
    for cls in _subclasses(BaseModel):
        if not cls.__module__.startswith("domain."):
            continue
        f = cls.model_fields.get("op") if hasattr(cls, "model_fields") else None
        if f is not None:
            out.update(a for a in get_args(f.annotation) if isinstance(a, str))
    return out


def _all_values() -> Iterator[tuple[str, Any]]:
    for name in dir(v):
        table = getattr(v, name)
        if name.isupper() and hasattr(table, "items"):
            for key, value in table.items():
                if hasattr(value, "items"):
                    yield from ((f"{name}.{key}.{k}", x) for k, x in value.items())
                else:
                    yield f"{name}.{key}", value


def test_the_vocabulary_is_chinese() -> None:
    bad = [(k, x) for k, x in _all_values() if english(x) or not re.search(r"[\u4e00-\u9fff-]", x)]
    assert not bad, f"names that are not Chinese: {bad}"


def test_pydantic_errors_read_in_chinese() -> None:
    assert v.input_reason("uuid_parsing") == "应为有效的编号（UUID）"
    assert v.input_reason("nothing_known") == "取值无效"
    assert v.field_name(("rows", 2, "branch")) == "rows 第 3 项 支部"
    assert v.field_name(None) == "请求内容"


@pytest.mark.parametrize("text,found", [("状态为 approved", False), ("Input should be a valid UUID", True),
                                        ("verifier key is not an Ed25519 key", True), ("支部 B01", False)])
def test_the_english_detector(text: str, found: bool) -> None:
    assert bool(english(text)) is found


@pytest.mark.parametrize("text", ["\ufeff{\"op\": \"register_branch\"}", "{bad json", "{\"a\": 1} 2", "[1,", "{\"a\" 1}",
                                  "{\"a\": \"x", "{\"a\": 1}\n{", "[" * 100000])
def test_malformed_json_and_a_bom_are_refused_in_chinese(text: str) -> None:
    from adapters.json_input import decode_text
    from domain.errors import InvalidInput
    with pytest.raises(InvalidInput) as refused:
        decode_text(text)
    assert CHINESE.search(refused.value.reason) and not english(refused.value.reason), refused.value.reason


@pytest.mark.parametrize("line", [
    {"op": "decide_appeal", "appeal_id": "zz", "decision": "upheld", "actor": "a", "reason": "r"},
    {"op": "decide_appeal", "appeal_id": "6f1c2b0e-0000-0000-0000-000000000000", "decision": "maybe",
     "actor": "a", "reason": "r"},
    {"op": "register_branch", "code": ["x"], "name": 5, "actor": "a"},
    {"op": "set_members", "branch": "B01", "members": "many", "actor": "a", "from_month": "July"},
])
def test_pydantic_validation_errors_name_the_field_in_chinese(line: dict[str, Any]) -> None:
    from domain.commands import parse_command
    from domain.errors import InvalidInput
    with pytest.raises(InvalidInput) as refused:
        parse_command(line)
    assert refused.value.field and CHINESE.search(refused.value.reason), refused.value
    assert not english(refused.value.reason), refused.value.reason


@pytest.mark.parametrize("vkey", ["nothing", "a+b+c", "name+00000000+AAAA", "x+12345678+" + "A" * 44])
def test_key_and_note_errors_are_chinese(vkey: str) -> None:
    from adapters.note import NoteError, parse_verifier_key
    with pytest.raises(NoteError) as refused:
        parse_verifier_key(vkey)
    assert CHINESE.search(str(refused.value)) and not english(str(refused.value)), str(refused.value)
