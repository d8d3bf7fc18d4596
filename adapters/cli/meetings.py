"""命令行 ``ledger meetings``: organizational life (三会一课、主题党日、组织生活会、两会) —
the year's meetings with attendance, and branches behind the expected schedule."""
from __future__ import annotations

from typing import Any

import click

from adapters.cli.common import AsOf, emit, fold_log, replay_note, replay_options, run, run_op, stamp
from adapters.cli.main import main
from adapters.read_inputs import default_through
from domain.members.meetings import KIND_NAMES, STATUS_NAMES
from domain.periods import check_month, check_year
from projections.meetings import MeetingsModel, meetings_json, schedule_json


@main.group(help="组织生活：三会一课、主题党日、组织生活会、“两会”及出勤；按考核细则检查是否按期召开。")
def meetings() -> None:
    pass


@meetings.command("show", help="查看某年的会议及出勤，如 ledger meetings show 2019 --branch REPAIR")
@click.argument("year")
@click.option("--branch", default=None, help="支部代码（不填则全部支部）")
@click.option("--kind", type=click.Choice(list(KIND_NAMES)), default=None, help="会议类型")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def meetings_show(year: str, branch: str | None, kind: str | None, as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: check_year(year))
    model = fold_log(MeetingsModel(), as_of)
    emit(stamp(meetings_json(model, year, branch, kind), model, as_of), as_json, _show_text)


def _show_text(d: dict[str, Any]) -> str:
    scope = f"（支部 {d['branch']}）" if d["branch"] else ""
    lines = [f"{d['year']} 年组织生活会议{scope}：{d['counted']} 次" + replay_note(d)]
    for m in d["meetings"]:
        n = m["counts"]
        group = f" {m['group']}" if m["group"] else ""
        absent = [p for p, s in m["attendance"].items() if s == "absent"]
        state = f"  [已作废：{m['voided']['reason']}]" if m["voided"] else ""
        lines.append(f"  {m['date']} {m['branch']:<7} {m['kind_name']}{group}《{m['topic']}》 主持 {m['chair']}  "
                     f"出席 {n['present']} 请假 {n['excused']} 缺席 {n['absent']}"
                     + (f"（缺席：{', '.join(absent)}）" if absent else "") + state)
        for a in m["answers"] or ():
            lines.append(f"      {a['text']}？{a['answer']}")
        for c in m["corrections"]:
            lines.append(f"      更正：{c['person']} {STATUS_NAMES.get(c['previous'] or '', '未列入')} → "
                         f"{STATUS_NAMES[c['status']]}（{c['reason']}，{c['actor']}）")
    if not d["meetings"]:
        lines.append("  （无）")
    return "\n".join(lines)


@meetings.command("schedule", help="检查各支部是否按考核细则规定的频次召开会议，列出落后的支部，如 ledger meetings schedule 2019")
@click.argument("year")
@click.option("--branch", default=None, help="支部代码（不填则全部支部）")
@click.option("--through", default=None, help="检查到某月（YYYY-MM，含）为止结束的周期；默认：往年到 12 月，今年到上个月")
@click.option("--all", "show_all", is_flag=True, help="文字输出列出每个周期（默认只列缺口）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def meetings_schedule(year: str, branch: str | None, through: str | None, show_all: bool, as_json: bool,
                      as_of: AsOf | None) -> None:
    run(lambda: check_year(year))
    if through is not None:
        run(lambda: check_month(through, "through"))
    model = fold_log(MeetingsModel(), as_of)
    data = run(lambda: schedule_json(model, year, branch, through or default_through(year)))
    emit(stamp(data, model, as_of), as_json,
          lambda d: _schedule_text(d, show_all))


def _schedule_text(d: dict[str, Any], show_all: bool) -> str:
    lines = [f"{d['year']} 年会议频次检查（截至 {d['through']} 结束的周期）：" +
             (f"落后的支部 {', '.join(d['behind'])}" if d["behind"] else "各支部均按期召开")]
    for b in d["branches"]:
        rows = b["checks"] if show_all else b["gaps"]
        mark = "落后" if b["behind"] else "按期"
        lines.append(f"  {b['branch']:<7} {b['name']}：{mark}（检查 {len(b['checks'])} 个周期，缺 {len(b['gaps'])} 个）")
        for r in rows:
            group = f" {r['group']}" if r["group"] else ""
            state = "缺" if r["behind"] else f"{r['held']} 次"
            lines.append(f"      {r['period']:<10} {r['kind_name']}{group}（每 {r['every_months']} 个月至少 1 次）：{state}")
    return "\n".join(lines)


@meetings.command("void", help="作废一条录错的会议记录（不再计入频次和积分）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--kind", type=click.Choice(list(KIND_NAMES)), required=True, help="会议类型")
@click.option("--date", required=True, help="会议日期 YYYY-MM-DD")
@click.option("--group", default=None, help="党小组（党小组会）")
@click.option("--reason", required=True, help="理由")
@click.option("--actor", required=True, help="经办人")
def meetings_void(**fields: Any) -> None:
    run_op("void_meeting", lambda m: f"会议记录 {m} 已作废", **fields)


@meetings.command("correct", help="更正一名党员的出勤（出席 present / 请假 excused / 缺席 absent）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--kind", type=click.Choice(list(KIND_NAMES)), required=True, help="会议类型")
@click.option("--date", required=True, help="会议日期 YYYY-MM-DD")
@click.option("--group", default=None, help="党小组（党小组会）")
@click.option("--person", required=True, help="人员编号")
@click.option("--status", type=click.Choice(list(STATUS_NAMES)), required=True, help="出勤")
@click.option("--reason", required=True, help="理由")
@click.option("--actor", required=True, help="经办人")
def meetings_correct(**fields: Any) -> None:
    run_op("correct_attendance", lambda m: f"会议 {m} 的出勤已更正", **fields)
