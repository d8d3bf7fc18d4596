"""命令行 ``ledger``: publishing checkpoints and results, the witness (``ledger monitor``,
``ledger witness``) and the group ledger (``ledger group``). Mechanisms: adapters/integrity/monitor.py,
adapters/integrity/group.py; docs/witness-and-group.md."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from adapters.bootstrap import engine_of
from adapters.cli.common import LineError, emit, existing_ledger, fail, run
from adapters.cli.main import main
from adapters.integrity.monitor import WitnessError


def _refuse(e: WitnessError, as_json: bool = False) -> None:
    fail([LineError(0, e.field, e.reason)], as_json)


def write(data: Any, out: Path | None) -> None:
    body = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(body, nl=False)
    else:
        out.write_text(body, encoding="utf-8")
        click.echo(f"已写入 {out}", err=True)


def _one_key(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise WitnessError(f"{path} 中没有公钥", "key")
    return lines[0]


def _witness_signer(key_file: Path | None, name: str | None, what: str) -> Any:
    from adapters.store.tree import load_or_create_signer
    if key_file is None or not name:
        raise WitnessError(f"{what}需要见证方私钥与名称（--key 与 --name，或环境变量）", "key")
    if not key_file.exists():
        raise WitnessError(f"见证方私钥文件 {key_file} 不存在（ledger key generate 生成）", "key")
    return load_or_create_signer(key_file, name)


# -- publishing (the company side) -----------------------------------------------------------------
@main.group("publish", help="公布：检查点发布包（含一致性证明）与季度、年度结果（含包含证明），供见证方与集团收取。")
def publish() -> None:
    pass


@publish.command("checkpoint", help="自大小 FROM_SIZE 起的全部检查点及相邻间的一致性证明。")
@click.option("--from-size", type=click.IntRange(min=0), default=0, show_default=True, help="见证方已持有的树大小")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="写入文件")
def publish_checkpoint(from_size: int, out: Path | None) -> None:
    from adapters.integrity.monitor import publication
    try:
        write(publication(engine_of(existing_ledger()), from_size), out)
    except WitnessError as e:
        _refuse(e)


def _publish_results(level: str, period: str, out: Path | None) -> None:
    from adapters.integrity.group import results_bundle
    ledger = existing_ledger()
    try:
        bundle = results_bundle(engine_of(ledger), level, period)
    except WitnessError:
        from adapters.store.checkpoints import request_checkpoint
        run(lambda: request_checkpoint(ledger, ledger.default_user, f"publish {level} {period}", "为公布结果请求检查点"))
        try:
            bundle = results_bundle(engine_of(ledger), level, period)
        except WitnessError as e:
            _refuse(e)
    write(bundle, out)


@publish.command("quarter", help="季度 PERIOD（如 2019Q3）已审批的排名：审批事件及其包含证明。")
@click.argument("period")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="写入文件")
def publish_quarter(period: str, out: Path | None) -> None:
    _publish_results("quarter", period, out)


@publish.command("year", help="年度 YEAR（如 2019）已审批的总评：审批事件及其包含证明。")
@click.argument("year")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="写入文件")
def publish_year(year: str, out: Path | None) -> None:
    _publish_results("year", year, out)


# -- the witness ---------------------------------------------------------------------------------
@main.group("witness", help="见证方登记与会签回收。")
def witness() -> None:
    pass


@witness.command("enroll", help="在日志中登记见证方：签署一个写明其公钥的检查点；此后每个检查点都应有其会签"
                                "（ledger verify --require-witness NAME 检查）。")
@click.option("--witness-key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="见证方验证公钥文件（ledger key generate 的输出）")
def witness_enroll(key_file: Path) -> None:
    from domain.integrity.note import NoteError, parse_verifier_key
    ledger = existing_ledger()
    run(lambda: ledger.require_role(ledger.default_user, "auditor", "登记见证方"))
    vkey = key_file.read_text(encoding="utf-8").strip().splitlines()[0].strip()
    try:
        name = parse_verifier_key(vkey).name
    except NoteError as e:
        fail([LineError(0, "witness_key", f"公钥无效：{e}")], False)
    row = ledger.recorder.make_checkpoint(f"witness enrolled {name}", extensions=[f"witness {vkey}"])  # type: ignore[attr-defined]
    click.echo(row["note"], nl=False)
    click.echo(f"已登记见证方 {name}（第 {row['number']} 个检查点起须有其会签）", err=True)


@witness.command("add-cosignatures", help="把见证方会签过的检查点（ledger monitor --cosigned-out 的文件）存入账本。")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def witness_add(files: tuple[Path, ...]) -> None:
    from adapters.integrity.monitor import add_cosignatures
    notes: list[str] = []
    for f in files:
        content = f.read_text(encoding="utf-8")
        notes += json.loads(content) if content.lstrip().startswith("[") else [content]
    try:
        added = add_cosignatures(engine_of(existing_ledger()), notes)
    except WitnessError as e:
        _refuse(e)
    click.echo(f"已存入 {added} 个会签")


def observation_text(d: dict[str, Any]) -> str:
    lines = [f"{d['origin']}：{d['verdict_text']}"]
    for a in d["accepted"]:
        lines.append(f"  接受大小 {a['size']} 的检查点（{'已会签' if a['cosigned'] else '未会签'}）")
    if d["held"]:
        lines.append(f"  本方持有：大小 {d['held']['size']}，根 {d['held']['root']}")
    if d["evidence"]:
        ev = d["evidence"]
        lines += [f"  证据：{ev['verdict_text']}——{ev['detail']}", "  —— 本方已见证的检查点 ——",
                  ev["held"].rstrip("\n"), "  —— 新的检查点 ——", ev["new"].rstrip("\n")]
    return "\n".join(lines)


def _source_bundle(from_file: Path | None, url: str | None, token: str | None, held_size: int | None) -> dict[str, Any]:
    from adapters.integrity.monitor import bundle_from_file, fetch_publication, http_get
    if (from_file is None) == (url is None):
        raise WitnessError("请给出 --from FILE 或 --url URL 之一", "from")
    if from_file is not None:
        return bundle_from_file(from_file.read_text(encoding="utf-8"))
    return fetch_publication(http_get(url or "", token), held_size or 0)


@main.group("monitor", invoke_without_command=True,
            help="纪检监察部的监督：取得账本最新检查点（文件或 HTTP），与本方持有的上一个检查点核对一致性，"
                 "一致则会签，分叉或回退则给出两份签名检查点为证（退出码非零）。本方存储在账本数据库之外。")
@click.option("--store", default=None, envvar="LEDGER_MONITOR_STORE", help="本方存储（SQLite 文件或数据库 URL）")
@click.option("--from", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="账本公布的文件：检查点发布包、一致性证明或签名检查点")
@click.option("--url", default=None, help="账本 ledger serve 的地址，如 http://127.0.0.1:8000")
@click.option("--token", default=None, envvar="LEDGER_MONITOR_TOKEN", help="HTTP 令牌")
@click.option("--log-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="账本的验证公钥文件（首次监督时必需，之后以本方存储的为准）")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="LEDGER_WITNESS_KEY", help="见证方私钥文件")
@click.option("--name", default=None, envvar="LEDGER_WITNESS_NAME", help="见证方密钥名称")
@click.option("--cosigned-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="把本次会签的检查点写入此文件（交账本 ledger witness add-cosignatures 存入）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_context
def monitor(ctx: click.Context, store: str | None, from_file: Path | None, url: str | None, token: str | None,
            log_key: Path | None, key_file: Path | None, name: str | None, cosigned_out: Path | None,
            as_json: bool) -> None:
    ctx.obj = store
    if ctx.invoked_subcommand is not None:
        return
    from adapters.integrity.monitor import WitnessStore, observe, store_url
    ws = WitnessStore(store_url(store))
    try:
        signer = _witness_signer(key_file, name, "监督")
        vkey = _one_key(log_key) if log_key else None
        origin = _origin_of(ws, vkey)
        held = ws.held(origin)
        bundle = _source_bundle(from_file, url, token, None if held is None else held.tree.size)
        result = observe(ws, origin, bundle, signer, vkey)
    except WitnessError as e:
        _refuse(e, as_json)
    finally:
        ws.close()
    data = result.as_dict()
    if cosigned_out is not None:
        write([a["cosigned"] for a in result.accepted if a["cosigned"]], cosigned_out)
    emit(data, as_json, observation_text)
    if not result.ok:
        sys.exit(2 if result.evidence else 1)


def _origin_of(ws: Any, vkey: str | None) -> str:
    from domain.integrity.note import NoteError, parse_verifier_key
    if vkey is not None:
        try:
            return parse_verifier_key(vkey).name
        except NoteError as e:
            raise WitnessError(f"账本公钥无效：{e}", "log_key") from None
    logs = ws.logs()
    if len(logs) != 1:
        raise WitnessError("本方存储中没有（或有多个）账本：用 --log-key 指定要监督的账本", "log_key")
    return str(logs[0]["origin"])


@monitor.command("evidence", help="列出本方存储中的全部分叉与回退证据（两份签名检查点）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_context
def monitor_evidence(ctx: click.Context, as_json: bool) -> None:
    from adapters.integrity.monitor import WitnessStore, store_url
    try:
        ws = WitnessStore(store_url(ctx.obj), create=False)
    except WitnessError as e:
        _refuse(e, as_json)
    try:
        found = ws.evidence()
    finally:
        ws.close()
    emit({"evidence": found}, as_json, lambda d: "\n\n".join(
        f"{e['origin']}：{e['detail']}\n—— 已见证 ——\n{e['held'].rstrip()}\n—— 新 ——\n{e['new'].rstrip()}"
        for e in d["evidence"]) or "没有分叉或回退证据")
    if found:
        sys.exit(2)


def cosign_ledger(ledger: Any, store: str | None, signer: Any, number: int | None) -> tuple[Any, int]:
    """``ledger checkpoint cosign``: the witness walks the ledger's checkpoints from the one it
    last cosigned (its own store), cosigning each proven consistent; stops at a split view."""
    from adapters.integrity.monitor import WitnessStore, add_cosignatures, observe, publication, store_url
    ws = WitnessStore(store_url(store))
    try:
        declared = ledger.recorder.declared_keys() if not ws.logs() else []  # the log's key: no key file read or made
        vkey = declared[-1] if declared else None
        origin = _origin_of(ws, vkey)
        held = ws.held(origin)
        bundle = publication(engine_of(ledger), 0 if held is None else held.tree.size, number)
        result = observe(ws, origin, bundle, signer, vkey)
    finally:
        ws.close()
    added = add_cosignatures(engine_of(ledger), [a["cosigned"] for a in result.accepted])
    return result, added


# -- the group ledger ----------------------------------------------------------------------------
def _group(create: bool = True) -> Any:
    from adapters.integrity.group import open_group
    try:
        return open_group(create)
    except WitnessError as e:
        _refuse(e)


def _group_signer(create: bool = True) -> Any:
    from adapters.integrity.group import group_signer
    try:
        return group_signer(create)
    except WitnessError as e:
        _refuse(e)


@main.group("group", help="集团账本：登记成员公司（日志来源与公钥），收取并见证各公司的检查点，"
                          "发现分叉即立案；从各公司公布的结果做集团排名。数据库由 LEDGER_GROUP_DATABASE_URL 指定。")
def group() -> None:
    pass


@group.command("register", help="登记成员公司 NAME：其日志来源（ORIGIN）与验证公钥文件。")
@click.argument("name")
@click.option("--origin", required=True, help="该公司账本的日志来源（检查点第一行）")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="该公司的验证公钥文件（其 ledger key show 的输出）")
def group_register(name: str, origin: str, key_file: Path) -> None:
    g = _group()
    try:
        member = g.register(name, origin, _one_key(key_file))
    except WitnessError as e:
        _refuse(e)
    finally:
        g.store.close()
    click.echo(f"已登记 {member['name']}（{member['origin']}）")


@group.command("init", help="建立集团账本（LEDGER_GROUP_DATABASE_URL）与集团见证方私钥（LEDGER_GROUP_KEY），打印其验证公钥。")
def group_init() -> None:
    _group(create=True).store.close()
    click.echo(_group_signer(create=True).verifier_key)


@group.command("key", help="集团见证方的验证公钥（LEDGER_GROUP_KEY；由 ledger group init 生成，本命令不生成）。")
def group_key() -> None:
    click.echo(_group_signer(create=False).verifier_key)


@group.command("serve", help="集团账本的 HTTP 接口：读（成员公司、集团季度与年度排名，每行附包含证明）无需令牌；"
                             "写（登记、收取并会签检查点、接受结果）须持集团操作员令牌 LEDGER_GROUP_OPERATOR_TOKEN。")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8100, show_default=True, type=int, help="端口")
def group_serve(host: str, port: int) -> None:
    import uvicorn

    from adapters.http.group_app import MIN_TOKEN_LENGTH, OPERATOR_TOKEN, create_group_app
    _group(create=False).store.close()  # refuse at once if there is no group ledger
    if len(os.environ.get(OPERATOR_TOKEN, "")) < MIN_TOKEN_LENGTH:
        click.echo(f"未设置 {OPERATOR_TOKEN}（至少 {MIN_TOKEN_LENGTH} 个字符）：只开放读，写接口答 503", err=True)
    uvicorn.run(create_group_app(), host=host, port=port)


@group.command("collect", help="收取公司 ORIGIN 的检查点（文件或其 ledger serve），核对一致性并会签；分叉即立案（退出码 2）。")
@click.argument("origin")
@click.option("--from", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="该公司公布的检查点发布包（ledger publish checkpoint）")
@click.option("--url", default=None, help="该公司 ledger serve 的地址")
@click.option("--token", default=None, envvar="LEDGER_GROUP_TOKEN", help="HTTP 令牌")
@click.option("--cosigned-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="把本次会签的检查点写入此文件，交该公司存入")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def group_collect(origin: str, from_file: Path | None, url: str | None, token: str | None,
                  cosigned_out: Path | None, as_json: bool) -> None:
    from adapters.integrity.monitor import observe
    g = _group()
    try:
        g.member(origin)
        held = g.store.held(origin)
        bundle = _source_bundle(from_file, url, token, None if held is None else held.tree.size)
        result = observe(g.store, origin, bundle, _group_signer())
    except WitnessError as e:
        _refuse(e, as_json)
    finally:
        g.store.close()
    if cosigned_out is not None:
        write([a["cosigned"] for a in result.accepted if a["cosigned"]], cosigned_out)
    emit(result.as_dict(), as_json, observation_text)
    if not result.ok:
        sys.exit(2 if result.evidence else 1)


@group.command("accept", help="接受公司 ORIGIN 公布的结果（ledger publish quarter|year 的文件，或 --url 取得）。")
@click.argument("origin")
@click.option("--from", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="结果发布包文件")
@click.option("--url", default=None, help="该公司 ledger serve 的地址（与 --level、--period 一起）")
@click.option("--level", type=click.Choice(["quarter", "year"]), default=None, help="级别（用 --url 时）")
@click.option("--period", default=None, help="季度或年度（用 --url 时）")
@click.option("--token", default=None, envvar="LEDGER_GROUP_TOKEN", help="HTTP 令牌")
def group_accept(origin: str, from_file: Path | None, url: str | None, level: str | None, period: str | None,
                 token: str | None) -> None:
    from adapters.integrity.monitor import http_get
    g = _group()
    try:
        if from_file is not None:
            bundle = json.loads(from_file.read_text(encoding="utf-8"))
        elif url and level and period:
            bundle = http_get(url, token)(f"/publication/{level}/{period}")
        else:
            raise WitnessError("请给出 --from FILE，或 --url 与 --level、--period", "from")
        accepted = g.accept_results(origin, bundle)
    except WitnessError as e:
        _refuse(e)
    except ValueError as e:
        fail([LineError(0, "from", f"文件不是有效的 JSON：{e}")], False)
    finally:
        g.store.close()
    click.echo(f"已接受 {origin} 的{'季度' if accepted['level'] == 'quarter' else '年度'} {accepted['period']} 结果"
               f"（见证过的检查点大小 {accepted['size']}）")


@group.command("members", help="成员公司、集团持有的检查点与分叉证据。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def group_members(as_json: bool) -> None:
    g = _group(create=False)
    try:
        members = g.members()
    finally:
        g.store.close()
    emit({"members": members}, as_json, lambda d: "\n".join(
        f"{m['name']}（{m['origin']}）：" + ("已见证至大小 " + str(m["size"]) if m["size"] is not None else "尚未收取")
        + ("；⚠ 分叉/回退立案：" + "；".join(e["detail"] for e in m["evidence"]) if m["flagged"] else "")
        for m in d["members"]) or "尚无成员公司")
    if any(m["flagged"] for m in members):
        sys.exit(2)


def _ranking_text(d: dict[str, Any]) -> str:
    lines = [f"集团{'季度' if d['level'] == 'quarter' else '年度'}排名 {d['period']}（每行附包含证明，--json 可见）"]
    for r in d["rows"]:
        lines.append(f"  {r['group_rank']:>3}  {r['company']}  {r['branch']}  {r['score']}"
                     f"（公司内第 {r['company_rank']} 名）")
    for f in d["flagged"]:
        lines.append(f"  ⚠ {f['company']}（{f['origin']}）有分叉或回退证据，不参与排名")
    for m in d["missing"]:
        lines.append(f"  {m['company']}（{m['origin']}）尚未公布 {d['period']} 的结果")
    return "\n".join(lines)


def _ranking(level: str, period: str, as_json: bool) -> None:
    g = _group(create=False)
    try:
        data = g.rankings(level, period)
    finally:
        g.store.close()
    emit(json.loads(json.dumps(data, default=str)), as_json, _ranking_text)


@group.command("quarter", help="集团全部支部的季度排名 PERIOD（来自各公司公布并经集团见证的结果）。")
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def group_quarter(period: str, as_json: bool) -> None:
    _ranking("quarter", period, as_json)


@group.command("year", help="集团全部支部的年度排名 YEAR。")
@click.argument("year")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def group_year(year: str, as_json: bool) -> None:
    _ranking("year", year, as_json)
