"""Batch import: all or nothing, idempotent by key, errors naming line and field."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli.main import main
from tests.helpers import cli_users, events

BASE = [
    {"op": "register_branch", "key": "b/A", "code": "A", "name": "甲支部", "members": 20},
    {"op": "register_branch", "key": "b/B", "code": "B", "name": "乙支部", "members": 15, "from": "2019-07"},
    {"op": "appoint_secretary", "key": "s/A", "branch": "A", "name": "张三", "mode": "full_time", "from": "2019-01"},
    {"op": "appoint_secretary", "key": "s/B", "branch": "B", "name": "李四", "mode": "part_time",
     "allowance": 800, "from": "2019-07"},
    {"op": "record_score", "key": "e/1", "branch": "A", "period": "2019-07", "category": "political",
     "points": -2.5, "reason": "学习缺课", "department": "party_mass", "actor": "u"},
    {"op": "record_score", "key": "e/2", "branch": "B", "period": "2019-07", "category": "conduct",
     "points": "-1", "reason": "脱岗", "department": "discipline_inspection", "actor": "u"},
    {"op": "set_members", "branch": "A", "members": 22, "from": "2019-08", "actor": "r"},
]


def write(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
                              for line in lines) + "\n", encoding="utf-8")
    return path


def run(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env={"LEDGER_DATABASE_URL": url, "LEDGER_USER": "migration"})
    return result


@pytest.fixture
def ledger_url(db_url: str) -> str:
    cli_users(CliRunner(), {"LEDGER_DATABASE_URL": db_url})
    return db_url


def test_import_twice_appends_nothing_the_second_time(ledger_url: str, tmp_path: Path, make_app) -> None:
    keyed = [line for line in BASE if "key" in line]
    f = write(tmp_path / "a.jsonl", keyed)
    first = run(ledger_url, "import", str(f), "--json")
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert (out["appended"], out["skipped"]) == (len(keyed), 0)
    assert set(out["ids"]) == {"e/1", "e/2"}
    n = len(events(make_app()))
    second = json.loads(run(ledger_url, "import", str(f), "--json").output)
    assert (second["appended"], second["skipped"]) == (0, len(keyed))
    assert second["ids"] == out["ids"]
    assert len(events(make_app())) == n
    entries = json.loads(run(ledger_url, "entries", "--period", "2019-07", "--json").output)["entries"]
    assert {e["key"]: e["entry_id"] for e in entries} == out["ids"]
    assert {e["points"] for e in entries} == {"-2.50", "-1.00"}


def test_numbers_and_strings_are_the_same_content(ledger_url: str, tmp_path: Path) -> None:
    assert run(ledger_url, "import", str(write(tmp_path / "a.jsonl", BASE[:5]))).exit_code == 0
    same = dict(BASE[4], points="-2.50")
    assert run(ledger_url, "import", str(write(tmp_path / "b.jsonl", [same]))).exit_code == 0


def test_same_key_other_content_is_refused(ledger_url: str, tmp_path: Path) -> None:
    assert run(ledger_url, "import", str(write(tmp_path / "a.jsonl", BASE))).exit_code == 0
    changed = dict(BASE[4], points="-3")
    r = run(ledger_url, "import", str(write(tmp_path / "b.jsonl", [changed])), "--json")
    assert r.exit_code != 0
    [error] = json.loads(r.output)["errors"]
    assert (error["line"], error["field"]) == (1, "key") and "内容不同" in error["reason"]


BAD_LINES = {  # mutation → (line, field that must be named)
    "unknown_op": ({"op": "delete_everything"}, "op"),
    "unknown_field": (dict(BASE[4], key="x1", colour="red"), "colour"),
    "unknown_branch": (dict(BASE[4], key="x2", branch="NOPE"), "branch"),
    "wrong_department": (dict(BASE[4], key="x3", department="office"), "department"),
    "positive_deduction": (dict(BASE[4], key="x4", points="2"), "points"),
    "three_decimals": (dict(BASE[4], key="x5", points="-1.005"), "points"),
    "float_like_exponent": (dict(BASE[4], key="x6", points="-1e-3"), "points"),
    "zero_points": (dict(BASE[4], key="x7", points=0), "points"),
    "missing_reason": ({k: v for k, v in BASE[4].items() if k != "reason"} | {"key": "x8"}, "reason"),
    "bad_month": (dict(BASE[4], key="x9", period="2019-7"), "period"),
    "before_branch_from": (dict(BASE[5], key="x10", period="2019-06"), "period"),
    "members_not_int": (dict(BASE[0], key="x11", code="C", members="many"), "members"),
    "duplicate_key_in_file": (dict(BASE[5], key="e/1"), "key"),
    "not_json": ("{not json", None),
    "nan": ('{"op": "record_score", "points": NaN}', None),
}


@pytest.mark.parametrize("mutation", sorted(BAD_LINES))
def test_an_invalid_line_writes_nothing(mutation: str, ledger_url: str, tmp_path: Path, make_app) -> None:
    bad, field = BAD_LINES[mutation]
    before = len(events(make_app()))
    f = write(tmp_path / "bad.jsonl", [*BASE, bad])
    r = run(ledger_url, "import", str(f), "--json")
    assert r.exit_code != 0, r.output
    errors = json.loads(r.output)["errors"]
    assert errors[0]["line"] == len(BASE) + 1, errors
    assert errors[0]["field"] == field, errors
    assert errors[0]["reason"]
    assert len(events(make_app())) == before


def test_sealed_month_line_refuses_the_whole_file(ledger_url: str, tmp_path: Path, make_app) -> None:
    lines = [*BASE, {"op": "submit_month", "period": "2019-07", "actor": "agg"},
             {"op": "approve_month", "period": "2019-07", "actor": "appr"}]
    assert run(ledger_url, "import", str(write(tmp_path / "a.jsonl", lines))).exit_code == 0
    before = len(events(make_app()))
    late = [BASE[0] | {"key": "b/C", "code": "C"}, dict(BASE[4], key="late")]
    r = run(ledger_url, "import", str(write(tmp_path / "b.jsonl", late)))
    assert r.exit_code != 0 and "第 2 行" in r.output and "period" in r.output
    assert len(events(make_app())) == before


def test_cli_contracts(ledger_url: str, tmp_path: Path) -> None:
    lines = [*BASE] + [x for m in ("2019-07", "2019-08", "2019-09") for x in (
        {"op": "submit_month", "period": m, "actor": "agg"}, {"op": "approve_month", "period": m, "actor": "appr"})]
    lines.append({"op": "approve_quarter", "period": "2019Q3", "actor": "appr"})
    assert run(ledger_url, "import", str(write(tmp_path / "a.jsonl", lines))).exit_code == 0
    m = json.loads(run(ledger_url, "month", "show", "2019-07", "--json").output)
    assert m["period"] == "2019-07" and m["status"] == "approved"
    assert m["branches"][0] == m["branches"][0] | {"branch": "A", "score": "97.50", "mode": "full_time",
                                                   "coefficient": "0.9750", "allowance": None}
    assert m["branches"][1] | {} == m["branches"][1] | {"branch": "B", "score": "99.00", "allowance": "792.00",
                                                        "coefficient": None}
    q = json.loads(run(ledger_url, "quarter", "show", "2019Q3", "--json").output)
    assert q["status"] == "approved"
    assert [(b["branch"], b["rank"], b["award"], b["fine"]) for b in q["branches"]] == [
        ("B", 1, "3000.00", "0.00"), ("A", 2, "0.00", "0.00")]  # B's from = the quarter's start
    e = json.loads(run(ledger_url, "entries", "--period", "2019-07", "--branch", "A", "--json").output)
    assert set(e["entries"][0]) >= {"entry_id", "key", "position", "branch", "period", "category", "points",
                                    "department", "actor", "reason", "recorded_at"}
    text = run(ledger_url, "quarter", "show", "2019Q3")
    assert text.exit_code == 0 and "季度评比" in text.output
    assert run(ledger_url, "month", "show", "2019-7").exit_code != 0
