"""命令行 ``ledger``: the tamper-evidence commands — keys, checkpoints, proofs, verification."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from adapters.bootstrap import engine_of
from adapters.cli.common import LineError, emit, existing_ledger, fail, run, verifier_keys
from adapters.cli.main import main

# -- tamper evidence: keys, checkpoints, proofs, verification ---------------------------------


@main.group(help="签名密钥：显示账本公钥、为见证方（纪检监察部）生成密钥。")
def key() -> None:
    pass


@key.command("show", help="显示账本日志登记的当前验证公钥（可张贴公示，供他人核验检查点）；--all 列出历次登记的公钥。")
@click.option("--all", "every", is_flag=True, help="列出日志登记过的全部公钥（最早的在前）")
def key_show(every: bool) -> None:
    from adapters.store.tree import key_path, load_existing_signer
    declared = existing_ledger().recorder.declared_keys()  # type: ignore[attr-defined]
    if not declared:
        fail([LineError(0, "LEDGER_DATABASE_URL", "账本日志中没有登记签名公钥：请运行 ledger init 登记")], False)
    click.echo("\n".join(declared if every else declared[-1:]))
    path = key_path()
    if not path.is_file():
        click.echo(f"（本机没有私钥文件 {path}：只能核验，不能签名）", err=True)
    elif _signer_or_none(load_existing_signer) != declared[-1]:
        click.echo(f"警告：私钥文件 {path} 不是账本登记的当前签名密钥", err=True)
    else:
        click.echo(f"（私钥文件：{path}）", err=True)


def _signer_or_none(load: Any) -> str | None:
    from domain.errors import LedgerError
    try:
        return str(load().verifier_key)
    except LedgerError:
        return None


@key.command("generate", help="生成见证方密钥（私钥写入 OUT，打印其验证公钥）。")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="私钥文件")
@click.option("--name", required=True, help="密钥名称，如 jijian-witness")
def key_generate(out: Path, name: str) -> None:
    from adapters.store.tree import load_or_create_signer
    if out.exists():
        fail([LineError(0, "out", f"{out} 已存在，不会覆盖")], False)
    click.echo(load_or_create_signer(out, name).verifier_key)


@main.group("checkpoint", invoke_without_command=True,
            help="检查点：对当前日志签名（不带子命令时立即生成一个）。")
@click.option("--reason", default="on demand", show_default=True, help="生成原因")
@click.pass_context
def checkpoint(ctx: click.Context, reason: str) -> None:
    if ctx.invoked_subcommand is None:
        from adapters.store.checkpoints import issue_checkpoint
        ledger = existing_ledger()
        row = run(lambda: issue_checkpoint(ledger, ledger.default_user, reason))
        click.echo(row["note"], nl=False)
        if not row["made"]:
            click.echo(f"（第 {row['number']} 个检查点已覆盖全部 {row['size']} 个事件，未签发新检查点）", err=True)


@checkpoint.command("show", help="显示第 N 个检查点（默认最新）。")
@click.argument("number", type=int, required=False)
def checkpoint_show(number: int | None) -> None:
    from adapters.store.proofs import ProofError, TreeReader
    try:
        click.echo(TreeReader(engine_of(existing_ledger())).checkpoint(number).note, nl=False)
    except ProofError as e:
        fail([LineError(0, None, str(e))], False)


@checkpoint.command("cosign", help="见证方（纪检监察部）用自己的密钥为检查点加签：只会签经一致性证明延续其上次会签的检查点"
                                   "（见证方存储 LEDGER_MONITOR_STORE，在账本数据库之外）；分叉则拒签并给出证据。")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="见证方私钥文件")
@click.option("--name", required=True, help="见证方密钥名称")
@click.option("--number", type=int, default=None, help="检查点序号（默认最新）")
@click.option("--store", default=None, envvar="LEDGER_MONITOR_STORE", help="见证方存储（SQLite 文件或数据库 URL）")
def checkpoint_cosign(key_file: Path, name: str, number: int | None, store: str | None) -> None:
    from adapters.cli.group import cosign_ledger, observation_text
    from adapters.integrity.monitor import WitnessError
    from adapters.store.tree import load_or_create_signer
    ledger = existing_ledger()
    run(lambda: ledger.require_role(ledger.default_user, "auditor", "会签检查点"))
    try:
        result, _ = cosign_ledger(ledger, store, load_or_create_signer(key_file, name), number)
    except WitnessError as e:
        fail([LineError(0, e.field, e.reason)], False)
    if not result.ok:
        click.echo(observation_text(result.as_dict()), err=True)
        sys.exit(2 if result.evidence else 1)
    if result.held is not None and result.held.cosigned:
        click.echo(result.held.cosigned, nl=False)


@main.command("verify", help="从存储的事件重算全部叶子、树、检查点与审批结果，重折读取所用的视图，"
                              "按当时的角色与各聚合的规则重放每个事件，核对记录时间的先后与申诉所附的文件；报告每一处不符（位置与种类）。")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="信任的验证公钥文件（每行一个）：日志登记的第一个公钥须在其中；不给则按日志自己登记的公钥核验")
@click.option("--witness-key", "witness", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="见证方验证公钥文件")
@click.option("--against", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="已公布的签名检查点文件：日志须仍含有它（同大小同根，由事件重算）")
@click.option("--require-witness", "required", multiple=True, help="见证方名称：其登记后的每个检查点都须有其会签")
@click.option("--attachments", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="附件库目录：日志中每个事件所附的文件须在其中且 SHA-256 相符（默认 LEDGER_ATTACHMENTS，"
                   "或 SQLite 数据库旁的 .attachments 目录）；找不到则报告附件未核验")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def verify(key_file: Path | None, witness: tuple[Path, ...], against: tuple[Path, ...], required: tuple[str, ...],
           folder: Path | None, as_json: bool) -> None:
    from adapters.integrity.verify import PROBLEMS_SHOWN, problem_text, verify_ledger
    from adapters.integrity.verify_witness import check_against, check_witness
    from adapters.store.attachments import AttachmentStore, attachments_path
    ledger = existing_ledger()
    engine = engine_of(ledger)
    trusted, witnesses = verifier_keys(key_file), [k for w in witness for k in verifier_keys(w)]
    shelf = getattr(ledger, "attachments", None)
    folder = folder or (shelf.root if isinstance(shelf, AttachmentStore) else attachments_path(None))
    report = verify_ledger(engine, trusted, witnesses, attachments=folder)
    if report.events == 0:
        fail([LineError(0, "LEDGER_DATABASE_URL", "账本中没有任何事件：这不是一个已初始化的账本，无可核验"
                                                  "（请检查 LEDGER_DATABASE_URL）")], as_json)
    # The ledger's keys: those trusted (verify reports key_untrusted if the log's first is not
    # among them) and the ones the log declares after it (rotations).
    ledger_keys = list(dict.fromkeys(trusted + ledger.recorder.declared_keys()))  # type: ignore[attr-defined]
    keys = ledger_keys + witnesses
    report.problems += check_against(engine, [(str(f), f.read_text(encoding="utf-8")) for f in against], keys)
    for name in required:
        report.problems += check_witness(engine, name, keys, ledger_keys)
    first = report.first()
    data = {"ok": report.ok, "events": report.events, "checkpoints": report.checkpoints,
            "approvals": report.approvals, "attachments": report.attachments,
            "attachments_checked": report.attachments_checked,
            "signatures": {str(k): v for k, v in report.signatures.items()},
            "first_problem": None if first is None else first.__dict__,
            "problems": [p.__dict__ for p in report.problems]}
    def text(d: dict[str, Any]) -> str:
        files = f"、{d['attachments_checked']} 个附件" if d["attachments_checked"] else ""
        head = f"已核验 {d['events']} 个事件、{d['checkpoints']} 个检查点、{d['approvals']} 项审批{files}。"
        if d["ok"]:
            return head + "全部相符。"
        lines = [head, f"发现 {len(d['problems'])} 处不符，第一处：", "  " + problem_text(d["first_problem"])]
        lines += ["  - " + problem_text(q) for q in d["problems"][1:PROBLEMS_SHOWN]]
        if len(d["problems"]) > PROBLEMS_SHOWN:
            lines.append(f"  ……另有 {len(d['problems']) - PROBLEMS_SHOWN} 处（--json 列出全部）")
        return "\n".join(lines)
    emit(data, as_json, text)
    if not report.ok:
        sys.exit(1)


@main.command("prove", help="输出事件的包含证明（EVENT_ID：条目编号或日志位置），或两个检查点间的一致性证明。")
@click.argument("event_id", required=False)
@click.option("--checkpoint", "number", type=int, default=None, help="第 N 个检查点（默认最新）")
@click.option("--consistency", nargs=2, type=str, default=None,
              help="OLD NEW：两个检查点的序号；OLD 也可以是已公布的签名检查点文件，NEW 可为 latest")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="写入文件")
def prove(event_id: str | None, number: int | None, consistency: tuple[str, str] | None, out: Path | None) -> None:
    from adapters.integrity.verify_witness import consistency_from_published
    from adapters.store.proofs import ProofError, TreeReader, consistency_bundle, inclusion_bundle
    reader = TreeReader(engine_of(existing_ledger()))
    try:
        if consistency:
            old, new = consistency
            newest = None if new == "latest" else int(new) if new.isascii() and new.isdigit() else None
            if newest is None and new != "latest":
                raise ProofError(f"NEW 应为检查点序号或 latest，不是 {new!r}")
            if old.isascii() and old.isdigit():
                bundle = consistency_bundle(reader, int(old), newest)
            elif Path(old).is_file():
                bundle = consistency_from_published(reader, Path(old).read_text(encoding="utf-8"), newest)
            else:
                raise ProofError(f"OLD 应为检查点序号或已公布的检查点文件，{old!r} 都不是")
        elif event_id:
            bundle = inclusion_bundle(reader, _position(reader, event_id), number)
        else:
            raise ProofError("需要 EVENT_ID 或 --consistency OLD NEW")
    except ProofError as e:
        fail([LineError(0, None, str(e))], False)
    _write_bundle(bundle, out)


def _position(reader: Any, event_id: str) -> int:
    return int(event_id) if event_id.isdigit() else reader.position_of_entry(event_id)


def _write_bundle(bundle: dict[str, Any], out: Path | None) -> None:
    data = json.dumps(bundle, ensure_ascii=False, indent=2)
    if out is None:
        click.echo(data)
    else:
        out.write_text(data + "\n", encoding="utf-8")
        click.echo(f"已写入 {out}", err=True)


@main.command("receipt", help="为事件（如自己提交的申诉）开具回执：事件、叶子哈希、检查点与包含证明，可离线核验。")
@click.argument("event_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="写入文件")
def receipt(event_id: str, out: Path | None) -> None:
    from adapters.store.checkpoints import REQUESTED_NOTE, receipt_bundle
    from adapters.store.proofs import ProofError, TreeReader, event_leaf
    ledger = existing_ledger()
    reader = TreeReader(engine_of(ledger))
    try:
        position = _position(reader, event_id)
        bundle = run(lambda: receipt_bundle(ledger, reader, position, ledger.default_user, event_id))
    except ProofError as e:
        fail([LineError(0, None, str(e))], False)
    bundle["leaf_hash"] = event_leaf(bundle["event"]).hex()
    if bundle["checkpoint_requested"]:
        click.echo(REQUESTED_NOTE, err=True)
    _write_bundle(bundle, out)


@main.command("verify-proof", help="离线核验证明文件：只需证明文件与一个你信任的验证公钥，不需要数据库。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="验证公钥文件（ledger key show 的输出）")
def verify_proof(file: Path, key_file: Path) -> None:
    from adapters.store.proofs import ProofError, verify_bundle
    try:
        bundle = json.loads(file.read_text(encoding="utf-8"))
        click.echo(verify_bundle(bundle, key_file.read_text(encoding="utf-8").strip()))
    except (ProofError, ValueError) as e:
        click.echo(f"不成立：{e}", err=True)
        sys.exit(1)


@main.group(help="审计：导出一段日志及其证明，供纪检监察部离线核验。")
def audit() -> None:
    pass


@audit.command("export", help="导出位置 FROM 至 TO 的全部事件、叶子哈希、覆盖它们的检查点与包含证明。")
@click.option("--from", "first", type=int, required=True, help="起始日志位置")
@click.option("--to", "last", type=int, required=True, help="结束日志位置")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="输出文件")
@click.option("--checkpoint", "number", type=int, default=None, help="第 N 个检查点（默认最新）")
def audit_export(first: int, last: int, out: Path, number: int | None) -> None:
    from adapters.store.proofs import ProofError, TreeReader, audit_bundle
    try:
        bundle = audit_bundle(TreeReader(engine_of(existing_ledger())), first, last, number)
    except ProofError as e:
        fail([LineError(0, None, str(e))], False)
    _write_bundle(bundle, out)


@key.command("rotate", help="更换账本签名密钥（系统管理员）：在日志中登记新公钥，并签发一个由新密钥签名、旧密钥会签的检查点。")
@click.option("--new-key", "new_key", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="新私钥文件（不存在则生成）；之后请把 LEDGER_SIGNING_KEY 指向它，并重启服务")
@click.option("--reason", required=True, help="更换原因")
@click.option("--actor", default=None, help="操作人（默认执行用户）")
def key_rotate(new_key: Path, reason: str, actor: str | None) -> None:
    from adapters.store.tree import load_existing_signer, load_or_create_signer, origin
    ledger = existing_ledger()
    old = run(lambda: ledger.recorder.signer())  # type: ignore[attr-defined]  # the key in force, checked
    new = run(lambda: load_existing_signer(new_key) if new_key.exists() else load_or_create_signer(new_key, origin()))
    run(lambda: ledger.command("rotate_signing_key", verifier_key=new.verifier_key, reason=reason,
                                actor=actor or ledger.default_user or "system"))
    row = ledger.recorder.make_checkpoint("key rotation", extensions=[f"new-key {new.verifier_key}"],  # type: ignore[attr-defined]
                                          signer=new)
    click.echo(ledger.recorder.cosign(row["number"], old), nl=False)  # type: ignore[attr-defined]
    click.echo(f"旧公钥：{old.verifier_key}\n新公钥：{new.verifier_key}\n"
               f"请把 LEDGER_SIGNING_KEY 指向 {new_key} 并重启服务；旧私钥不再签名。", err=True)


@main.command("writer-role", help="PostgreSQL：打印（或用 --create 创建）最小权限的写入角色。")
@click.argument("role")
@click.option("--create", is_flag=True, help="直接在数据库中创建")
def writer_role(role: str, create: bool) -> None:
    from sqlalchemy import text as sql_text

    from adapters.store.tree import writer_role_sql
    statements = writer_role_sql(role)
    if create:
        with engine_of(existing_ledger()).begin() as conn:
            for statement in statements:
                conn.execute(sql_text(statement))
    click.echo(";\n".join(statements) + ";")
