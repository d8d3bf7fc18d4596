"""命令行 ``ledger export``: Excel files of a month, a quarter, a year and a branch's history.

The same data as ``ledger … show --json`` (and the HTTP API), the same workbook builders as
the web pages' export buttons (``adapters/exports/workbooks.py``). Reads, like every CLI read, need no
acting user: whoever runs the CLI holds the database itself.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from adapters.bootstrap import engine_of
from adapters.cli.common import AsOf, existing_ledger, model_at, replay_options, run, stamp
from adapters.cli.main import main
from adapters.exports.workbooks import filter_history, history_workbook, month_workbook, quarter_workbook, year_workbook
from domain.asof import parse_as_of
from domain.errors import BranchNotFound
from domain.periods import check_month, check_quarter, check_year, quarter_months
from projections.views import month_json, quarter_json

XLSX_HELP = "写入的 Excel 文件（.xlsx）"


@main.group("export", help="导出 Excel：月度考核表、季度排名、年度总评、支部全部记录。")
def export() -> None:
    pass


def _save(workbook: Any, path: Path, what: str) -> None:
    workbook.save(path)
    click.echo(f"已导出{what}：{path}")


def _xlsx(period_check: Callable[[str], str], sections: Callable[[str], list[str] | None],
          data: Callable[[Any, str], dict[str, Any]], build: Callable[[dict[str, Any]], Any],
          period: str, path: Path, as_of: AsOf | None, what: str) -> None:
    run(lambda: period_check(period))
    model = model_at(sections(period), as_of)
    _save(build(stamp(run(lambda: data(model, period)), model, as_of)), path, f"{period} {what}")


@export.command("month", help="导出某月各支部得分、绩效系数、津贴，如 ledger export month 2019-07 --xlsx 7月.xlsx")
@click.argument("period")
@click.option("--xlsx", "path", required=True, type=click.Path(dir_okay=False, path_type=Path), help=XLSX_HELP)
@replay_options
def export_month(period: str, path: Path, as_of: AsOf | None) -> None:
    _xlsx(check_month, lambda p: ["month:" + p], month_json, month_workbook, period, path, as_of, "月度考核表")


@export.command("quarter", help="导出季度排名与奖惩，如 ledger export quarter 2019Q3 --xlsx 2019Q3.xlsx")
@click.argument("period")
@click.option("--xlsx", "path", required=True, type=click.Path(dir_okay=False, path_type=Path), help=XLSX_HELP)
@replay_options
def export_quarter(period: str, path: Path, as_of: AsOf | None) -> None:
    _xlsx(check_quarter, lambda p: [*("month:" + m for m in quarter_months(p)), "quarter:" + p], quarter_json,
          quarter_workbook, period, path, as_of, "季度排名")


@export.command("year", help="导出年度总评、奖惩与下一年度指标，如 ledger export year 2019 --xlsx 2019.xlsx")
@click.argument("period")
@click.option("--xlsx", "path", required=True, type=click.Path(dir_okay=False, path_type=Path), help=XLSX_HELP)
@replay_options
def export_year(period: str, path: Path, as_of: AsOf | None) -> None:
    from projections.annual import year_json
    _xlsx(check_year, lambda p: None, year_json, year_workbook, period, path, as_of, "年度总评")


@export.command("history", help="导出某支部的全部记录（可按期间、操作人、类别、记录时间筛选），"
                                "如 ledger export history --branch REPAIR --xlsx 机修.xlsx")
@click.option("--branch", required=True, help="支部代码")
@click.option("--xlsx", "path", required=True, type=click.Path(dir_okay=False, path_type=Path), help=XLSX_HELP)
@click.option("--period", default=None, help="期间：2019、2019Q3 或 2019-07")
@click.option("--actor", default=None, help="操作人（姓名或用户名的一部分）")
@click.option("--category", default=None, help="考核类别，如 political")
@click.option("--from", "first", default=None, help="记录时间起（ISO 8601 带时区，或日期）")
@click.option("--to", "last", default=None, help="记录时间止")
def export_history(branch: str, path: Path, period: str | None, actor: str | None, category: str | None,
                   first: str | None, last: str | None) -> None:
    from adapters.http.reads import history_rows

    def known() -> None:
        if branch not in model_at([], None).branches:
            raise BranchNotFound(f"支部 {branch} 未登记", "branch")
    run(known)
    start = run(lambda: parse_as_of(first, "from")) if first else None
    end = run(lambda: parse_as_of(last, "to")) if last else None
    events = filter_history(history_rows(engine_of(existing_ledger()), branch, start, end), period, actor, category)
    filters = {"期间": period, "操作人": actor, "类别": category, "自": first, "至": last}
    _save(history_workbook({"branch": branch, "events": events}, filters), path, f"支部 {branch} 的 {len(events)} 条记录")
