"""命令行 ``ledger``: explanations (explain month/quarter) and a branch's history."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from adapters.cli.common import (
    SHANGHAI,
    AsOf,
    LineError,
    emit,
    existing_engine,
    fail,
    model_at,
    replay_note,
    replay_options,
    run,
    stamp,
)
from adapters.cli.main import main
from adapters.event_view import detail_text
from adapters.exports.explanations import explain_month_at, explain_quarter_at
from adapters.read_inputs import plain_detail
from adapters.store.logreader import LogReader
from adapters.store.slices import quarter_sections
from domain import vocabulary
from domain.asof import parse_as_of
from domain.assessment.rulebook import CATEGORY_NAMES
from domain.integrity.log import provenance, provenance_text
from domain.periods import check_month, check_quarter, check_year


@main.group(help="说明：从第一性原理推导某支部某月或某季度的得分（每条记录、上限、规则）。")
def explain() -> None:
    pass


def _xlsx_option(f: Callable[..., None]) -> Callable[..., None]:
    return click.option("--xlsx", "xlsx", default=None, type=click.Path(dir_okay=False, path_type=Path),
                        help="同时把这份说明写入 Excel 文件（.xlsx）")(f)


@explain.command("month", help="推导某支部某月得分，如 ledger explain month 2019-07 --branch REPAIR")
@click.argument("period")
@click.option("--branch", required=True, help="支部代码")
@replay_options
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--with-proofs", "with_proofs", is_flag=True, help="为引用的每条记录附上对最新检查点的包含证明")
@_xlsx_option
def explain_month_cmd(period: str, branch: str, as_of: AsOf | None, as_json: bool, with_proofs: bool,
                      xlsx: Path | None) -> None:
    from adapters.exports.workbooks import explain_month_workbook
    run(lambda: check_month(period))
    model = model_at(None, as_of)
    data = _explained(lambda: explain_month_at(existing_engine(), model, period, branch, as_of))
    if with_proofs:
        _attach_proofs(data, data["entries"])
    data = stamp(data, model, as_of)
    emit(data, as_json, explain_month_text)
    if xlsx is not None:
        _save_xlsx(explain_month_workbook(data), xlsx, as_json)


@explain.command("quarter", help="推导某支部季度得分、名次与奖惩，如 ledger explain quarter 2019Q3 --branch REPAIR")
@click.argument("period")
@click.option("--branch", required=True, help="支部代码")
@replay_options
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--with-proofs", "with_proofs", is_flag=True, help="为引用的每条记录附上对最新检查点的包含证明")
@_xlsx_option
def explain_quarter_cmd(period: str, branch: str, as_of: AsOf | None, as_json: bool, with_proofs: bool,
                        xlsx: Path | None) -> None:
    from adapters.exports.workbooks import explain_quarter_workbook
    run(lambda: check_quarter(period))
    model = model_at(quarter_sections(period), as_of)
    data = _explained(lambda: explain_quarter_at(existing_engine(), model, period, branch, as_of))
    if with_proofs:
        _attach_proofs(data, [e for m in data["months"] for e in m["entries"]])
    data = stamp(data, model, as_of)
    emit(data, as_json, explain_quarter_text)
    if xlsx is not None:
        _save_xlsx(explain_quarter_workbook(data), xlsx, as_json)


def _save_xlsx(workbook: Any, path: Path, as_json: bool) -> None:
    workbook.save(path)
    if not as_json:  # JSON output stays one document
        click.echo(f"已导出说明：{path}")


def explain_quarter_text(d: dict[str, Any]) -> str:
    """The text of ``ledger explain quarter`` (each month as :func:`explain_month_text`)."""
    lines = [f"{d['period']} 支部 {d['branch']}：季度得分 {d['score']}（{' + '.join(d['mean_of'])} 的平均，"
             f"两位小数四舍五入），第 {d['rank']} 名 / 共 {d['of']} 个支部（末位为第 {d['last_rank']} 名），"
             f"奖励 {d['award']} 元，罚款 {d['fine']} 元；考核细则第 {d['rulebook']['version']} 版{replay_note(d)}"]
    lines += [f"  规则：{r['text']}" for r in d["rules"]]
    for m in d["months"]:
        lines.append("")
        lines.append(explain_month_text(m, proofs=False))
    lines += _checkpoint_lines(d)
    return "\n".join(lines)


def _attach_proofs(data: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Each cited entry gets its leaf index and inclusion proof; the checkpoint once."""
    from adapters.store.proofs import ProofError, attach_inclusion_proofs
    try:
        attach_inclusion_proofs(existing_engine(), data, entries)
    except ProofError as e:
        fail([LineError(0, None, str(e))], False)


def _explained(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return run(action)  # type: ignore[no-any-return]
    except KeyError as e:
        fail([LineError(0, "branch", str(e.args[0]))], False)
        raise


def explain_month_text(d: dict[str, Any], proofs: bool = True) -> str:
    """The text of ``ledger explain month``: every entry with the points recorded, the points
    it carries now and the points counted, its corrections, void and appeals (open ones too),
    then the sum that makes the score. ``proofs``: print the checkpoint (a quarter prints it
    once, after its months)."""
    from adapters.exports.explain_format import appeal_text, change_text, state_text
    pay = (f"绩效系数 {d['coefficient']}" if d["mode"] == "full_time" else
           f"津贴 {d['allowance']} 元（基数 {d['allowance_base']}）" if d["mode"] == "part_time" else "当月无在任书记")
    lines = [f"{d['period']} 支部 {d['branch']}：基础分 {d['base']}，得分 {d['score']}，{pay}"
             f"（考核细则第 {d['rulebook']['version']} 版）{replay_note(d)}"]
    for e in d["entries"]:
        lines.append(f"  位置 {e['position']:>6}  {e['recorded_at'][:19]}  "
                     f"{CATEGORY_NAMES.get(e['category'], e['category'])} {state_text(e)}  {e['actor']}：{e['reason']}"
                     f"{provenance_text(e)}")
        lines += [f"      {change_text(c)}" for c in e["changes"]]
        lines += [f"      {appeal_text(a)}" for a in e["appeals"]]
        if e.get("proof"):
            lines.append(f"      包含证明：叶子 {e['proof']['leaf_index']}，路径 {' '.join(e['proof']['hashes']) or '（空）'}")
    if not d["entries"]:
        lines.append("  本月无扣分或加分记录：得分即基础分")
    else:
        lines.append(f"  计入合计 {d['counted_total']}：基础分 {d['base']} + ({d['counted_total']}) = 得分 {d['score']}")
    if d.get("open_appeals"):
        lines.append(f"  未决申诉 {d['open_appeals']} 项：决定前得分按现有分值计算")
    if proofs:
        lines += _checkpoint_lines(d)
    return "\n".join(lines)


def _checkpoint_lines(d: dict[str, Any]) -> list[str]:
    if not d.get("checkpoint"):
        return []
    return ["", "以上包含证明所对的签名检查点（ledger prove 位置 取得完整证明文件，ledger verify-proof 离线核验）：",
            *("  " + line for line in str(d["checkpoint"]).splitlines())]


@explain.command("year", help="推导某支部年度总评：月均分、经营业绩、述职、权重、名次与下一年度指标。")
@click.argument("period")
@click.option("--branch", required=True, help="支部代码")
@replay_options
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def explain_year_cmd(period: str, branch: str, as_of: AsOf | None, as_json: bool) -> None:
    from projections.explain import explain_year
    run(lambda: check_year(period))
    model = model_at(None, as_of)
    data = _explained(lambda: explain_year(model, period, branch))
    emit(stamp(data, model, as_of), as_json, lambda d: (
        f"{d['period']} 支部 {d['branch']}：总评 {d['score'] or '（缺评分，未排名）'} = "
        f"{d['weights']['annual_weight_monthly']} × 月均分 {d['monthly_mean']}"
        f" + {d['weights']['annual_weight_unit']} × 经营业绩 {d['unit_score'] or '-'}"
        f" + {d['weights']['annual_weight_debriefing']} × 述职 {d['debriefing_score'] or '-'}；"
        f"第 {d['rank'] or '-'} 名，奖励 {d['award']} 元，罚款 {d['fine']} 元；"
        f"{d['quota_year']} 年发展党员指标 {d['development_quota']}、优秀党员指标 {d['excellent_member_quota']}"
        f"（党员 {d['members']} 人；规则：{', '.join(d['rules'])}）{replay_note(d)}\n月度得分："
        + "，".join(f"{m['period'][5:]}月 {m['score']}" for m in d["months"])))


@main.command("history", help="列出与某支部有关的全部事件（最早在前），含操作人与记录时间。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--from", "first", default=None, help="起始时间（ISO 8601 带时区，或日期）")
@click.option("--to", "last", default=None, help="结束时间")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def history(branch: str, first: str | None, last: str | None, as_json: bool) -> None:
    start = run(lambda: parse_as_of(first, "from")) if first else None
    end = run(lambda: parse_as_of(last, "to")) if last else None
    reader = LogReader(existing_engine())
    rows = []
    for e in reader.read():
        if (start is not None and e.recorded_at_us < start) or (end is not None and e.recorded_at_us > end):
            continue
        if not _touches(e.raw, branch):
            continue
        d = e.data
        rows.append({"position": e.position, "recorded_at": e.recorded_at.astimezone(SHANGHAI).isoformat(),
                     "event": e.name, "actor": d.get("actor"), **provenance(e.raw),
                     "detail": {k: plain_detail(v) for k, v in d.items()
                                if k not in ("originator_id", "originator_version", "timestamp", "actor", "by",
                                             "migrated", "occurred_at",
                                             "results", "ranking")}})
    emit({"branch": branch, "events": rows}, as_json, lambda d: "\n".join(
        f"{r['position']:>7}  {r['recorded_at'][:19]}  {vocabulary.event_name(r['event'])}  {r['actor'] or '-'}  "
        f"{detail_text(r['detail'])}{provenance_text(r)}" for r in d["events"]))


def _touches(raw: dict[str, Any], branch: str) -> bool:
    """An event concerns the branch if it names it, or an approval lists it."""
    from domain.service.permissions import event_concerns
    return event_concerns(raw, branch)
