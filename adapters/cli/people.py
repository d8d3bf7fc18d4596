"""命令行 ``ledger members`` / ``ledger people``: members and employees (党员与职工)."""
from __future__ import annotations

from typing import Any

import click

from adapters.cli.common import AsOf, emit, fold_log, member_warning_lines, model_at, replay_options, run, run_op, stamp
from adapters.cli.main import main
from domain import vocabulary
from domain.periods import check_month
from projections.people import PeopleModel, people_json

KIND_NAMES = vocabulary.PERSON_KINDS


@main.group(help="党员与职工：登记、分类、转接、离开；查看名册。")
def people() -> None:
    pass


@people.command("list", help="查看某月的党员与职工名册，如 ledger people list 2019-07 --branch REPAIR")
@click.argument("month")
@click.option("--branch", default=None, help="支部代码（不填则全部支部）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def people_list(month: str, branch: str | None, as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: check_month(month))
    model = fold_log(PeopleModel(), as_of)
    warnings = [w for w in model_at(None, as_of).member_count_warnings(month) if branch in (None, w["branch"])]
    emit(stamp({**people_json(model, branch, month), "member_warnings": warnings}, model, as_of), as_json, _text)


def _text(d: dict[str, Any]) -> str:
    lines = [f"{d['month']} 名册{'（支部 ' + d['branch'] + '）' if d['branch'] else ''}："
             f"党员 {d['members']} 人，职工 {d['employees']} 人"]
    for r in d["people"]:
        cls = f" {r['class']}类" if r["class"] else ""
        group = f" {r['group']}" if r["group"] else ""
        lines.append(f"  {r['person']:<10} {r['name']:<6} {KIND_NAMES[r['kind']]}{cls} 支部 {r['branch']}{group}")
    return "\n".join([*lines, *member_warning_lines(d["member_warnings"])])


@people.command("enrol", help="登记党员（职工入党亦用此命令）。")
@click.option("--person", required=True, help="人员编号")
@click.option("--name", required=True, help="姓名")
@click.option("--branch", required=True, help="支部代码")
@click.option("--group", default=None, help="党小组")
@click.option("--class", "member_class", required=True, type=click.Choice(["A", "B", "C", "D"]),
              help="党员分类：A 中高层管理 / B 生产一线 / C 一般管理和专业技术 / D 离退休")
@click.option("--from", "from_month", required=True, help="生效月份 YYYY-MM")
@click.option("--actor", required=True, help="经办人")
def people_enrol(member_class: str, from_month: str, **fields: Any) -> None:
    run_op("enrol_member", lambda p: f"党员 {p} 已登记", **fields, **{"class": member_class, "from": from_month})


@people.command("employee", help="登记职工（非党员）。")
@click.option("--person", required=True, help="人员编号")
@click.option("--name", required=True, help="姓名")
@click.option("--branch", required=True, help="所在支部代码")
@click.option("--group", default=None, help="党小组（联系的小组，可不填）")
@click.option("--from", "from_month", required=True, help="生效月份 YYYY-MM")
@click.option("--actor", required=True, help="经办人")
def people_employee(from_month: str, **fields: Any) -> None:
    run_op("register_employee", lambda p: f"职工 {p} 已登记", **fields, **{"from": from_month})


@people.command("class", help="变更党员分类。")
@click.option("--person", required=True, help="人员编号")
@click.option("--class", "member_class", required=True, type=click.Choice(["A", "B", "C", "D"]), help="新分类")
@click.option("--from", "from_month", required=True, help="生效月份 YYYY-MM")
@click.option("--actor", required=True, help="经办人")
def people_class(member_class: str, from_month: str, **fields: Any) -> None:
    run_op("change_member_class", lambda p: f"{p} 的党员分类已变更", **fields,
        **{"class": member_class, "from": from_month})


@people.command("transfer", help="转接到另一支部或党小组。")
@click.option("--person", required=True, help="人员编号")
@click.option("--branch", required=True, help="转入支部代码")
@click.option("--group", default=None, help="转入党小组")
@click.option("--from", "from_month", required=True, help="生效月份 YYYY-MM")
@click.option("--actor", required=True, help="经办人")
def people_transfer(from_month: str, **fields: Any) -> None:
    run_op("transfer_person", lambda p: f"{p} 已转接", **fields, **{"from": from_month})


@people.command("leave", help="登记离开（调出、去世等）：自该月起不再计入。")
@click.option("--person", required=True, help="人员编号")
@click.option("--reason", required=True, help="原因")
@click.option("--from", "from_month", required=True, help="自哪个月起不再计入 YYYY-MM")
@click.option("--actor", required=True, help="经办人")
def people_leave(from_month: str, **fields: Any) -> None:
    run_op("record_departure", lambda p: f"{p} 的离开已登记", **fields, **{"from": from_month})
