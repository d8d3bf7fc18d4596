"""HTTP 接口 (HTTP API): every read and write of the CLI over FastAPI, with token authentication.

``create_app(url)`` builds the application over one ledger per process. Every request
carries ``Authorization: Bearer <token>`` (tokens issued per user by an admin, stored as
SHA-256 hashes, revocable: ``domain/access/users.py``); the token names the acting user, whose
roles are read fresh on every request (a revoked token or role is refused at once).

Writes: ``POST /commands/{op}`` — the body is an import line's fields without ``op``,
validated by ``domain.commands.parse_command`` (numbers parsed exactly, never through
float); ``actor`` defaults to the acting user; an ``Idempotency-Key`` header becomes the
command's ``key`` (a retry with the same key and content is applied once: 200 with
``"duplicate": true``; other content: 409). ``POST /import``: a JSONL body or a JSON list,
one batch, all or nothing (``adapters/http/writes.py``). Reads: ``adapters/http/reads.py``
(routers in ``http_reads_*.py``). Web pages: ``adapters/web/app.py``.

Concurrency: within one process the ledger's calls are serialized by a lock (its
aggregate cache is shared state, fast-forwarded in place); parallelism comes from
several worker processes (``ledger serve --workers N``), which race optimistically
through the database: a command that loses a version race is retried while still valid
(``Ledger._run``), otherwise it is refused with 409.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, AsyncIterator, Callable, TypeVar
from uuid import UUID

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from pydantic import BaseModel

from adapters.bootstrap import close, database_url, engine_of, open_ledger
from adapters.store.views import MaintainedView
from domain import vocabulary
from domain import commands as c
from domain.access.users import now_us
from adapters.json_input import decode_json  # noqa: F401 (the API's body decoder; also used by http_writes)
from domain.service.application import ImportRefused, ImportResult, Ledger, LineError, UnitOfWork
from domain.errors import (BranchNotTakingPart, CheckpointRefused, InvalidInput, LedgerError, NotInitialized,
                           PermissionDenied, SeparationOfDuties, VaultUnavailable, WrongDepartment)
from domain.ids import organization_id
from domain.service.permissions import authorize, roles_of

T = TypeVar("T")

MAX_BODY_BYTES = 1 << 20  # a command or a form, and each line of a batch: as a line of ``ledger import`` (adapters/cli/main.py)
MAX_IMPORT_BYTES = 64 << 20  # POST /import (bigger files: ``ledger import``)
_DRAIN_BYTES = 64 << 20  # read and dropped past a limit, so the client gets its 413 rather than a reset


class BodyTooLarge(LedgerError):
    """A request body over its limit (413): refused while it arrives, never held whole."""


class BodyLimit:
    """ASGI middleware: a request body may be at most ``limit(path)`` bytes. Past it (counted
    as it arrives, with or without Content-Length) reading the body raises
    :class:`BodyTooLarge`, after reading and dropping the rest (up to ``_DRAIN_BYTES``)."""

    def __init__(self, app: Any, limit: Callable[[str], int]) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)  # type: ignore[no-any-return]
        limit, received = self.limit(scope["path"]), 0

        async def limited() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    while message.get("more_body") and received <= limit + _DRAIN_BYTES:
                        message = await receive()
                        received += len(message.get("body", b""))
                    raise BodyTooLarge(f"请求体过大：超过 {limit} 字节（{limit >> 20} MiB）", None)
            return message
        await self.app(scope, limited, send)


# -- status codes ------------------------------------------------------------------------------
STATUS: dict[type[LedgerError], int] = {
    BodyTooLarge: 413,
    InvalidInput: 422, WrongDepartment: 422, BranchNotTakingPart: 422, ImportRefused: 422,
    PermissionDenied: 403, SeparationOfDuties: 403,  # the user may not do this (not a state conflict)
    NotInitialized: 503, VaultUnavailable: 503,
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


def plain(value: Any) -> Any:
    """JSON for values the views do not already render: exact decimals and ids as strings."""
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    if isinstance(value, ImportResult):
        return value.__dict__
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class LedgerJSON(JSONResponse):
    """JSON rendered with decimals as strings (FastAPI's default encoder would make floats)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=plain).encode("utf-8")


def reply(data: Any, status: int = 200) -> LedgerJSON:
    return LedgerJSON(data, status_code=status)


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


class CommandResult(BaseModel):
    """``result``: what the command returns (an entry id, an appeal id, a branch code, a
    token …); ``duplicate``: the key was applied before (nothing written now); ``warnings``:
    accepted with a word (an entry the category's cap will not count in full, with ``counted``)."""

    op: str
    key: str | None
    result: Any
    duplicate: bool
    warnings: list[dict[str, Any]] = []  # accepted, but e.g. beyond the category's cap: how much counts


ERRORS = {401: {"model": ErrorBody, "description": "缺少令牌、令牌无效或已吊销"},
          403: {"model": ErrorBody, "description": "无权执行（已记入安全日志）"},
          404: {"model": ErrorBody, "description": "引用的对象不存在"},
          409: {"model": ErrorBody, "description": "与账本当前状态冲突（含并发竞争失败、同键不同内容）"},
          413: {"model": ErrorBody, "description": "请求体过大"},
          422: {"model": ErrorBody, "description": "字段无效（field 指明字段）"},
          503: {"model": ErrorBody, "description": "数据库暂时不可用：稍后用同一 Idempotency-Key 重试"}}


# -- the service: one ledger per process -----------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """The authenticated user of a request and the roles they hold now."""

    user: str
    roles: frozenset[str]


class Unauthenticated(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Service:
    """The process's ledger. Calls that touch its aggregates (the cache) take ``lock``;
    reads of the log and the maintained view go straight to the database."""

    def __init__(self, url: str) -> None:
        # creates nothing (ledger init does); every call names its user: never a fallback identity
        self.ledger: Ledger = open_ledger(url, env_user=False)
        self.lock = threading.Lock()
        self.engine = engine_of(self.ledger)
        self.view = MaintainedView(self.engine)

    def locked(self, action: Callable[[], T]) -> T:
        with self.lock:
            return action()

    def caller(self, token: str) -> Caller:
        """The user of ``token`` (the directory read fresh: a revocation counts at once)."""
        def look() -> Caller:
            uow = UnitOfWork(self.ledger)
            access = uow.access()
            user = access.user_of_token(token)
            if user is None:
                raise Unauthenticated("令牌无效或已吊销")
            org = uow.find(organization_id(), for_update=False)
            return Caller(user, roles_of(access, org, user, now_us()))
        return self.locked(look)

    def execute(self, command: c.Command, user: str) -> Any:
        return self.locked(lambda: self.ledger.execute(command, user))

    def execute_noting(self, command: c.Command, user: str) -> tuple[Any, list[dict[str, Any]]]:
        return self.locked(lambda: self.ledger.execute_noting(command, user))

    def preauthorize(self, commands: list[tuple[int, c.Command]], user: str) -> list[LineError]:
        """The lines of a batch the user may not send (each recorded in the security log)."""
        def check() -> list[LineError]:
            uow = UnitOfWork(self.ledger)
            access, org = uow.access(), uow.find(organization_id(), for_update=False)
            refused = []
            for number, command in commands:
                try:
                    authorize(access, org, user, command, now_us())
                except PermissionDenied as e:
                    self.ledger._refused(user, command.op, e)
                    refused.append(LineError(number, e.field, e.reason))
            return refused
        return self.locked(check)

    def import_batch(self, lines: list[tuple[int, Any]], user: str) -> ImportResult:
        return self.locked(lambda: self.ledger.import_batch(lines, user))

    def close(self) -> None:
        close(self.ledger)


# -- request helpers -----------------------------------------------------------------------------
bearer = HTTPBearer(auto_error=False, description="管理员签发的接口令牌：Authorization: Bearer <token>")


def service_of(request: Request) -> Service:
    """The ledger service of the application serving ``request`` (set by :func:`create_app`)."""
    return request.app.state.service  # type: ignore[no-any-return]


def authenticated(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """The dependency of every endpoint: the user of the request's bearer token (401 without one)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated("缺少令牌：请求头应为 Authorization: Bearer <令牌>")
    return service_of(request).caller(credentials.credentials)


def _inline_refs(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.rsplit("/", 1)[1]], defs)
        return {k: _inline_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline_refs(v, defs) for v in schema]
    return schema


def body_schema(model: type[c.Command]) -> dict[str, Any]:
    """The op's JSON body as OpenAPI shows it: the model's fields (by alias) without ``op``;
    ``actor`` optional (defaults to the acting user)."""
    try:
        schema = model.model_json_schema(by_alias=True)
    except Exception:  # noqa: BLE001 - a schema pydantic cannot render: document a plain object
        return {"type": "object"}
    schema = _inline_refs(schema, schema.get("$defs", {}))
    schema["properties"].pop("op", None)
    schema["required"] = [f for f in schema.get("required", []) if f not in ("op", "actor")]
    return schema  # type: ignore[no-any-return]


def command_of(op: str, body: Any, caller: Caller, idempotency_key: str | None) -> c.Command:
    """Validate a command body: ``Idempotency-Key`` becomes its ``key``; ``actor`` defaults
    to the acting user."""
    if not isinstance(body, dict):
        raise InvalidInput("请求体必须是一个 JSON 对象", None)
    if "op" in body and body["op"] != op:
        raise InvalidInput(f"请求体的 op {body['op']!r} 与路径 {op!r} 不一致", "op")
    data = {**body, "op": op}
    model = c.COMMANDS[op]
    if idempotency_key is not None:
        if data.get("key") is None:
            data["key"] = idempotency_key
        elif data["key"] != idempotency_key:
            raise InvalidInput("请求体的 key 与 Idempotency-Key 头不一致", "key")
    if "actor" in model.model_fields and data.get("actor") is None:
        data["actor"] = caller.user
    return c.parse_command(data)


def read_lines(raw: bytes) -> list[tuple[int, Any]]:
    """A JSON list of commands, or JSONL (one per non-blank line, each decoded by
    :func:`decode_json`, at most ``MAX_BODY_BYTES`` like a line of ``ledger import``);
    line numbers from 1."""
    if raw.lstrip().startswith(b"["):
        data = decode_json(raw)
        if not isinstance(data, list):
            raise InvalidInput("请求体应为 JSON 数组或 JSONL", None)
        return list(enumerate(data, start=1))
    lines, errors = [], []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if len(line.rstrip(b"\r")) > MAX_BODY_BYTES:
            errors.append(LineError(number, None, f"行过长（超过 {MAX_BODY_BYTES} 字节），未读取"))
            continue
        if not line.strip():
            continue
        try:
            lines.append((number, decode_json(line)))
        except InvalidInput as e:
            errors.append(LineError(number, e.field, e.reason))
    if errors:
        raise ImportRefused(errors)
    return lines


# -- refusals: every one in the same shape (ErrorBody) ---------------------------------------------
async def _ledger_error(request: Request, exc: LedgerError) -> LedgerJSON:
    more = {"errors": [e.__dict__ for e in exc.errors]} if isinstance(exc, ImportRefused) else {}
    return reply(error_body(type(exc).__name__, exc.field, exc.reason, **more), status_of(exc))


async def _database_unavailable(request: Request, exc: Exception) -> LedgerJSON:
    logging.getLogger("uvicorn.error").warning("503 %s %s: %s", request.method, request.url.path,
                                               (str(exc).splitlines() or [type(exc).__name__])[0][:300])
    response = reply(error_body("DatabaseUnavailable", None, DATABASE_UNAVAILABLE), 503)
    response.headers["Retry-After"] = "1"
    return response


async def _http_error(request: Request, exc: StarletteHTTPException) -> LedgerJSON:
    """The framework's own refusals (no such path, method not allowed, a body it cannot
    parse) in the same error shape as every other refusal."""
    name, reason = {400: ("BadRequest", "请求无效：请求体无法解析"), 404: ("NotFound", "没有这个地址"),
                    405: ("MethodNotAllowed", "该地址不支持此请求方法")}.get(
        exc.status_code, ("HTTPError", str(exc.detail)))
    response = reply(error_body(name, None, reason), exc.status_code)
    response.headers.update(exc.headers or {})
    return response


async def _unauthenticated(request: Request, exc: Unauthenticated) -> LedgerJSON:
    response = reply(error_body("Unauthenticated", "Authorization", exc.reason), 401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _invalid(request: Request, exc: RequestValidationError) -> LedgerJSON:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "请求无效"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header", "body")]
    reason = vocabulary.input_reason(str(first.get("type", "")))  # pydantic's English message, in Chinese
    return reply(error_body("InvalidInput", loc[-1] if loc else None, reason), 422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)  # type: ignore[arg-type]
    for unavailable in database_unavailable_errors():
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Unauthenticated, _unauthenticated)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]


# -- the application -------------------------------------------------------------------------------
def create_app(url: str | None = None) -> FastAPI:
    """The HTTP API over the ledger at ``url`` (default ``LEDGER_DATABASE_URL``): the error
    handlers, the writes, the reads (``adapters/http_reads*.py``) and the web pages
    (``adapters/web*.py``), all over one ``Service`` on ``app.state.service``."""
    service = Service(url or database_url())
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(title="党建考核审计账本 HTTP 接口", version="1", default_response_class=LedgerJSON, lifespan=lifespan,
                  description="每个请求带 Authorization: Bearer <令牌>。写入：POST /commands/{op}（与导入行字段相同），"
                              "可带 Idempotency-Key 头；读取：与命令行 show 相同的视图，按角色限定范围。")
    app.state.service = service
    app.add_middleware(BodyLimit, limit=lambda path: MAX_IMPORT_BYTES if path == "/import" else MAX_BODY_BYTES)
    install_error_handlers(app)
    app.state.authenticated = authenticated
    from adapters.http.writes import add_writes
    add_writes(app)
    from adapters.http.reads import read_routers
    for router in read_routers():  # the reads, in their order
        app.include_router(router)
    from adapters.web.app import mount_web  # the web pages (/web/…): the same service, checks and endpoints
    mount_web(app, service)
    return app


def app_from_env() -> FastAPI:
    """The factory ``ledger serve`` gives uvicorn (``adapters.http.app:app_from_env``): each
    worker process builds its app over ``LEDGER_DATABASE_URL``."""
    return create_app(os.environ.get("LEDGER_DATABASE_URL") or database_url())
