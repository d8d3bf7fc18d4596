"""命令行 ``ledger user password``: set a user's web log-in password (系统管理员).

The password's argon2 hash goes to ``ledger_credentials`` (``adapters/credentials.py``),
outside the event log; setting it ends the user's open web sessions. Only a user holding
``admin`` may set one (a refusal is written to the security log, like a refused command).
"""
from __future__ import annotations

import sys

import click

from adapters.bootstrap import engine_of
from adapters.cli.common import acting, existing_ledger, run
from adapters.cli.users import user
from adapters.credentials import Credentials, check_password
from domain.errors import InvalidInput
from domain.service.application import UnitOfWork


@user.command("password", help="设置用户的网页登录密码（仅系统管理员）。密码从终端输入两次，"
                               "或用 --stdin 从标准输入读一行；只保存其 argon2 哈希，不写入账本日志。")
@click.argument("user_id")
@click.option("--stdin", "from_stdin", is_flag=True, help="从标准输入读取一行作为密码（供脚本使用）")
def user_password(user_id: str, from_stdin: bool) -> None:
    ledger = existing_ledger()
    run(lambda: ledger.require_role(acting[0], "admin", "设置登录密码"))

    def known() -> None:
        if user_id not in UnitOfWork(ledger).access().users:
            raise InvalidInput(f"用户 {user_id!r} 未登记：先用 ledger user create 创建", "user")
    run(known)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次")
    run(lambda: check_password(password))
    Credentials(engine_of(ledger)).set_password(user_id, password)
    click.echo(f"用户 {user_id} 的登录密码已设置（其已登录的网页会话已结束）")
