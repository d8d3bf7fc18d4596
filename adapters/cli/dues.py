"""命令行 ``ledger dues``: party dues (党费) — bases, payments, arrears, and the half-yearly
statement published with a signed checkpoint, exported to Excel and verified."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from adapters.bootstrap import engine_of
from adapters.cli.common import (
    AsOf,
    LineError,
    emit,
    existing_ledger,
    fail,
    fold_log,
    replay_note,
    replay_options,
    run,
    run_op,
    stamp,
    verifier_keys,
)
from adapters.cli.main import main
from adapters.store.logreader import LogReader
from domain.errors import InvalidInput
from domain.members.dues import CATEGORY_NAMES, CHANNEL_NAMES
from domain.periods import check_half, check_year
from projections.dues import DuesModel, dues_json, publication


@main.group(help="党费：核定基数、登记交纳、计算欠交与多交；每半年公示并签名检查点，导出 Excel，事后核验。")
def dues() -> None:
    pass


def _period(value: str) -> str:
    if "H" in value:
        return check_half(value, "period")
    try:
        return check_year(value, "period")
    except InvalidInput:
        raise InvalidInput(f"期间应为年份 YYYY 或半年 YYYYHn（如 2019H1），收到 {value!r}", "period") from None


@dues.command("show", help="某支部某年或半年各党员每月应交、已交、欠交、多交，如 ledger dues show 2019H1 --branch REPAIR")
@click.argument("period")
@click.option("--branch", required=True, help="支部代码")
@click.option("--person", default=None, help="只看一名党员（逐月明细与交纳记录）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def dues_show(period: str, branch: str, person: str | None, as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: _period(period))
    model = fold_log(DuesModel(), as_of)
    data = run(lambda: dues_json(model, period, branch, person))
    emit(stamp(data, model, as_of), as_json, _show_text)


def _show_text(d: dict[str, Any]) -> str:
    t = d["totals"]
    lines = [f"{d['branch_name'] or d['branch']} {d['period']} 党费：{t['members']} 人，应交 {t['due']}，已交 {t['paid']}，"
             f"欠交 {t['arrears']}，多交 {t['overpaid']}（元）" + replay_note(d),
             f"  {'编号':<10}{'姓名':<6}{'月数':>4}{'应交':>10}{'已交':>10}{'欠交':>10}{'多交':>10}"]
    for m in d["members"]:
        note = f"  未核定：{', '.join(m['unassessed'])}" if m["unassessed"] else ""
        lines.append(f"  {m['person']:<10}{m['name']:<6}{m['months']:>5}{m['due']:>12}{m['paid']:>12}"
                     f"{m['arrears']:>12}{m['overpaid']:>12}{note}")
        if d["person"]:
            for line in m["lines"]:
                rate = f"{line['rate']}" if line["rate"] else "定额"
                base = (f"{CATEGORY_NAMES[line['category']]} 基数 {line['base']} × {rate}" if line["assessed"]
                        else "未核定")
                lines.append(f"      {line['month']} {base} → 应交 {line['due'] or '-'}，已交 {line['paid']}"
                             + (f"，欠交 {line['arrears']}" if line["arrears"] != "0.00" else "")
                             + (f"，多交 {line['overpaid']}" if line["overpaid"] != "0.00" else ""))
            for p in m["payments"]:
                state = f" [已作废：{p['voided']['reason']}]" if p["voided"] else ""
                lines.append(f"      交纳 {p['paid_on']} {p['amount']} 元（{p['month']}，{p['channel_name']}，"
                             f"{p['actor']}，位置 {p['position']}）{state}")
    for p in d["publications"]:
        lines.append(f"  已公示：{p['half']} 第 {p['number']} 次（日志位置 {p['position']}，摘要 {p['statement_hash'][:16]}…）")
    return "\n".join(lines)


@dues.command("base", help="核定党员党费基数（自某月起）：在职 salaried 税后月工资，离退休 retired 离退休费，无收入 no_income。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--person", required=True, help="人员编号")
@click.option("--from", "from_month", required=True, help="自某月 YYYY-MM 起")
@click.option("--category", type=click.Choice(list(CATEGORY_NAMES)), required=True, help="收入类别")
@click.option("--base", default="0", show_default=True, help="月基数（元，最多两位小数）")
@click.option("--actor", required=True, help="经办人")
def dues_base(from_month: str, **fields: Any) -> None:
    run_op("set_dues_base", lambda p: f"{p} 的党费基数已核定", **fields, **{"from": from_month})


@dues.command("pay", help="登记一笔党费交纳：金额、所交月份、方式、交纳日期。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--person", required=True, help="人员编号")
@click.option("--month", required=True, help="所交月份 YYYY-MM")
@click.option("--amount", required=True, help="金额（元）")
@click.option("--channel", type=click.Choice(list(CHANNEL_NAMES)), required=True, help="交纳方式")
@click.option("--paid-on", "paid_on", required=True, help="交纳日期 YYYY-MM-DD")
@click.option("--actor", required=True, help="经办人")
@click.option("--key", default=None, help="幂等键（可选）")
def dues_pay(**fields: Any) -> None:
    run_op("record_dues_payment", lambda p: f"已登记，交纳记录编号 {p}", **fields)


def _model_upto(position: int | None) -> DuesModel:
    reader = LogReader(engine_of(existing_ledger()))
    return DuesModel().apply_all(reader.read(upto=position, topic_suffixes=DuesModel.topic_filter()))  # type: ignore[return-value]


def _published(branch: str, half: str, number: int | None, as_json: bool, as_of: AsOf | None = None) -> dict[str, Any]:
    """The publication's bundle (statement, publication, proof)."""
    from adapters.exports.dues_sheet import bundle_of
    from adapters.store.proofs import ProofError
    model = fold_log(DuesModel(), as_of)
    p = publication(model, branch, half, number)
    if p is None:
        fail([LineError(0, "half", f"支部 {branch} {half} 尚未公示" + (f"第 {number} 次" if number else "")
                         + f"（查看当前数据：ledger dues show {half} --branch {branch}）")], as_json)
    try:
        return bundle_of(engine_of(existing_ledger()), p)  # type: ignore[arg-type]
    except ProofError as e:
        fail([LineError(0, None, str(e))], as_json)
        raise


def _export(bundle: dict[str, Any], xlsx: Path | None, out: Path | None) -> None:
    from adapters.exports.dues_sheet import write_xlsx
    if xlsx is not None:
        write_xlsx(bundle, xlsx)
        click.echo(f"已导出 Excel：{xlsx}", err=True)
    if out is not None:
        out.write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(f"已导出核验文件：{out}", err=True)


def _statement_text(b: dict[str, Any]) -> str:
    from adapters.exports.dues_sheet import half_name
    s, pub, proof = b["statement"], b["publication"], b["proof"]
    lines = [f"{s['branch_name']}（{s['branch']}）{half_name(s['half'])}党费收缴情况公示"
             f"（第 {pub['number']} 次；{s['months'][0]} 至 {s['months'][-1]}；单位：元）",
             f"{'序号':>4}  {'编号':<10}{'姓名':<6}{'月数':>4}{'应交':>10}{'已交':>10}{'欠交':>10}{'多交':>10}"]
    for n, r in enumerate(s["rows"], start=1):
        lines.append(f"{n:>6}  {r['person']:<10}{r['name']:<6}{r['months']:>5}{r['due']:>12}{r['paid']:>12}"
                     f"{r['arrears']:>12}{r['overpaid']:>12}")
    t = s["totals"]
    lines.append(f"{'合计':>4}  {t['members']:>3} 人{'':<13}{t['due']:>12}{t['paid']:>12}{t['arrears']:>12}{t['overpaid']:>12}")
    lines.append(f"摘要（SHA-256）：{pub['statement_hash']}")
    lines.append(f"记录于日志位置 {pub['position']}（叶子 {proof['leaf_index']}），由以下签名检查点覆盖：")
    lines.extend("  " + line for line in proof["checkpoint"].rstrip("\n").splitlines())
    lines.append("核验：ledger dues verify 导出的文件 --key 账本公钥文件（公钥：ledger key show）")
    return "\n".join(lines)


@dues.command("publish", help="公示某支部半年的党费收缴情况（应交、已交、欠交），记录为事件并签名检查点，"
                              "如 ledger dues publish 2019H1 --branch REPAIR --actor 书记 --xlsx 公示.xlsx")
@click.argument("half")
@click.option("--branch", required=True, help="支部代码")
@click.option("--actor", required=True, help="经办人")
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None, help="同时导出 Excel 文件")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="同时导出 JSON 核验文件")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（公示内容、记录与包含证明）")
def dues_publish(half: str, branch: str, actor: str, xlsx: Path | None, out: Path | None, as_json: bool) -> None:
    run(lambda: check_half(half), as_json)
    ledger = existing_ledger()
    number = run(lambda: ledger.command("publish_dues", branch=branch, half=half, actor=actor), as_json)
    bundle = _published(branch, half, number, as_json)
    _export(bundle, xlsx, out)
    emit(bundle, as_json, _statement_text)


@dues.command("statement", help="打印已公示的党费收缴情况及其检查点（默认最近一次），可导出 Excel，"
                                "如 ledger dues statement 2019H1 --branch REPAIR --xlsx 公示.xlsx")
@click.argument("half")
@click.option("--branch", required=True, help="支部代码")
@click.option("--number", type=int, default=None, help="第 N 次公示（默认最近一次）")
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None, help="导出 Excel 文件")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="导出 JSON 核验文件")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def dues_statement(half: str, branch: str, number: int | None, xlsx: Path | None, out: Path | None,
                   as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: check_half(half), as_json)
    bundle = _published(branch, half, number, as_json, as_of)
    _export(bundle, xlsx, out)
    emit(bundle, as_json, _statement_text)


@dues.command("verify", help="核验张贴的党费公示（导出的 .xlsx 或 JSON）：内容与摘要、日志事件、签名检查点；"
                             "有账本时再由公示前的记录重算比对。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="信任的验证公钥文件（每行一个；默认为账本日志登记的公钥）")
@click.option("--offline", is_flag=True, help="不连接账本数据库，只用文件和公钥核验")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def dues_verify(file: Path, key_file: Path | None, offline: bool, as_json: bool) -> None:
    from adapters.exports.dues_sheet import LedgerChecks, read_bundle, verify_publication
    from adapters.store.proofs import ProofError
    try:
        bundle = read_bundle(file)
    except (ProofError, KeyError, TypeError, ValueError) as e:
        fail([LineError(0, "file", f"无法读取公示文件：{e}")], as_json)
        raise
    if offline and key_file is None:
        fail([LineError(0, "key", "离线核验须用 --key 给出信任的公钥")], as_json)
    opened = None if offline else existing_ledger()
    ledger = None if opened is None else LedgerChecks(engine_of(opened), _model_upto)
    keys = verifier_keys(key_file) if key_file is not None else opened.recorder.declared_keys()  # type: ignore[union-attr]
    checks = verify_publication(bundle, keys, ledger)
    ok = all(c["ok"] is not False for c in checks)
    pub = bundle["publication"]
    data = {"ok": ok, "branch": pub["branch"], "half": pub["half"], "number": pub["number"],
            "statement_hash": pub["statement_hash"], "position": pub["position"], "checks": checks}

    def text(d: dict[str, Any]) -> str:
        head = (f"支部 {d['branch']} {d['half']} 第 {d['number']} 次党费公示（日志位置 {d['position']}）："
                + ("核验通过。" if d["ok"] else "核验不通过。"))
        marks = {True: "✓", False: "✗", None: "·"}
        return "\n".join([head, *(f"  {marks[c['ok']]} {c['what']}：{c['detail']}" for c in d["checks"])])
    emit(data, as_json, text)
    if not ok:
        sys.exit(1)
