"""命令行 ``ledger talks`` / ``ledger person erase``: talks and visits (六必谈 / 六必访)."""
from __future__ import annotations

import sys
from typing import Any

import click

from adapters.cli.common import AsOf, emit, existing_ledger, fold_log, replay_options, run, run_op, stamp, write
from adapters.cli.main import main
from adapters.read_inputs import day_of
from domain import vocabulary
from domain.members.care import KIND_NAMES, OCCASIONS, PERSONNEL_KINDS, ErasePersonKey
from domain.service.permissions import may_read_summaries
from projections.care import CareModel, care_json

STATUS_NAMES = vocabulary.CARE_STATES
SUMMARY_NAMES = {"hidden": "（摘要已隐藏）", "erased": "（密钥已销毁，摘要不可读）", "unreadable": "（摘要无法解密）"}
REVEAL_NOTE = "仅该人员所在支部的书记与党委（committee）可解密摘要：须以 --as 指定用户"


@main.group("talks", help="谈话走访（六必谈、六必访）：登记事由、记录谈话或走访、查看待办与超期。")
def talks() -> None:
    pass


@main.group("person", help="人员：销毁谈话走访摘要密钥等。")
def person() -> None:
    pass


@talks.command("due", help="待办与超期的谈话走访事由，如 ledger talks due --branch SMELT --today 2019-07-31")
@click.option("--branch", default=None, help="支部代码（不填则全部支部）")
@click.option("--today", default=None, help="按哪一天计算是否超期（YYYY-MM-DD，默认北京时间今天）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def talks_due(branch: str | None, today: str | None, as_json: bool, as_of: AsOf | None) -> None:
    day = run(lambda: day_of(today))
    model = fold_log(CareModel(), as_of)
    data = care_json(model, day, branch, open_only=True)
    emit(stamp(data, model, as_of), as_json, _text)


@talks.command("show", help="某支部全部谈话走访（含已完成），如 ledger talks show --branch SMELT")
@click.option("--branch", required=True, help="支部代码")
@click.option("--today", default=None, help="按哪一天计算是否超期（YYYY-MM-DD，默认北京时间今天）")
@click.option("--reveal", is_flag=True, help="解密显示摘要（" + REVEAL_NOTE + "）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def talks_show(branch: str, today: str | None, reveal: bool, as_json: bool, as_of: AsOf | None) -> None:
    day = run(lambda: day_of(today))
    model = fold_log(CareModel(), as_of)
    ledger = existing_ledger()
    vault = None
    if reveal:  # the person's branch secretary and the committee only (domain/service/permissions.py)
        roles = run(lambda: ledger.require_role(ledger.default_user, "committee", "解密谈话摘要")
                     if f"secretary:{branch}" not in _roles(ledger) else _roles(ledger))
        vault = ledger.vault
        reveal_for: Any = lambda b: may_read_summaries(roles, b)  # noqa: E731
    data = care_json(model, day, branch, reveal=reveal_for if reveal else False, vault=vault)
    emit(stamp(data, model, as_of), as_json, _text)


def _roles(ledger: Any) -> frozenset[str]:
    user = ledger.default_user
    return frozenset() if user is None else ledger.roles_now(user)  # type: ignore[no-any-return]


def _text(d: dict[str, Any]) -> str:
    c = d["counts"]
    head = (f"谈话走访{'（支部 ' + d['branch'] + '）' if d['branch'] else ''}，按 {d['today']} 计："
            f"待办 {c['open']}，已超期 {c['overdue']}，按期完成 {c['answered']}，超期完成 {c['answered_late']}")
    lines = [head]
    for r in d["occasions"]:
        who = f"{r['person']}{' ' + r['name'] if r['name'] else ''}"
        cause = f"（因{r['cause_name']}）" if r["cause_name"] else ""
        line = (f"  {r['date']} {r['branch']:<7} {who:<14} {r['kind_name']}{r['number']} {r['occasion_name']}{cause}"
                f" 应于 {r['due']} 前（{r['window_days']} 天）：{STATUS_NAMES[r['status']]}")
        if r["answered"]:
            line += f"，{r['answer_date']} 由 {r['conducted_by']} 完成，用时 {r['days_taken']} 天"
            line += " " + (r["summary"] if r["summary_state"] == "shown" else SUMMARY_NAMES[r["summary_state"]])
        else:
            line += f"，已过 {r['days_open']} 天"
        lines.append(line)
    if not d["occasions"]:
        lines.append("  （无）")
    for e in d["erased"]:
        lines.append(f"  {e['person']} 的摘要密钥已由 {e['actor']} 销毁（日志位置 {e['position']}）")
    return "\n".join(lines)


@talks.command("occasions", help="列出六必谈、六必访的事由代码。")
def talks_occasions() -> None:
    for code, (kind, number, name) in OCCASIONS.items():
        click.echo(f"{KIND_NAMES[kind]}{number}  {code:<20} {name}")
    click.echo("人事事项（ledger talks personnel --kind）：" + "，".join(
        f"{k} {n}→{OCCASIONS[code][2]}" for k, (code, n) in PERSONNEL_KINDS.items()))


@talks.command("raise", help="登记一项须谈话或走访的事由（支部书记）。")
@click.option("--occasion", required=True, type=click.Choice(list(OCCASIONS)), help="事由代码（ledger talks occasions）")
@click.option("--person", required=True, help="人员编号")
@click.option("--branch", required=True, help="该人员所在支部")
@click.option("--date", required=True, help="事由发生日期 YYYY-MM-DD")
@click.option("--actor", required=True, help="登记人")
def talks_raise(**fields: Any) -> None:
    run_op("raise_occasion", lambda oid: f"事由已登记，编号 {oid}", **fields)


@talks.command("answer", help="记录回应某事由的谈话或走访（支部书记）；摘要加密后入账。")
@click.option("--occasion-id", "occasion_id", required=True, help="事由编号")
@click.option("--branch", required=True, help="事由所属支部")
@click.option("--by", "conducted_by", required=True, help="谈话或走访人")
@click.option("--date", required=True, help="谈话或走访日期 YYYY-MM-DD")
@click.option("--summary", required=True, help="摘要；写 - 则从标准输入读取（不留在命令历史中）")
@click.option("--actor", required=True, help="记录人")
def talks_answer(summary: str, **fields: Any) -> None:
    text = sys.stdin.read().strip() if summary == "-" else summary
    run_op("answer_occasion", lambda oid: f"已记录，事由 {oid} 完成（摘要已加密）", summary=text, **fields)


@talks.command("personnel", help="登记人事事项（人力资源部）：处分、批评、降职、升职、岗位变动，自动生成谈话事由。")
@click.option("--person", required=True, help="人员编号")
@click.option("--branch", required=True, help="该人员所在支部")
@click.option("--kind", required=True, type=click.Choice(list(PERSONNEL_KINDS)), help="事项类别")
@click.option("--date", required=True, help="决定日期 YYYY-MM-DD")
@click.option("--actor", required=True, help="登记人")
def talks_personnel(**fields: Any) -> None:
    run_op("record_personnel_event", lambda oid: f"人事事项已登记，谈话事由编号 {oid}", **fields)


@person.command("erase", help="销毁某人的谈话走访摘要密钥：其摘要永久不可读，账本与证明不受影响。")
@click.argument("person_id")
@click.option("--actor", required=True, help="操作人")
@click.option("--reason", default=None, help="原因（记入账本）")
def person_erase(person_id: str, actor: str, reason: str | None) -> None:
    write(lambda ledger: ledger.execute(ErasePersonKey(person=person_id, reason=reason, actor=actor)),
           lambda new: f"{person_id} 的密钥已销毁" + ("" if new else "（此前已记录销毁，本次再次清除密钥库）"))


@person.command("erased", help="列出账本记录的已销毁密钥的人员；--reapply 再次清除其密钥（如从备份恢复密钥库之后）。")
@click.option("--reapply", is_flag=True, help="在密钥库中再次删除这些人员的密钥")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def person_erased(reapply: bool, as_json: bool) -> None:
    model = fold_log(CareModel(), None)
    rows = sorted(model.erased.values(), key=lambda e: e["person"])
    if reapply:
        vault = existing_ledger().vault
        for e in rows:
            vault.erase(e["person"])
    emit({"erased": rows, "reapplied": reapply}, as_json, lambda d: "\n".join(
        [f"{e['person']}  由 {e['actor']} 销毁（日志位置 {e['position']}）{'：' + e['reason'] if e['reason'] else ''}"
         for e in d["erased"]] or ["（无）"]) + ("\n已在密钥库中再次清除" if d["reapplied"] else ""))


@main.group("keystore", help="谈话走访摘要的密钥库（LEDGER_KEYSTORE，默认当前目录 ledger-keys.sqlite3）。")
def keystore() -> None:
    pass


@keystore.command("backup", help="把密钥库备份到 FILE（与账本备份分开保存）。")
@click.argument("file")
def keystore_backup(file: str) -> None:
    count = existing_ledger().vault.backup(file)  # type: ignore[union-attr]  # the KeyStore
    click.echo(f"已备份 {count} 把密钥到 {file}；请与账本备份分开保存")
