"""命令行 ``ledger members``: party-member points (党员积分) — the year's parts, totals and
ranks, and one member's explanation."""
from __future__ import annotations

from typing import Any

import click

from adapters.cli.common import AsOf, emit, fold_log, replay_note, replay_options, run, stamp
from adapters.cli.main import main
from domain.errors import PersonNotFound
from domain.periods import check_year
from projections.member_points import MemberPointsModel, explain_member_json, members_json


@main.group(help="党员积分：个人行为、小组工作、年度评议三部分，年度总积分与支部内排名。")
def members() -> None:
    pass


@members.command("show", help="查看某年党员积分（三部分、总积分、支部内名次），如 ledger members show 2019 --branch SMELT")
@click.argument("year")
@click.option("--branch", default=None, help="支部代码（不填则全部支部）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def members_show(year: str, branch: str | None, as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: check_year(year))
    model = fold_log(MemberPointsModel(), as_of)
    data = run(lambda: members_json(model, year, branch))
    emit(stamp(data, model, as_of), as_json, _show_text)


def _weights(r: dict[str, Any]) -> str:
    return (f"基础分 {r['points_base']}，每部分限 {r['points_min']}–{r['points_max']}；总积分 = "
            f"{r['points_weight_individual']}×个人行为 + {r['points_weight_group']}×小组工作 + "
            f"{r['points_weight_appraisal']}×年度评议（考核细则第 {r['version']} 版，{r['rulebook_month']} 在用）")


def _show_text(d: dict[str, Any]) -> str:
    lines = [f"{d['year']} 年党员积分{'（支部 ' + d['branch'] + '）' if d['branch'] else ''}{replay_note(d)}",
             _weights(d["rulebook"]),
             f"{'支部':<8}{'名次':>4}  {'编号':<10}{'姓名':<6}{'类别':>4}"
             f"{'个人行为':>9}{'小组工作':>9}{'年度评议':>9}{'总积分':>9}"]
    for m in d["members"]:
        note = f"  （{m['left']} 起离开）" if m["left"] else ""
        lines.append(f"{m['branch']:<8}{m['rank']:>4}  {m['person']:<10}{m['name']:<6}{m['class']:>4}"
                     f"{m['individual']:>11}{m['group_work']:>11}{m['appraisal']:>11}{m['total']:>10}{note}")
    if not d["members"]:
        lines.append("（无党员）")
    return "\n".join(lines)


@members.command("explain", help="说明某党员某年的积分从何而来，如 ledger members explain 2019 --person SMELT-M01")
@click.argument("year")
@click.option("--person", required=True, help="人员编号")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def members_explain(year: str, person: str, as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: check_year(year))
    model = fold_log(MemberPointsModel(), as_of)
    data = run(lambda: explain_member_json(model, year, person))
    if data is None:
        run(lambda: _not_member(person, year))
    emit(stamp(data, model, as_of), as_json, _explain_text)


def _not_member(person: str, year: str) -> None:
    raise PersonNotFound(f"{person} 在 {year} 年不是党员（或未登记）", "person")


def _explain_text(d: dict[str, Any]) -> str:
    lines = [f"{d['year']} 年 {d['person']} {d['name']}（支部 {d['branch']}，{d['group'] or '未编入党小组'}，"
             f"{d['class']} 类）：总积分 {d['total']}，支部内第 {d['rank']} 名（共 {d['branch_size']} 人）{replay_note(d)}",
             "  " + d["formula"], "  " + _weights(d["rulebook"])]
    for part in d["parts"]:
        clamp = f"，超出范围按 {part['score']} 计" if part["clamped"] else ""
        lines.append(f"  {part['name']}：{part['score']} = 基础分 {part['base']} + 条目合计 {part['entries_sum']}{clamp}")
        for e in part["entries"]:
            what = e["item_name"] or (f"党小组 {e['group']}" if e["group"] else "年度评议")
            state = "" if e["counted"] else (f"  [已作废：{e['voided']['reason']}，{e['voided']['actor']}，"
                                             f"{e['voided']['recorded_at']}]")
            source = f"（由会议出勤生成，会议记录位置 {e['meeting']['position']}）" if e.get("meeting") else ""
            lines.append(f"    {e['month'] or d['year']} {what} {e['points']:>7}  {e['reason']}{source}  "
                         f"——{e['actor']} 录入于 {e['recorded_at']}{state}")
    a = d.get("attendance")
    if a and a["meetings"]:
        n = a["counts"]
        lines.append(f"  组织生活出勤：{len(a['meetings'])} 次会议，出席 {n['present']}、请假 {n['excused']}、缺席 {n['absent']}"
                     f"（每次缺席 {a['absent_points']} 分，请假 {a['excused_points']} 分；ledger meetings show {d['year']} "
                     f"--branch {d['branch']}）")
    return "\n".join(lines)
