"""命令行 ``ledger projects``: 一年做成一件事 — register, progress, completion, rates."""
from __future__ import annotations

from typing import Any

import click

from adapters.cli.common import AsOf, emit, fold_log, replay_options, run, run_op, stamp
from adapters.cli.main import main
from domain.periods import check_year
from projections.projects import ProjectsModel, projects_json


@main.group(help="一年做成一件事：登记项目、记录进度与完成；查看各支部登记数、完成数与完成率。")
def projects() -> None:
    pass


@projects.command("show", help="查看某年各支部项目的登记、完成与完成率，如 ledger projects show 2019 --branch SMELT")
@click.argument("year")
@click.option("--branch", default=None, help="支部代码（不填则全部支部）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def projects_show(year: str, branch: str | None, as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: check_year(year))
    model = fold_log(ProjectsModel(), as_of)
    emit(stamp(projects_json(model, year, branch), model, as_of), as_json, _text)


def _rate(value: str | None) -> str:
    return "—" if value is None else f"{value}%"


def _text(d: dict[str, Any]) -> str:
    t = d["total"]
    lines = [f"{d['year']} 年一年做成一件事{'（支部 ' + d['branch'] + '）' if d['branch'] else ''}："
             f"登记 {t['registered']} 项，完成 {t['completed']} 项，完成率 {_rate(t['completion_rate_percent'])}"]
    for b in d["branches"]:
        lines.append(f"支部 {b['branch']}：登记 {b['registered']} 项，完成 {b['completed']} 项，"
                     f"完成率 {_rate(b['completion_rate_percent'])}")
        for p in b["projects"]:
            owner = f"党员 {p['member']}" if p["member"] else f"党小组 {p['group']}"
            state = f"{p['completed']} 完成" if p["completed"] else "进行中"
            lines.append(f"  {p['project']:<10} {p['title']}（{owner}）目标 {p['target']}{p['unit']}，"
                         f"已完成 {p['achieved'] or '0'}（{_rate(p['progress_percent'])}），{state}")
    return "\n".join(lines)


@projects.command("register", help="登记一个项目（党员或党小组，二选一）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--project", required=True, help="项目编号")
@click.option("--member", default=None, help="党员编号（个人项目）")
@click.option("--group", default=None, help="党小组（小组项目）")
@click.option("--year", required=True, help="年份 YYYY")
@click.option("--title", required=True, help="项目名称")
@click.option("--unit", required=True, help="目标计量单位，如 万元、吨、项")
@click.option("--target", required=True, help="目标值")
@click.option("--goal", required=True, help="服务的公司目标")
@click.option("--actor", required=True, help="经办人")
def projects_register(unit: str, target: str, **fields: Any) -> None:
    run_op("register_project", lambda p: f"项目 {p} 已登记", **fields, target={"unit": unit, "value": target})


@projects.command("progress", help="记录项目进度（截至该日的累计完成值）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--project", required=True, help="项目编号")
@click.option("--date", required=True, help="日期 YYYY-MM-DD")
@click.option("--value", required=True, help="累计完成值")
@click.option("--note", default=None, help="说明")
@click.option("--actor", required=True, help="经办人")
def projects_progress(**fields: Any) -> None:
    run_op("record_project_progress", lambda p: f"项目 {p} 进度已记录", **fields)


@projects.command("complete", help="登记项目完成（实际完成值须达到目标值）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--project", required=True, help="项目编号")
@click.option("--date", required=True, help="完成日期 YYYY-MM-DD")
@click.option("--value", default=None, help="实际完成值（默认最近一次进度）")
@click.option("--note", default=None, help="说明")
@click.option("--actor", required=True, help="经办人")
def projects_complete(**fields: Any) -> None:
    run_op("complete_project", lambda p: f"项目 {p} 已完成", **fields)
