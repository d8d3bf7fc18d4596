"""命令行 ``ledger backup`` / ``ledger restore``: the whole ledger — database, signing key,
person key store, appeals' attachments — into a directory with a manifest, and back, verified (adapters/store/backup.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from adapters.bootstrap import database_url
from adapters.cli.main import main
from domain.errors import LedgerError

SECRET_NOTE = ("备份目录含签名私钥与个人密钥库（谈话走访摘要的密钥），属机密：文件权限 0600，"
               "请限制访问，并与普通数据分开妥善保管。")


def _refuse(error: LedgerError, as_json: bool) -> NoReturn:
    """The refusal as every command prints one (``错误：字段 F：reason``), exit 1."""
    if as_json:
        click.echo(json.dumps({"errors": [{"line": 0, "field": error.field, "reason": error.reason}]},
                              ensure_ascii=False, indent=2))
    else:
        field = f"字段 {error.field}：" if error.field else ""
        click.echo(f"错误：{field}{error.reason}", err=True)
    sys.exit(1)


def emit(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _checkpoint_text(cp: dict[str, Any] | None) -> str:
    return "无检查点" if cp is None else f"最新检查点第 {cp['number']} 个（覆盖 {cp['size']} 个事件）"


def _attachments_text(a: dict[str, Any]) -> str:
    if a["named"] == 0:
        return "  申诉附件：无（日志中的申诉没有附件）"
    return (f"  申诉附件：{a['folder']}/（{a['files']} 个文件，共 {a['bytes']} 字节，"
            f"日志中的申诉共附 {a['named']} 个文件，来自 {a['source']}）")


@main.command("backup", help="备份整个账本到一个新目录（--to）：数据库的全部账本表"
                             "（SQLite 用在线备份，PostgreSQL 在一个快照中逐表导出）、"
                             "签名私钥（LEDGER_SIGNING_KEY）、个人密钥库（LEDGER_KEYSTORE）、日志中申诉所附的文件（LEDGER_ATTACHMENTS）"
                             "和备份清单 manifest.json"
                             "（各文件大小与 SHA-256、各表行数、备份时的日志大小与默克尔根、最新签名检查点）。"
                             "只读：不新建数据库或密钥。" + SECRET_NOTE)
@click.option("--to", "directory", type=click.Path(path_type=Path), required=True,
              help="备份目录（须不存在或为空；以 0700 权限新建）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出备份清单")
def backup_cmd(directory: Path, as_json: bool) -> None:
    from adapters.store.backup import backup
    try:
        manifest = backup(database_url(), directory)
    except LedgerError as e:
        _refuse(e, as_json)
    log, keystore = manifest["log"], manifest["keystore"]
    rows = sum(t["rows"] for t in manifest["tables"].values())
    kind = "SQLite 在线备份" if manifest["source"]["dialect"] == "sqlite" else "PostgreSQL 快照逐表导出"
    lines = [f"已备份到 {directory}：",
             f"  数据库（{kind}）：{len(manifest['tables'])} 个表，共 {rows} 行",
             f"  签名私钥：{manifest['signing_key']['file']}（公钥 {manifest['signing_key']['verifier_key']}）",
             f"  个人密钥库：{keystore['file']}（{keystore['keys']} 把密钥）" if keystore else
             f"  个人密钥库：本机没有 {manifest['keystore_absent']}（从未记录谈话走访摘要），备份中不含",
             _attachments_text(manifest["attachments"]),
             f"  备份清单：manifest.json（日志 {log['size']} 个事件，根哈希 {log['root']}，"
             f"{_checkpoint_text(log['checkpoint'])}）"]
    for item in manifest["attachments"]["unavailable"]:
        lines.append(f"  警告：日志中申诉的附件 {item['name']}（SHA-256 {item['sha256']}）在附件库中"
                     f"{'缺失' if item['status'] == 'missing' else '已被替换'}，未能备份；从此备份恢复的账本将核验不通过")
    if manifest["other_tables"]:
        lines.append(f"  数据库中另有不属于账本的表，未备份：{'、'.join(manifest['other_tables'])}")
    if log["checkpoint"] is None or log["checkpoint"]["size"] != log["size"]:
        lines.append("  提示：最新检查点未覆盖备份时的全部事件；如需备份时的根哈希有签名，请先运行 ledger checkpoint 再备份")
    lines.append("注意：" + SECRET_NOTE)
    emit(manifest, as_json, "\n".join(lines))


@main.command("restore", help="从备份目录（--from）恢复账本：先核对备份清单中每个文件的大小与 SHA-256"
                              "（缺失或不符则拒绝，什么也不写），"
                              "目标须为空（LEDGER_DATABASE_URL 中没有账本数据，LEDGER_SIGNING_KEY 与 LEDGER_KEYSTORE 不存在），"
                              "恢复数据库、签名私钥、个人密钥库与申诉附件后完整核验"
                              "（日志中申诉所附的每个文件须在附件库中且 SHA-256 相符），"
                              "并与备份清单中的日志大小、根哈希、最新检查点和各表行数对照；"
                              "任何不符均报告并以非零状态退出。" + SECRET_NOTE)
@click.option("--from", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="备份目录（ledger backup --to 写的）")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="信任的验证公钥文件（每行一个）：日志登记的第一个公钥须在其中；不给则按日志自己登记的公钥核验")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def restore_cmd(directory: Path, key_file: Path | None, as_json: bool) -> None:
    from adapters.integrity.verify import PROBLEM_NAMES
    from adapters.store.backup import restore
    trusted = [] if key_file is None else [
        line.strip() for line in key_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    try:
        restored = restore(database_url(), directory, trusted)
    except LedgerError as e:
        _refuse(e, as_json)
    d = restored.as_dict()
    log = d["manifest"]
    lines = [f"已从 {directory} 恢复：",
             f"  数据库：{d['database']}（{len(d['tables'])} 个表，共 {sum(d['tables'].values())} 行）",
             f"  签名私钥：{d['signing_key']}",
             f"  个人密钥库：{d['keystore']}（{d['keys']} 把密钥）" if d["keystore"]
             else "  个人密钥库：备份中没有（备份时本机没有密钥库）",
             f"  申诉附件：{d['attachments']['folder']}（恢复 {d['attachments']['restored']} 个文件，"
             f"日志中的申诉共附 {d['attachments']['named']} 个）" if d["attachments"]["named"]
             else "  申诉附件：无（日志中的申诉没有附件）"]
    if d["erasures_reapplied"]:
        lines.append(f"  按日志记录的销毁，再次清除了 {d['erasures_reapplied']} 人的密钥")
    lines.append(f"核验：已核验 {d['events']} 个事件、{d['checkpoints']} 个检查点、{d['approvals']} 项审批。")
    if restored.ok:
        lines.append(f"与备份清单对照：日志 {log['size']} 个事件、根哈希 {log['root']} 相同，"
                     f"{_checkpoint_text(log['checkpoint'])}{'在日志中' if log['checkpoint'] else ''}，各表行数相同"
                     f"{'，申诉附件齐全且 SHA-256 相符' if d['attachments']['named'] else ''}。全部相符。")
    else:
        lines.append(f"恢复后的核验未通过，发现 {len(d['problems'])} 处不符：")
        lines += [f"  - {PROBLEM_NAMES.get(p['kind'], p['kind'])}（{p['kind']}）："
                  + (f"位置 {p['position']}，" if p["position"] is not None else "") + p["detail"]
                  for p in d["problems"][:20]]
        lines.append("已恢复的内容留在原处供检查，请勿投入使用。")
    emit(d, as_json, "\n".join(lines))
    if not restored.ok:
        sys.exit(1)
