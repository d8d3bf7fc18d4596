"""命令行 ``ledger selection``: competitive selection (竞聘) results."""
from __future__ import annotations

from typing import Any

import click

from adapters.cli.common import AsOf, emit, fold_log, replay_options, stamp_fields
from adapters.cli.main import main
from domain import vocabulary
from projections.selection import SelectionModel, position_json

STATUS_NAMES = vocabulary.SELECTION_STATES


@main.group(help="竞聘：职工代表匿名评分、公司领导实名评分、门槛值；查看结果。")
def selection() -> None:
    pass


@selection.command("show", help="查看某岗位的竞聘情况与结果，如 ledger selection show 熔炼车间主任"
                                "（也可给出竞聘编号）")
@click.argument("position")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def selection_show(position: str, as_json: bool, as_of: AsOf | None) -> None:
    model = fold_log(SelectionModel(), as_of)
    emit({**position_json(model, position), "position_reached": model.position, **stamp_fields(as_of)}, as_json, _text)


def _text(d: dict[str, Any]) -> str:
    if not d["selections"]:
        return f"岗位 {d['position']} 没有竞聘记录"
    lines = []
    for s in d["selections"]:
        lines.append(f"竞聘 {s['selection']}：{s['position']}（{s['date']}，{STATUS_NAMES[s['status']]}）"
                     f" 职工代表评分表 {len(s['representative_sheets'])} 张，领导评分表 {len(s['leader_sheets'])} 张")
        r = s["result"]
        if r is None:
            lines.append("  候选人：" + "、".join(f"{c['name']}（{c['person']}）" for c in s["candidates"]))
            continue
        lines.append(f"  权重：职工代表 {r['weight_representatives']}，领导 {r['weight_leaders']}；"
                     f"门槛值 {r['threshold']}（考核细则第 {r['rulebook_version']} 版）")
        lines.append("  名次 候选人            职工代表均分 领导均分 总分    聘任")
        for row in r["rows"]:
            who = f"{row['name']}（{row['candidate']}）"
            lines.append(f"  {row['rank']:>4} {who:<16} {row['representative_mean']:>10} {row['leader_mean']:>8}"
                         f" {row['total']:>7} {'是' if row['appointed'] else '否'}")
        lines.append(f"  结果：{r['outcome_name']}")
    return "\n".join(lines)
