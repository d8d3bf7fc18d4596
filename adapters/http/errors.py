"""Refusals of the HTTP API, every one in the same shape (:class:`ErrorBody`): the status of
each ledger error (:func:`status_of`), the body (:func:`error_body`) and the exception
handlers ``adapters/http/app.py`` installs (``adapters/web/errors.py`` extends them for
pages). Routes import this module, never ``adapters/http/app.py``.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.http.deps import LedgerJSON, Unauthenticated, reply
from domain import vocabulary
from domain.errors import (
    BranchNotTakingPart,
    CheckpointRefused,
    CorruptLog,
    InvalidInput,
    LedgerError,
    NotInitialized,
    PermissionDenied,
    SeparationOfDuties,
    VaultUnavailable,
    WrongDepartment,
)
from domain.service.application import ImportRefused


class BodyTooLarge(LedgerError):
    """A request body over its limit (413): refused while it arrives, never held whole."""


# -- status codes ------------------------------------------------------------------------------
STATUS: dict[type[LedgerError], int] = {
    BodyTooLarge: 413,
    InvalidInput: 422, WrongDepartment: 422, BranchNotTakingPart: 422, ImportRefused: 422,
    PermissionDenied: 403, SeparationOfDuties: 403,  # the user may not do this (not a state conflict)
    NotInitialized: 503, VaultUnavailable: 503,
    CorruptLog: 500,  # a stored event that cannot be read: the log was altered or damaged (ledger verify)
    CheckpointRefused: 429,  # an on-demand checkpoint sooner than the interval (adapters/store/checkpoints.py)
}


def status_of(error: LedgerError) -> int:
    """403 refused, 404 ``*NotFound``, 422 bad input, 503 server not set up, 409 otherwise
    (the command conflicts with the ledger's state: a month already submitted, a quarter
    already approved, an appeal decided, a lost race, a key reused with other content)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    if type(error).__name__.endswith("NotFound"):
        return 404
    return 409


def database_unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors of a lost or refused database connection (a restart, a failover, a network
    cut): 503, and the client retries. A write that failed while committing may or may not
    have landed; a retry with the same ``Idempotency-Key`` settles it (201, or 200 duplicate)."""
    import psycopg2
    import sqlalchemy.exc
    from eventsourcing import persistence
    return (persistence.OperationalError, persistence.InterfaceError, sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError)


DATABASE_UNAVAILABLE = ("数据库暂时不可用（连接中断或正在重启），请求未完成；写入是否已生效未知，"
                        "请稍后用同一 Idempotency-Key 重试")


def error_body(error: str, field: str | None, reason: str, **more: Any) -> dict[str, Any]:
    """``error``: the refusal's code (for programs); ``detail``: the whole refusal in Chinese
    (for people: kind, field, reason)."""
    where = f"（字段 {field}）" if field else ""
    return {"error": error, "field": field, "reason": reason,
            "detail": f"{vocabulary.refusal_name(error)}{where}：{reason}", **more}


class ErrorBody(BaseModel):
    """Every refusal: the error's class name, the field at fault (or null) and the reason."""

    error: str
    field: str | None
    reason: str
    detail: str  # the refusal in Chinese for people, e.g. 输入有误（字段 points）：最多两位小数


ERRORS = {401: {"model": ErrorBody, "description": "缺少令牌、令牌无效或已吊销"},
          403: {"model": ErrorBody, "description": "无权执行（已记入安全日志）"},
          404: {"model": ErrorBody, "description": "引用的对象不存在"},
          409: {"model": ErrorBody, "description": "与账本当前状态冲突（含并发竞争失败、同键不同内容）"},
          413: {"model": ErrorBody, "description": "请求体过大"},
          422: {"model": ErrorBody, "description": "字段无效（field 指明字段）"},
          500: {"model": ErrorBody, "description": "日志中有无法读取的事件（CorruptLog，指明位置）：请运行 ledger verify"},
          503: {"model": ErrorBody, "description": "数据库暂时不可用：稍后用同一 Idempotency-Key 重试"}}


# -- the handlers: every refusal as an ErrorBody ----------------------------------------------------
async def ledger_error(request: Request, exc: LedgerError) -> LedgerJSON:
    more = {"errors": [e.__dict__ for e in exc.errors]} if isinstance(exc, ImportRefused) else {}
    return reply(error_body(type(exc).__name__, exc.field, exc.reason, **more), status_of(exc))


async def database_unavailable(request: Request, exc: Exception) -> LedgerJSON:
    logging.getLogger("uvicorn.error").warning("503 %s %s: %s", request.method, request.url.path,
                                               (str(exc).splitlines() or [type(exc).__name__])[0][:300])
    response = reply(error_body("DatabaseUnavailable", None, DATABASE_UNAVAILABLE), 503)
    response.headers["Retry-After"] = "1"
    return response


async def http_error(request: Request, exc: StarletteHTTPException) -> LedgerJSON:
    """The framework's own refusals (no such path, method not allowed, a body it cannot
    parse) in the same error shape as every other refusal."""
    name, reason = {400: ("BadRequest", "请求无效：请求体无法解析"), 404: ("NotFound", "没有这个地址"),
                    405: ("MethodNotAllowed", "该地址不支持此请求方法")}.get(
        exc.status_code, ("HTTPError", str(exc.detail)))
    response = reply(error_body(name, None, reason), exc.status_code)
    response.headers.update(exc.headers or {})
    return response


async def unauthenticated(request: Request, exc: Unauthenticated) -> LedgerJSON:
    response = reply(error_body("Unauthenticated", "Authorization", exc.reason), 401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def invalid(request: Request, exc: RequestValidationError) -> LedgerJSON:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "请求无效"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header", "body")]
    reason = vocabulary.input_reason(str(first.get("type", "")))  # pydantic's English message, in Chinese
    return reply(error_body("InvalidInput", loc[-1] if loc else None, reason), 422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, ledger_error)  # type: ignore[arg-type]
    for unavailable in database_unavailable_errors():
        app.add_exception_handler(unavailable, database_unavailable)
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Unauthenticated, unauthenticated)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
