"""命令行 ``ledger links``: 党员"1+N" — members linked to non-member employees."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from adapters.cli.common import SHANGHAI, AsOf, emit, fold_log, replay_options, run, run_op, stamp
from adapters.cli.main import main
from domain import vocabulary
from domain.periods import check_month
from projections.links import LinksModel, links_json

FLAG_NAMES = vocabulary.LINK_FLAGS


@main.group(help="党员“1+N”：党员联系职工的结对、解除、党小组 N 值；查看支部结对情况。")
def links() -> None:
    pass


@links.command("show", help="查看支部党员的结对职工与 N 值，标出不足/超出，如 ledger links show --branch SMELT")
@click.option("--branch", required=True, help="支部代码")
@click.option("--month", default=None, help="月份 YYYY-MM（默认：该支部记录中最近的月份）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def links_show(branch: str, month: str | None, as_json: bool, as_of: AsOf | None) -> None:
    if month is not None:
        run(lambda: check_month(month, "month"))
    model = fold_log(LinksModel(), as_of)
    when = month or model.latest_month(branch) or datetime.now(SHANGHAI).strftime("%Y-%m")
    data = run(lambda: links_json(model, branch, when))
    emit(stamp(data, model, as_of), as_json, _text)


def _text(d: dict[str, Any]) -> str:
    s = d["summary"]
    lines = [f"{d['month']} 支部 {d['branch']} 党员“1+N”：党员 {s['members']} 人（达标 {s['ok']}，不足 {s['under']}，"
             f"超出 {s['over']}），职工 {s['employees']} 人，已结对 {s['linked_employees']} 人；默认 N = {d['default_n']}"]
    for group, n in d["quotas"].items():
        lines.append(f"  党小组 {group}：N = {n}")
    for r in d["members"]:
        names = "、".join(f"{e['name']}({e['employee']})" for e in r["linked"]) or "—"
        lines.append(f"  {r['member']:<10} {r['name']:<6} {r['count']}/{r['n']} {FLAG_NAMES[r['flag']]}  {names}")
    for x in d["stale"]:
        lines.append(f"  失效结对：{x['member']} — {x['employee']}（{x['why']}，不计入）")
    return "\n".join(lines)


@links.command("link", help="登记党员联系一名本支部非党员职工（支部书记）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--member", required=True, help="党员编号")
@click.option("--employee", required=True, help="职工编号")
@click.option("--from", "from_month", required=True, help="起始月份 YYYY-MM")
@click.option("--actor", required=True, help="经办人")
def links_link(from_month: str, **fields: Any) -> None:
    run_op("link_employee", lambda e: f"职工 {e} 已结对", **fields, **{"from": from_month})


@links.command("unlink", help="解除结对（--from 为不再计入的第一个月）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--member", required=True, help="党员编号")
@click.option("--employee", required=True, help="职工编号")
@click.option("--from", "from_month", required=True, help="自该月起解除 YYYY-MM")
@click.option("--reason", default=None, help="原因")
@click.option("--actor", required=True, help="经办人")
def links_unlink(from_month: str, **fields: Any) -> None:
    run_op("unlink_employee", lambda e: f"职工 {e} 已解除结对", **fields, **{"from": from_month})


@links.command("quota", help="设定某党小组的 N 值（如党员较多的小组 1+3）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--group", required=True, help="党小组")
@click.option("--n", "n", required=True, type=int, help="每名党员联系职工数 N")
@click.option("--from", "from_month", required=True, help="生效月份 YYYY-MM")
@click.option("--actor", required=True, help="经办人")
def links_quota(from_month: str, **fields: Any) -> None:
    run_op("set_link_quota", lambda g: f"党小组 {g} 的 N 值已设定", **fields, **{"from": from_month})
