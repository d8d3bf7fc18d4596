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
from tests.helpers import events


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
    assert v.event_name("domain.members.dues:DuesAccount.BaseSet") == "核定党费基数"
    assert v.event_name("Nobody.Knows") == "其他事件"


def test_every_event_field_has_a_chinese_name() -> None:
    from eventsourcing.domain import Aggregate
    _import_all()
    fields = {"by"} | {f.name for e in _subclasses(Aggregate.Event) if e.__module__.startswith("domain.")
                       and dataclasses.is_dataclass(e) for f in dataclasses.fields(e)}
    assert len(fields) > 50
    missing = sorted(f for f in fields if f not in v.EVENT_FIELDS)
    assert not missing, f"event fields without a Chinese name: {missing}"


def test_every_refusal_class_has_a_chinese_name() -> None:
    from domain.errors import LedgerError
    _import_all()
    names = {"LedgerError", *(c.__name__ for c in _subclasses(LedgerError))}
    missing = sorted(n for n in names if n not in v.REFUSALS)
    assert not missing, f"refusal classes without a Chinese name: {missing}"


def test_every_rulebook_parameter_has_a_chinese_name() -> None:
    from domain.assessment.rulebook import Rulebook
    missing = [f.name for f in dataclasses.fields(Rulebook) if f.name not in v.PARAMETERS]
    assert not missing, f"rulebook parameters without a Chinese name: {missing}"


def test_every_role_department_category_and_rule_has_a_chinese_name() -> None:
    from domain.access import users as access
    from domain.assessment import annual, scoring
    from domain.assessment.rulebook import CATEGORY_NAMES, DEPARTMENT_NAMES, Rulebook
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
    from domain.members import meetings
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
    from typing import get_args

    from pydantic import BaseModel
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
                elif isinstance(value, str):
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
    from domain.integrity.note import NoteError, parse_verifier_key
    with pytest.raises(NoteError) as refused:
        parse_verifier_key(vkey)
    assert CHINESE.search(str(refused.value)) and not english(str(refused.value)), str(refused.value)


# -- every web page, as people see it ----------------------------------------------------------

PERIODS = {"month": "2019-09", "quarter": "2019Q3", "year": "2019"}


def visible_text(html: str) -> str:
    """The text of a page as people read it: no scripts, styles, tags; codes (``<code>``,
    ``<pre>``: ids, hashes, stored JSON, signed notes) left out."""
    html = re.sub(r"(?is)<(script|style|pre|code)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"&[a-z]+;|&#\d+;", " ", html)


def web_urls(app: Any, positions: list[int]) -> list[str]:
    """Every GET page under /web/ with its path filled in (every kind, every event)."""
    from fastapi.routing import APIRoute

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):
                yield from walk(r.original_router.routes)
    urls: list[str] = []
    for route in walk(app.router.routes):
        path = route.path
        if "GET" not in route.methods or not path.startswith("/web") or path.endswith(".xlsx") \
                or "/export/" in path or path.endswith("/attachment") or path == "/web/login":  # downloads
            continue
        if "{position}" in path:
            urls += [path.replace("{position}", str(p)) for p in positions]
        elif "{kind}" in path:
            urls += [path.replace("{kind}", k).replace("{period}", p) + ("?branch=A" if "explain" in path else "")
                     for k, p in PERIODS.items()]
        elif "{period}" in path:
            kind = path.split("/")[2]
            urls.append(path.replace("{period}", PERIODS[kind]))
        else:
            urls.append(path.replace("{code}", "A"))
    return urls


def test_every_web_page_reads_in_chinese(site: Any) -> None:
    """Every GET page, as the committee, the auditor (who may read every event), a branch
    secretary and a scorer (some pages refused: a Chinese 403 page): Chinese HTML, no
    English phrase, no internal names, no raw stored form outside its details box."""
    # one event of each type the fixture holds (every position would be slow and say no more)
    firsts = {e.topic: e.position for e in reversed(events(site.ledger))}
    bad: list[tuple[str, int, str]] = []
    for user in ("committee", "auditor", "sec-a", "scorer-pm"):
        client = site.client(user)
        urls = web_urls(site.web, sorted(firsts.values()) if user == "auditor" else [1])
        assert len(urls) > 15
        for url in urls:
            response = client.get(url)
            body = visible_text(response.text)
            outside_details = re.sub(r"(?is)<details\b.*?</details>", " ", response.text)
            found = re.findall(r"_type_|_data_", outside_details) + re.findall(r"\b1\d{15}\b", body)
            found += english(body) + re.findall(r"\b[A-Z][a-z]+[A-Z]\w*\.[A-Z]\w+\b|\b(?:[A-Z][a-z]{2,}){2,}\b"
                                               r"|_type_|_data_|recorded_at_us", body)
            allowed = (200,) if user in ("committee", "auditor") else (200, 403)  # others: a Chinese 403 page
            if url.startswith("/web/admin") and user != "auditor":
                allowed = (403,)  # users and roles: the admin and the auditor only
            if response.status_code not in allowed or "text/html" not in response.headers["content-type"] or found:
                near = body[max(0, body.find(found[0]) - 80):body.find(found[0]) + 80] if found else ""
                bad.append((url, response.status_code, str(found[:5]) + near))
    assert not bad, f"pages not in Chinese: {bad}"


@pytest.mark.parametrize("url", ["/web/nowhere", "/web/event/99999999", "/web/event/abc", "/web/month/notamonth",
                                 "/web/explain/decade/2019?branch=A", "/web/branch/B"])
def test_web_errors_are_chinese_pages(site: Any, url: str) -> None:
    response = site.client("sec-a").get(url)
    assert response.status_code in (400, 403, 404, 422), (url, response.status_code)
    assert "text/html" in response.headers["content-type"], (url, response.text[:200])
    body = visible_text(response.text)
    assert CHINESE.search(body) and not english(body), (url, english(body))
    assert not re.search(r"\b(?:[A-Z][a-z]{2,}){2,}\b", body), (url, body)


def test_the_api_keeps_json_errors_with_a_chinese_reason(site: Any) -> None:
    client = site.client(None)
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/json")
    assert CHINESE.search(response.json()["reason"]) and response.json()["detail"].startswith("找不到："), response.json()
    token = site.ledger.command("issue_token", as_user="admin", user="auditor", actor="admin")
    response = client.get("/checkpoints/abc", headers={"Authorization": f"Bearer {token['token']}"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["field"] == "number" and CHINESE.search(body["reason"]) and not english(body["reason"]), body


def test_state_refusals_name_the_state_in_chinese(app: Any) -> None:
    from domain.errors import MonthStateConflict
    app.command("register_branch", code="A", name="一支部", members=10, actor="登记员")
    with pytest.raises(MonthStateConflict) as refused:
        app.command("approve_month", period="2019-07", actor="书记")
    assert "草稿" in refused.value.reason and "draft" not in refused.value.reason, refused.value.reason


@pytest.mark.parametrize("args", [["history"], ["history", "--branch", "A", "--colour", "red"], ["nosuch"],
                                  ["import", "/no/such/file.jsonl"], ["meeting", "record", "--kind", "party"],
                                  ["score", "--help"], ["--help"]])
def test_click_usage_errors_and_help_are_chinese(args: list[str]) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import main
    result = CliRunner().invoke(main, args, prog_name="ledger")
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert CHINESE.search(output), output
    prose = re.sub(r"\[OPTIONS\]|COMMAND \[ARGS\]\.\.\.|ledger(?: [a-z][a-z-]*)*|^  [a-z][a-z-]* ", "",
                   output, flags=re.M)  # command names are codes
    assert not english(prose), (english(prose), output)


def test_cli_texts_name_things_in_chinese(db_url: str, tmp_path: Any) -> None:
    """``rulebook show``, ``history`` and a refused command read in Chinese: parameters,
    events and fields by name (codes only in parentheses), no class names."""
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    from adapters.integrity import verify
    from tests.helpers import cli_users
    runner = CliRunner()
    env = cli_users(runner, {"LEDGER_DATABASE_URL": db_url})
    lines = tmp_path / "a.jsonl"
    lines.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"op": "register_branch", "code": "A", "name": "一支部", "members": 10, "actor": "登记员"},
        {"op": "record_score", "branch": "A", "period": "2019-07", "category": "bonus", "points": "1",
         "reason": "表彰", "department": "party_mass", "actor": "考核员"}]) + "\n", encoding="utf-8")
    assert runner.invoke(main, ["import", str(lines)], env=env).exit_code == 0
    for args in (["rulebook", "show"], ["history", "--branch", "A"]):
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        prose = re.sub(r"（[A-Za-z_]+）", "", result.output)
        assert not english(prose), (args, english(prose))
        assert not re.search(r"\b[a-z]+_[a-z_]+\b|\b[A-Z][a-z]+[A-Z]\w*\.\w+|\bbonus\b", prose), (args, prose)
    assert "月度加分上限（bonus_cap）：5" in runner.invoke(main, ["rulebook", "show"], env=env).output
    history = runner.invoke(main, ["history", "--branch", "A"], env=env).output
    assert "登记支部" in history and "类别：特色加分项（bonus）" in history, history
    refused = runner.invoke(main, ["--as", "admin", "branch", "members", "A", "12", "--from", "2019-08",
                                   "--actor", "x"], env=env)
    assert refused.exit_code != 0 and "登记员" in refused.output and "set_members" not in refused.output, refused.output
    used = set(re.findall(r'problem\("([a-z_]+)"', open(verify.__file__, encoding="utf-8").read()))
    assert used and used <= set(verify.PROBLEM_NAMES), used - set(verify.PROBLEM_NAMES)


def test_every_web_export_reads_in_chinese(site: Any) -> None:
    """The Excel files the web offers (month, quarter, year, history, explanations): no
    English phrase and no internal event name in any text cell."""
    import io

    from openpyxl import load_workbook
    client = site.client("committee")
    urls = [f"/web/export/{k}/{p}.xlsx" for k, p in PERIODS.items()] + ["/web/export/history.xlsx?branch=A"]
    urls += [f"/web/explain/{k}/{PERIODS[k]}.xlsx?branch=A" for k in ("month", "quarter")]
    bad: list[tuple[str, str]] = []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or not response.content.startswith(b"PK"):
            bad.append((url, f"{response.status_code} {response.text[:100]}"))
            continue
        for sheet in load_workbook(io.BytesIO(response.content)).worksheets:
            header = [str(c or "") for c in next(sheet.iter_rows(min_row=4, max_row=4, values_only=True), ())]
            for row in sheet.iter_rows(values_only=True):
                for i, cell in enumerate(row):
                    if i < len(header) and ("代码" in header[i] or "原文" in header[i]):
                        continue  # a column of codes or of the stored form, so named
                    if isinstance(cell, str) and (english(cell) or re.search(r"_type_|\b(?:[A-Z][a-z]+){2,}\.\w+", cell)):
                        bad.append((url, cell))
    assert not bad, f"export cells not in Chinese: {bad[:10]}"


@pytest.mark.parametrize("changes", [{"annual_weight_unit": "0.5"}, {"dual_formula": "sum"}, {"bonus_cap": "1.234"},
                                     {"no_such_parameter": 1}, {"points_per_grade": 0},
                                     {"meeting_frequency": {"theme_day": 5}}, {"dues_rates": {"salaried": []}}])
def test_rulebook_refusals_are_chinese(app: Any, changes: dict[str, Any]) -> None:
    from domain.errors import LedgerError
    with pytest.raises(LedgerError) as refused:
        app.command("adopt_rulebook", version=2, parameters=changes, actor="党委会", **{"from": "2019-07"})
    assert refused.value.field == "parameters", refused.value
    assert CHINESE.search(refused.value.reason) and not english(refused.value.reason), refused.value.reason


def test_an_unexpected_failure_is_a_chinese_500_page(site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from adapters.web import results as web_results
    from tests.web_fixture import login

    def broken(payload: Any) -> Any:
        raise RuntimeError("a defect")
    monkeypatch.setattr(web_results, "event_rows", broken)
    client = TestClient(site.web, base_url="http://127.0.0.1", raise_server_exceptions=False)
    assert login(client, "auditor").status_code == 303
    page = client.get("/web/event/1")
    assert page.status_code == 500 and "text/html" in page.headers["content-type"], page.text[:200]
    body = visible_text(page.text)
    assert "服务器内部错误" in body and not english(body) and "RuntimeError" not in body, body
