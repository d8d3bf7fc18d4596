"""Excel formula injection (issue 14, item 5): text from the ledger — reasons from a scorer, a
secretary's appeal, a decision, a void; names of branches, secretaries and people — is written
as text in every export (month, quarter, year, history, explanations, dues statement; CLI and
web). Each workbook is reopened with openpyxl: no cell is a formula, no ``<f>`` element is in
the file, the hostile text is there as typed, and numbers (negative ones too) stay numbers."""
from __future__ import annotations

import io
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from adapters.cli.main import main as cli
from domain.service.application import Ledger
from tests.web_fixture import prepare

HOSTILE = {
    "entry": '=HYPERLINK("http://x/","点此")',
    "appeal": "+1+1 申诉：扣分不当",
    "decision": "-2+3 经复核成立",
    "void": "@SUM(1+1) 重复录入",
    "branch": "=1+2车间党支部",
    "secretary": "@王某",
    "person": "=cmd|' /C calc'!A0",
    "tab": "\t=1+1",
}


def _formula_free(raw: bytes) -> list[Any]:
    """Every cell value of every sheet of the workbook ``raw``, after checking none is a formula."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    values = []
    for ws in load_workbook(io.BytesIO(raw)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                    assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def _shows(values: list[Any], *texts: str) -> None:
    cells = [v for v in values if isinstance(v, str)]
    for text in texts:
        assert any(text in v for v in cells), (text, cells)


@pytest.fixture
def hostile(app: Ledger) -> dict[str, str]:
    """The web fixture's ledger, plus: a branch and a secretary with formula-like names; an
    entry, a void, an appeal and its decision whose reasons are formulas."""
    ids = prepare(app)
    app.register_branch(code="D", name=HOSTILE["branch"], members=20, from_month="2019-10", actor="登记员")
    app.appoint_secretary(branch="C", name=HOSTILE["secretary"], mode="full_time", from_month="2019-10", actor="登记员")
    app.record_score(branch="A", period="2019-10", category="political", points="-2", reason=HOSTILE["entry"],
                     department="party_mass", actor="考核员", key="inj/entry")
    app.record_score(branch="A", period="2019-10", category="daily", points="-1", reason=HOSTILE["tab"],
                     department="office", actor="考核员", key="inj/void")
    app.void_entry(entry_key="inj/void", reason=HOSTILE["void"], actor="考核员")
    app.file_appeal(entry_id=ids["w/09/A"], branch="A", reason=HOSTILE["appeal"], actor="A书记", key="inj/appeal")
    app.decide_appeal(appeal_key="inj/appeal", decision="upheld", points="-3", reason=HOSTILE["decision"],
                      actor="公司党委会")
    return ids


def _cli(db_url: str, tmp_path: Path, *args: str) -> bytes:
    path = tmp_path / "out.xlsx"
    path.unlink(missing_ok=True)
    done = CliRunner().invoke(cli, [*args, "--xlsx", str(path)], env={"LEDGER_DATABASE_URL": db_url})
    assert done.exit_code == 0, done.output
    return path.read_bytes()


def test_every_cli_export_writes_ledger_text_as_text(hostile: dict[str, str], db_url: str, tmp_path: Path) -> None:
    month = _formula_free(_cli(db_url, tmp_path, "export", "month", "2019-10"))
    _shows(month, HOSTILE["branch"], HOSTILE["secretary"])
    assert Decimal(str(next(v for v in month if isinstance(v, (int, float)) and v == 98))) == 98  # A: 100 − 2
    quarter = _formula_free(_cli(db_url, tmp_path, "export", "quarter", "2019Q4"))
    _shows(quarter, HOSTILE["branch"], HOSTILE["secretary"])
    year = _formula_free(_cli(db_url, tmp_path, "export", "year", "2019"))
    _shows(year, HOSTILE["secretary"])  # C's December secretary
    history = _formula_free(_cli(db_url, tmp_path, "export", "history", "--branch", "A"))
    _shows(history, HOSTILE["entry"], HOSTILE["tab"], HOSTILE["void"], HOSTILE["appeal"], HOSTILE["decision"])
    assert -2 in history and -3 in history  # the points: negative numbers, not text
    explained = _formula_free(_cli(db_url, tmp_path, "explain", "month", "2019-10", "--branch", "A"))
    _shows(explained, HOSTILE["entry"], HOSTILE["tab"], HOSTILE["void"])
    assert -2 in explained
    explained = _formula_free(_cli(db_url, tmp_path, "explain", "month", "2019-09", "--branch", "A"))
    _shows(explained, HOSTILE["appeal"], HOSTILE["decision"])
    _formula_free(_cli(db_url, tmp_path, "explain", "quarter", "2019Q3", "--branch", "A"))


def test_the_dues_statement_writes_names_as_text(app: Ledger, db_url: str, tmp_path: Path) -> None:
    from adapters.exports.dues_sheet import read_xlsx
    app.register_branch(code="A", name=HOSTILE["branch"], members=20, actor="登记员")
    app.command("enrol_member", person="P1", name=HOSTILE["person"], branch="A", group="G1",
                **{"class": "B", "from": "2019-01"}, actor="登记员")
    app.command("set_dues_base", branch="A", person="P1", category="salaried", base="4000", actor="A书记",
                **{"from": "2019-01"})
    app.command("record_dues_payment", branch="A", person="P1", month="2019-01", amount="40", channel="payroll",
                paid_on="2019-01-25", actor="A书记")
    app.command("publish_dues", branch="A", half="2019H1", actor="A书记")
    raw = _cli(db_url, tmp_path, "dues", "statement", "2019H1", "--branch", "A", "--number", "1")
    values = _formula_free(raw)
    _shows(values, HOSTILE["person"], HOSTILE["branch"])
    bundle = read_xlsx(tmp_path / "out.xlsx")  # read back verbatim: the statement still verifies
    assert bundle["statement"]["rows"][0]["name"] == HOSTILE["person"]
    done = CliRunner().invoke(cli, ["dues", "verify", str(tmp_path / "out.xlsx")], env={"LEDGER_DATABASE_URL": db_url})
    assert done.exit_code == 0, done.output


def test_web_exports_write_ledger_text_as_text(hostile: dict[str, str], db_url: str) -> None:
    from adapters.http.app import create_app
    from tests.web_fixture import login
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    web = create_app(db_url)
    try:
        client = TestClient(web, base_url="http://127.0.0.1")
        assert login(client, "committee").status_code == 303
        for url, texts in (("/web/export/month/2019-10.xlsx", ("branch", "secretary")),
                           ("/web/export/quarter/2019Q4.xlsx", ("branch",)),
                           ("/web/export/year/2019.xlsx", ("secretary",)),
                           ("/web/export/history.xlsx?branch=A", ("entry", "void", "appeal", "decision")),
                           ("/web/explain/month/2019-10.xlsx?branch=A", ("entry", "void")),
                           ("/web/explain/quarter/2019Q3.xlsx?branch=A", ("appeal", "decision"))):
            response = client.get(url)
            assert response.status_code == 200, (url, response.text[:300])
            _shows(_formula_free(response.content), *(HOSTILE[t] for t in texts))
    finally:
        web.state.service.close()
