"""Careless and lookalike input (issue 14, item 10; issue 19, item 5), on SQLite and PostgreSQL.

- A period that starts more than one month after today (Beijing; the clock is
  ``domain.commands.TODAY``, replaced here) is refused, naming the field: months, quarters,
  half-years, years; a rulebook may be adopted up to twelve months ahead.
- An import of nothing (an empty file, only blank lines, an empty JSON array) says so and fails.
- An entry that its category's cap (or the month's bonus cap) will not count in full is
  accepted with a warning saying how much counts: CLI text and JSON, import, HTTP.
- Numbers are ASCII digits with one optional sign and one point, nothing around them; codes
  and ids are 1–32 of ``[A-Za-z0-9_-]``; a non-text value for a text field is "应为文本".
"""
from __future__ import annotations

import json
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from adapters.cli.main import main as cli_main
from domain import commands as c
from domain.errors import InvalidInput
from domain.service.application import Ledger
from tests.helpers import company, events, model_of, month

SCORE = {"branch": "A", "category": "political", "reason": "理由", "department": "party_mass", "actor": "考核员"}


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the clock of the period checks: ``today(date(2019, 7, 15))``."""
    def set_to(day: date) -> None:
        monkeypatch.setattr(c, "TODAY", lambda: day)
    yield set_to


def refused(app: Ledger, op: str, **fields: Any) -> InvalidInput:
    before = len(events(app))
    with pytest.raises(InvalidInput) as e:
        app.command(op, **fields)
    assert len(events(app)) == before
    return e.value


def cli(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli_main, list(args), env={"LEDGER_DATABASE_URL": db_url})



# -- periods in the future ----------------------------------------------------------------------
def test_periods_more_than_a_month_ahead_are_refused_naming_the_field(app: Ledger, today: Any) -> None:
    company(app, ("A", "full_time", None))
    today(date(2019, 7, 15))
    assert app.record_score(**SCORE, period="2019-08", points="-1")  # next month: allowed
    e = refused(app, "record_score", **SCORE, period="2019-09", points="-1")
    assert e.field == "period" and "2019-09" in e.reason and "2019-08" in e.reason and "尚未到来" in e.reason
    e = refused(app, "register_branch", code="B", name="B支部", members=5, **{"from": "2020-01"}, actor="r")
    assert e.field == "from"
    assert refused(app, "approve_quarter", period="2019Q4", actor="a").field == "period"  # starts 2019-10
    assert refused(app, "record_unit_performance", branch="A", year="2020", score="90", actor="a").field == "year"
    assert refused(app, "publish_dues", branch="A", half="2020H1", actor="a").field == "half"
    assert refused(app, "record_member_points", branch="A", person="P1", month="2019-10", points="1",
                   reason="r", actor="a").field == "month"
    assert app.command("record_unit_performance", branch="A", year="2019", score="90", actor="a")
    # a rulebook may be adopted a year ahead, not more
    assert refused(app, "adopt_rulebook", version=2, parameters={}, actor="a", **{"from": "2020-10"}).field == "from"
    assert app.adopt_rulebook(version=2, parameters={}, actor="a", **{"from": "2020-07"}) == 2
    # at a year's end, January and the next year are allowed, February is not
    today(date(2019, 12, 31))
    assert app.record_score(**SCORE, period="2020-01", points="-1")
    assert app.command("record_debriefing", branch="A", year="2020", score="90", actor="a")
    assert refused(app, "record_score", **SCORE, period="2020-02", points="-1").field == "period"


def test_the_cli_refuses_score_for_2099(app: Ledger, db_url: str) -> None:
    company(app, ("A", "full_time", None))
    before = len(events(app))
    done = cli(db_url, "score", "--branch", "A", "--period", "2099-01", "--category", "political", "--points", "-1",
               "--reason", "r", "--department", "party_mass", "--actor", "u")
    assert done.exit_code == 1 and "字段 period" in done.output and "2099-01 尚未到来" in done.output, done.output
    assert len(events(app)) == before


# -- an import of nothing -------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"\n\n  \n\r\n"], ids=["empty", "blank_lines"])
def test_an_import_of_nothing_fails_and_says_so(app: Ledger, db_url: str, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "nothing.jsonl"
    path.write_bytes(content)
    before = len(events(app))
    done = cli(db_url, "import", str(path))
    assert done.exit_code == 1 and "导入内容为空" in done.output and "导入完成" not in done.output, done.output
    done = cli(db_url, "import", str(path), "--json")
    assert done.exit_code == 1 and "导入内容为空" in json.loads(done.stdout)["errors"][0]["reason"]
    with pytest.raises(InvalidInput, match="导入内容为空"):
        app.import_batch([])
    assert len(events(app)) == before


# -- entries beyond a cap ---------------------------------------------------------------------------
def test_an_entry_beyond_its_cap_is_accepted_with_how_much_counts(app: Ledger, db_url: str, tmp_path: Path) -> None:
    company(app, ("A", "full_time", None))
    first = app.record_score(**SCORE, period="2019-07", points="-12", key="cap/1")  # political: cap 15
    _, noted = app.execute_noting(c.parse_command({"op": "record_score", **SCORE, "period": "2019-07", "points": "-5"}))
    assert [(w["field"], w["points"], w["counted"], w["cap"], w["used_before"]) for w in noted] == [
        ("points", "-5.00", "-3.00", "15.00", "12.00")]
    assert "只计入 -3.00" in noted[0]["message"] and "上限 15" in noted[0]["message"]
    # the CLI: text and JSON; a third deduction no longer counts at all
    args = ["score", "--branch", "A", "--period", "2019-07", "--category", "political", "--reason", "r",
            "--department", "party_mass", "--actor", "u"]
    done = cli(db_url, *args, "--points", "-2")
    assert done.exit_code == 0 and "已录入" in done.output and "计入 0.00" in done.output, done.output
    done = cli(db_url, *args, "--points", "-1", "--json")
    assert done.exit_code == 0, done.output
    assert [w["counted"] for w in json.loads(done.stdout)["warnings"]] == ["0.00"]
    assert month(app, "2019-07")["A"]["score"] == "85.00"  # 100 − 15: the cap, as warned
    # within the cap: no warning; a void gives room back
    assert app.execute_noting(c.parse_command({"op": "record_score", **SCORE, "period": "2019-08",
                                               "points": "-3"}))[1] == []
    app.void_entry(entry_id=str(first), reason="重复", actor="考核员")
    assert app.execute_noting(c.parse_command({"op": "record_score", **SCORE, "period": "2019-07",
                                               "points": "-4"}))[1] == []  # −5 −2 −1 so far: 8 of 15
    # the bonus cap (5 a month), in an import: the warning names its line
    path = tmp_path / "bonus.jsonl"
    path.write_text("\n".join(json.dumps({"op": "record_score", **SCORE, "category": "bonus", "period": "2019-09",
                                          "points": p}) for p in ("4", "3")) + "\n", encoding="utf-8")
    done = cli(db_url, "import", str(path), "--json")
    assert done.exit_code == 0, done.output
    assert [(w["line"], w["counted"]) for w in json.loads(done.stdout)["warnings"]] == [(2, "1.00")]
    path.write_text(json.dumps({"op": "record_score", **SCORE, "category": "bonus", "period": "2019-09",
                                "points": "2"}) + "\n", encoding="utf-8")
    done = cli(db_url, "import", str(path))
    assert done.exit_code == 0 and "注意：第 1 行" in done.output and "本月特色加分上限 5" in done.output, done.output


def test_the_cap_warning_agrees_with_the_explanation(app: Ledger) -> None:
    from adapters.bootstrap import engine_of
    from adapters.exports.explanations import explain_month_at
    company(app, ("A", "full_time", None))
    counted = []
    for points in ("-6", "-7", "-4", "-3"):  # conduct: cap 10
        _, noted = app.execute_noting(c.parse_command(
            {"op": "record_score", **SCORE, "category": "conduct", "department": "discipline_inspection",
             "period": "2019-07", "points": points}))
        counted.append(noted[0]["counted"] if noted else f"{Decimal(points):.2f}")
    explained = explain_month_at(engine_of(app), model_of(app), "2019-07", "A")
    assert [e["counted_points"] for e in explained["entries"]] == counted == ["-6.00", "-4.00", "0.00", "0.00"]


def test_the_http_api_returns_the_cap_warning(app: Ledger, db_url: str) -> None:
    from adapters.http.app import create_app
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    company(app, ("A", "full_time", None))
    issued = app.command("issue_token", as_user="admin", user="migration", actor="admin")
    headers = {"Authorization": f"Bearer {issued['token']}"}
    web = create_app(db_url)
    try:
        http = TestClient(web, base_url="http://127.0.0.1")
        body = {**SCORE, "period": "2019-07", "points": "-10"}
        first = http.post("/commands/record_score", json=body, headers=headers)
        assert first.status_code == 201 and first.json()["warnings"] == [], first.text
        second = http.post("/commands/record_score", json=body, headers=headers)
        assert second.status_code == 201, second.text
        assert [(w["field"], w["counted"]) for w in second.json()["warnings"]] == [("points", "-5.00")]
        batch = http.post("/import", content=json.dumps({"op": "record_score", **body}).encode(), headers=headers)
        assert batch.status_code == 201 and [(w["line"], w["counted"]) for w in batch.json()["warnings"]] == [
            (1, "0.00")], batch.text
        for nothing in (b"", b"\n \n", b"[]"):
            empty = http.post("/import", content=nothing, headers=headers)
            assert empty.status_code == 422 and "导入内容为空" in empty.text, empty.text
    finally:
        web.state.service.close()


# -- lookalikes ---------------------------------------------------------------------------------------
def test_lookalike_codes_do_not_register_second_branches(app: Ledger) -> None:
    app.register_branch(code="H1", name="H1支部", members=5, actor="r")
    for code in ("H1 ", " H1", "Ｈ1", "H\n1", "H1\n", "\u202eH1", "H\u200b1", "H1\u00a0", "H.1", "H/1", "", "X" * 33):
        e = refused(app, "register_branch", code=code, name="仿冒", members=5, actor="r")
        assert e.field == "code", code
        assert ("ASCII" in e.reason) if code else (e.reason == "不能为空"), (code, e.reason)
    e = refused(app, "record_score", **{**SCORE, "branch": "H1 "}, period="2019-07", points="-1")
    assert e.field == "branch" and "ASCII" in e.reason
    # what the demo and the tests use still passes
    for code in ("REPAIR", "ADMIN1", "a_b-C9", "X" * 32):
        app.register_branch(code=code, name=f"{code}支部", members=5, actor="r")
    app.command("enrol_member", person="REPAIR-M10", name="张三", branch="REPAIR", group="REPAIR-G1",
                **{"class": "B", "from": "2019-01"}, actor="登记员")
    assert refused(app, "enrol_member", person="REPAIR-M10 ", name="张三", branch="REPAIR", group="REPAIR-G1",
                   **{"class": "B", "from": "2019-01"}, actor="登记员").field == "person"


@pytest.mark.parametrize("points", ["\u00a0-1", " -1 ", "-1 ", "\t-1", "- 1", "-1e0", "1E2", "--1", "+-1", "-1.2.3",
                                    "-１", "٣"])
def test_lookalike_numbers_are_refused(points: str) -> None:
    with pytest.raises(InvalidInput) as e:
        c.parse_command({"op": "record_score", **SCORE, "period": "2019-07", "points": points})
    assert e.value.field == "points" and "不是有效的数值" in e.value.reason, e.value.reason


def test_numbers_in_the_plain_form_are_read_exactly() -> None:
    for text, value in (("-1", "-1.00"), ("+2", "2.00"), ("-0.5", "-0.50"), ("-.5", "-0.50"), ("3.", "3.00")):
        command = c.parse_command({"op": "record_score", **SCORE, "period": "2019-07", "points": text})
        assert str(command.points) == value  # type: ignore[attr-defined]
    command = c.parse_command({"op": "record_score", **SCORE, "period": "2019-07", "points": Decimal("-1E+0")})
    assert command.points == Decimal(-1)  # type: ignore[attr-defined]  # a JSON number is a number


@pytest.mark.parametrize("value, kind", [({"text": "理由"}, " JSON 对象"), (["理由"], "列表"), (3, "数值"), (True, "布尔值")])
def test_a_text_field_given_another_type_says_so(value: Any, kind: str) -> None:
    for field in ("reason", "actor", "branch"):
        with pytest.raises(InvalidInput) as e:
            c.parse_command({"op": "record_score", **SCORE, "period": "2019-07", "points": "-1", field: value})
        assert e.value.field == field and e.value.reason == f"应为文本，收到{kind}", e.value.reason
