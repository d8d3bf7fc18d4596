"""What the HTTP routes depend on (``adapters/http/reads_*.py``, ``writes.py`` and the web
pages, ``adapters/web/``): the process's ledger (:class:`Service`), the acting user
(:class:`Caller`, from the bearer token: :func:`authenticated`), a command built from a
request body (:func:`command_of`) and the JSON every endpoint answers with (:func:`reply`).

Routes import this module (and ``adapters/http/errors.py``), never ``adapters/http/app.py``:
the app assembles the routers, the routers do not know the app.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from adapters.bootstrap import close, engine_of, open_ledger
from adapters.store.replay import FoldCache
from adapters.store.views import MaintainedView
from domain import commands as c
from domain.access.users import now_us
from domain.errors import InvalidInput, PermissionDenied
from domain.ids import organization_id
from domain.service.application import ImportResult, Ledger, LineError, UnitOfWork
from domain.service.permissions import authorize, roles_of

T = TypeVar("T")


# -- the JSON of every answer ----------------------------------------------------------------------
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


class CommandResult(BaseModel):
    """``result``: what the command returns (an entry id, an appeal id, a branch code, a
    token …); ``duplicate``: the key was applied before (nothing written now); ``warnings``:
    accepted with a word (an entry the category's cap will not count in full, with ``counted``)."""

    op: str
    key: str | None
    result: Any
    duplicate: bool
    warnings: list[dict[str, Any]] = []  # accepted, but e.g. beyond the category's cap: how much counts


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
        self.folds = FoldCache(self.engine)  # the member-level folds now, caught up per read

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
    """The ledger service of the application serving ``request`` (set by
    ``adapters.http.app.create_app``)."""
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
