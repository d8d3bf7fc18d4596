"""命令行 ``ledger serve``: the HTTP API (``adapters/http/app.py``) under uvicorn."""
from __future__ import annotations

import os

import click

from adapters.bootstrap import database_url
from adapters.cli.main import main


@main.command("serve", help="启动 HTTP 接口（OpenAPI 文档在 /docs）与网页界面（/web/）。数据库由 LEDGER_DATABASE_URL 指定；"
                            "多个工作进程时请使用 PostgreSQL。")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, show_default=True, type=int, help="端口")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="工作进程数")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="日志级别")
def serve(host: str, port: int, workers: int, log_level: str) -> None:
    import uvicorn
    os.environ["LEDGER_DATABASE_URL"] = database_url()  # each worker builds its app from the environment
    from sqlalchemy.engine import make_url
    shown = make_url(database_url()).render_as_string(hide_password=True)
    click.echo(f"HTTP 接口：http://{host}:{port}/docs （数据库 {shown}，{workers} 个工作进程）", err=True)
    click.echo(f"网页界面：http://{host}:{port}/web/ （登录密码由 ledger user password 设置）", err=True)
    uvicorn.run("adapters.http.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level)
