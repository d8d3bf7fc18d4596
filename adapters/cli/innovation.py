"""命令行 ``ledger innovation``: 创新创效 — proposals, points, pay-grade steps."""
from __future__ import annotations

from typing import Any

import click

from adapters.cli.common import AsOf, emit, fold_log, replay_options, run, run_op, stamp
from adapters.cli.main import main
from domain.periods import check_year
from projections.innovation import InnovationModel, innovation_json


@main.group(help="创新创效：合理化建议（每条奖励）、创新积分与晋档；查看个人账户。")
def innovation() -> None:
    pass


@innovation.command("show", help="查看个人建议数、奖励金额、积分与晋升工资档次，如 ledger innovation show --year 2019")
@click.option("--branch", default=None, help="支部代码（不填则全部支部）")
@click.option("--year", default=None, help="年份 YYYY（不填则全部年份）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def innovation_show(branch: str | None, year: str | None, as_json: bool, as_of: AsOf | None) -> None:
    if year is not None:
        run(lambda: check_year(year))
    model = fold_log(InnovationModel(), as_of)
    data = run(lambda: innovation_json(model, year, branch))
    emit(stamp(data, model, as_of), as_json, _text)


def _text(d: dict[str, Any]) -> str:
    t = d["totals"]
    scope = (f"{d['year']} 年" if d["year"] else "全部年份") + (f" 支部 {d['branch']}" if d["branch"] else "")
    lines = [f"创新创效（{scope}）：{t['people']} 人，建议 {t['proposals']} 条，奖励 {t['reward']} 元，"
             f"积分 {t['points']}；每 {d['points_per_grade']} 分晋升一档"]
    for r in d["people"]:
        lines.append(f"  {r['person']:<10} {r['name'] or '':<6} 支部 {r['branch']:<8} 建议 {r['proposals']} 条 "
                     f"{r['reward']} 元，积分 {r['points']}（累计 {r['total_points']}），晋档 {r['grade_steps']}"
                     f"（本期新增 {r['new_grade_steps']}）")
    return "\n".join(lines)


@innovation.command("propose", help="登记一条合理化建议（党群工作部）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--person", required=True, help="提出人编号（党员或职工）")
@click.option("--proposal", required=True, help="建议编号")
@click.option("--title", required=True, help="建议标题")
@click.option("--date", required=True, help="日期 YYYY-MM-DD")
@click.option("--actor", required=True, help="经办人")
def innovation_propose(**fields: Any) -> None:
    run_op("submit_proposal", lambda p: f"建议 {p} 已登记", **fields)


@innovation.command("award", help="奖励创新积分，记入个人账户（党群工作部）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--person", required=True, help="人员编号")
@click.option("--points", required=True, help="积分（大于 0，最多两位小数）")
@click.option("--reason", required=True, help="奖励事由")
@click.option("--date", required=True, help="日期 YYYY-MM-DD")
@click.option("--proposal", default=None, help="对应的建议编号（可选）")
@click.option("--actor", required=True, help="经办人")
def innovation_award(**fields: Any) -> None:
    run_op("award_innovation_points", lambda p: f"{p} 的创新积分已记入", **fields)
