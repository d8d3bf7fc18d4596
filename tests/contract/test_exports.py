"""Excel exports (``ledger export … --xlsx``), re-opened with openpyxl and checked cell by cell —
values, types and number formats — on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from adapters.cli.main import main as cli
from domain.service.application import Ledger
from tests.web_fixture import prepare

SCORE, COEFFICIENT, MONEY, COUNT = "0.00", "0.0000", "#,##0.00", "0"


@pytest.fixture
def ledger(app: Ledger) -> Ledger:
    prepare(app)
    return app


def export(db_url: str, tmp_path: Path, *args: str) -> Worksheet:
    path = tmp_path / "out.xlsx"
    done = CliRunner().invoke(cli, ["export", *args, "--xlsx", str(path)], env={"LEDGER_DATABASE_URL": db_url})
    assert done.exit_code == 0, done.output
    assert "已导出" in done.output
    return load_workbook(path).active


def row(ws: Worksheet, r: int) -> list[Any]:
    return [c.value for c in ws[r]]


def formats(ws: Worksheet, r: int) -> list[str]:
    return [c.number_format for c in ws[r]]


def test_quarter_ranking(ledger: Ledger, db_url: str, tmp_path: Path) -> None:
    ws = export(db_url, tmp_path, "quarter", "2019Q3")
    assert ws.title == "季度排名" and ws["A1"].value == "2019Q3 季度评比排名"
    assert ws["A2"].value.startswith("状态：已审批；考核细则第 1 版；日志位置 ")
    assert row(ws, 3) == [None] * 12
    assert row(ws, 4) == ["名次", "支部代码", "支部名称", "7月得分", "8月得分", "9月得分", "季度得分", "奖励（元）",
                          "罚款（元）", "季末书记", "任职方式", "说明"]
    assert row(ws, 5) == [1, "C", "机修车间党支部", 100, 101, 100, 100.33, 3000, 0, "李建军", "专职", "季度第一名奖励"]
    assert row(ws, 6) == [2, "B", "电解车间党支部", 96.5, 100, 100, 98.83, 0, 0, "陈志强", "兼职", None]
    assert row(ws, 7) == [3, "A", "熔炼车间党支部", 98, 99, 95, 97.33, 0, 2000, "周建国", "专职", "季度末位且低于阈值罚款"]
    assert ws.max_row == 7
    assert formats(ws, 7)[:9] == [COUNT, "General", "General", SCORE, SCORE, SCORE, SCORE, MONEY, MONEY]
    assert ws.freeze_panes == "A5" and ws.auto_filter.ref == "A4:L7"
    assert isinstance(ws["G7"].value, float) and isinstance(ws["A7"].value, int)  # numbers, never text


def test_month_sheet(ledger: Ledger, db_url: str, tmp_path: Path) -> None:
    ws = export(db_url, tmp_path, "month", "2019-07")
    assert ws.title == "月度考核" and ws["A1"].value == "2019-07 月度考核结果"
    assert row(ws, 4) == ["支部代码", "支部名称", "书记", "任职方式", "得分", "绩效系数", "津贴（元）", "经营得分",
                          "双百分得分", "审批后有变化"]
    assert row(ws, 5) == ["A", "熔炼车间党支部", "周建国", "专职", 98, 0.98, None, None, None, "否"]
    assert row(ws, 6) == ["B", "电解车间党支部", "陈志强", "兼职", 96.5, None, 772, None, None, "否"]  # 800 × 0.9650
    assert row(ws, 7) == ["C", "机修车间党支部", "李建军", "专职", 100, 1, None, None, None, "否"]
    assert formats(ws, 5)[4:6] == [SCORE, COEFFICIENT] and formats(ws, 6)[6] == MONEY
    # A part-time secretary's allowance drops to 0 below 95: B in a month of −5.5 (draft, as it stands).
    ledger.record_score(branch="B", period="2019-10", category="political", points="-5.5", reason="缺课",
                        department="party_mass", actor="考核员")
    ws = export(db_url, tmp_path, "month", "2019-10")
    assert ws["A2"].value.startswith("状态：草稿")
    assert row(ws, 6)[4:7] == [94.5, None, 0] and formats(ws, 6)[6] == MONEY


def test_year_evaluation(ledger: Ledger, db_url: str, tmp_path: Path) -> None:
    for code, unit, debriefing in (("A", "90", "88"), ("B", "95", "92.5"), ("C", "85", "80")):
        ledger.command("record_unit_performance", branch=code, year="2019", score=unit, actor="企业管理部")
        ledger.command("record_debriefing", branch=code, year="2019", score=debriefing, actor="公司党委会")
    ws = export(db_url, tmp_path, "year", "2019")
    assert ws.title == "年度总评" and ws["A1"].value == "2019 年度总评" and ws["A2"].value.startswith("状态：草稿")
    assert row(ws, 4) == ["名次", "支部代码", "支部名称", "月均分", "单位经营业绩", "书记述职评分", "总评得分",
                          "奖励（元）", "罚款（元）", "党员人数", "2020年发展党员指标", "2020年优秀党员指标", "12月书记",
                          "说明"]
    # Monthly means: A (1200 − 8) / 12, B (1200 − 5.5) / 12, C (1200 + 1 − 1) / 12.
    # Scores: 0.6 × mean + 0.2 × unit + 0.2 × debriefing; quotas ceil(20/20) = 1, ceil(20/10) = 2 (+1 first).
    assert row(ws, 5) == [1, "B", "电解车间党支部", 99.54, 95, 92.5, 97.22, 5000, 0, 20, 2, 3, "陈志强",
                          "年度第一名奖励；第一名：指标增加"]
    assert row(ws, 6)[:10] == [2, "A", "熔炼车间党支部", 99.33, 90, 88, 95.2, 0, 0, 20]
    assert row(ws, 7)[:10] == [3, "C", "机修车间党支部", 100, 85, 80, 93, 0, 2000, 20]
    assert row(ws, 7)[10:12] == [0, 1]  # last and below 95: no development quota, one excellent member less
    assert formats(ws, 5)[:12] == [COUNT, "General", "General", SCORE, SCORE, SCORE, SCORE, MONEY, MONEY, COUNT,
                                   COUNT, COUNT]


def test_branch_history(ledger: Ledger, db_url: str, tmp_path: Path) -> None:
    ws = export(db_url, tmp_path, "history", "--branch", "A")
    assert ws.title == "支部记录" and ws["A1"].value == "支部 A 全部记录"
    assert row(ws, 4) == ["日志位置", "记录时间（北京时间）", "事件类型代码", "事件", "操作人", "执行用户", "期间", "类别",
                          "分值", "理由", "历史迁移", "存储原文（JSON）"]
    rows = [row(ws, r) for r in range(5, ws.max_row + 1)]
    assert [r[2] for r in rows[:2]] == ["Organization.BranchRegistered", "Organization.SecretaryAppointed"]
    entries = [r for r in rows if r[2] == "AssessmentMonth.ScoreRecorded"]
    assert [(r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]) for r in entries] == [
        ("录入得分", "party_mass-考核员", "migration", "2019-07", "政治建设", -2, "第一议题学习记录不全", "是"),
        ("录入得分", "discipline_inspection-考核员", "migration", "2019-08", "作风建设", -1, "会风会纪不严", "是"),
        ("录入得分", "party_mass-考核员", "migration", "2019-09", "组织建设", -5, "支委会未按时召开", "是")]
    assert isinstance(entries[0][1], datetime) and ws.cell(5, 2).number_format == "yyyy-mm-dd hh:mm:ss"
    assert all(isinstance(r[0], int) for r in rows) and [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert '"category": "political"' in entries[0][11]
    assert {r[2] for r in rows} >= {"AssessmentMonth.Approved", "AssessmentQuarter.Approved",
                                    "AssessmentQuarter.FineImposed"}
    # Filtered as on the auditor's page: period (a quarter means its months), actor, category.
    ws = export(db_url, tmp_path, "history", "--branch", "A", "--period", "2019Q3", "--category", "organizational")
    assert [row(ws, r)[8] for r in range(5, ws.max_row + 1)] == [-5]
    assert ws["A2"].value.startswith("共 1 条（筛选 期间：2019Q3；类别：organizational）")
    ws = export(db_url, tmp_path, "history", "--branch", "A", "--actor", "discipline")
    assert [row(ws, r)[7] for r in range(5, ws.max_row + 1)] == ["作风建设"]


def test_bad_input_names_the_field(ledger: Ledger, db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"LEDGER_DATABASE_URL": db_url}
    for args, message in ((["quarter", "2019-Q3"], "季度格式应为 YYYYQn"), (["month", "2019-7"], "月份格式应为 YYYY-MM"),
                          (["history", "--branch", "ZZ"], "字段 branch：支部 ZZ 未登记"),
                          (["quarter", "2019Q3", "--as-of", "2019-13-01"], "字段 as_of")):
        done = runner.invoke(cli, ["export", *args, "--xlsx", str(tmp_path / "x.xlsx")], env=env)
        assert done.exit_code == 1 and message in done.output, done.output
        assert not (tmp_path / "x.xlsx").exists()
