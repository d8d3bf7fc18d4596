"""命令行 ``ledger user``: users, roles and API tokens (系统管理员), and the security log."""
from __future__ import annotations

import click

from adapters.cli.common import SHANGHAI, emit, existing_ledger, run, run_op
from adapters.cli.main import main


@main.group(help="用户与角色：创建用户、授予/撤销角色、签发/吊销接口令牌（仅系统管理员）。")
def user() -> None:
    pass


@user.command("create", help="创建用户，如 ledger --as admin user create sec-repair --name 李建军")
@click.argument("user_id")
@click.option("--name", required=True, help="中文姓名")
@click.option("--actor", default=None, help="经办人（默认为执行用户）")
def user_create(user_id: str, name: str, actor: str | None) -> None:
    run_op("create_user", lambda u: f"用户 {u} 已创建", user=user_id, name=name, actor=actor or _who())


@user.command("grant", help="授予角色（aggregator、approver、committee、registrar、performance、auditor、admin、"
                            "migrator、scorer:party_mass|discipline_inspection|office）")
@click.argument("user_id")
@click.argument("role")
@click.option("--effective", default=None, help="生效时间（ISO 8601，带时区；默认现在）")
@click.option("--actor", default=None, help="经办人（默认为执行用户）")
def user_grant(user_id: str, role: str, effective: str | None, actor: str | None) -> None:
    run_op("grant_role", lambda u: f"已授予 {u} 角色 {role}", user=user_id, role=role, effective=effective,
        actor=actor or _who())


@user.command("revoke", help="撤销角色")
@click.argument("user_id")
@click.argument("role")
@click.option("--effective", default=None, help="生效时间（ISO 8601，带时区；默认现在）")
@click.option("--actor", default=None, help="经办人（默认为执行用户）")
def user_revoke(user_id: str, role: str, effective: str | None, actor: str | None) -> None:
    run_op("revoke_role", lambda u: f"已撤销 {u} 的角色 {role}", user=user_id, role=role, effective=effective,
        actor=actor or _who())


@user.command("token", help="为用户签发接口令牌（只显示这一次，账本只存其哈希）")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def user_token(user_id: str, as_json: bool) -> None:
    ledger = existing_ledger()
    issued = run(lambda: ledger.command("issue_token", user=user_id, actor=_who()))
    emit(issued, as_json, lambda d: f"令牌编号 {d['token_id']}\n令牌（请妥善保存，不会再次显示）：{d['token']}")


@user.command("revoke-token", help="吊销接口令牌")
@click.argument("token_id")
def user_revoke_token(token_id: str) -> None:
    run_op("revoke_token", lambda t: f"令牌 {t} 已吊销", token_id=token_id, actor=_who())


@user.command("refusals", help="查看安全日志：被拒绝的操作（谁、何时、做什么、为何被拒）")
@click.option("--user", "user_id", default=None, help="只看某用户")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def user_refusals(user_id: str | None, as_json: bool) -> None:
    rows = existing_ledger().security_log.rows(user_id)  # type: ignore[union-attr]
    emit(rows, as_json, lambda rs: "\n".join(
        f"{_shanghai(r['at_us'])}  {r['user_id'] or '（未指定）'}  {r['op']}  {r['reason']}" for r in rs) or "（无记录）")


def _shanghai(at_us: int) -> str:
    from datetime import timedelta

    from domain.integrity.log import EPOCH
    return (EPOCH + timedelta(microseconds=at_us)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _who() -> str:
    from adapters.cli.common import acting
    return acting[0] or "system"
