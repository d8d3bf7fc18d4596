"""HTTP 接口的写入 (writes of the HTTP API): ``POST /commands/{op}`` for every registered op
and ``POST /import`` (one batch, all or nothing), as described in ``adapters/http/app.py``;
the service is the request's application's (``adapters.http.deps.service_of``).
"""
from __future__ import annotations

from typing import Any, Callable

from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from adapters.http.deps import (
    Caller,
    CommandResult,
    LedgerJSON,
    authenticated,
    body_schema,
    command_of,
    reply,
    service_of,
)
from adapters.http.errors import ERRORS, error_body
from adapters.json_input import decode_json
from domain import commands as c
from domain.errors import InvalidInput, LedgerError
from domain.ids import appeal_id_for_key
from domain.service.application import ImportRefused, LineError

MAX_BODY_BYTES = 1 << 20  # a command or a form, and each line of a batch: as a line of ``ledger import`` (adapters/cli/main.py)
MAX_IMPORT_BYTES = 64 << 20  # POST /import (bigger files: ``ledger import``)


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


def _duplicate_result(command: c.Command) -> Any:
    """What the first application of a keyed command returned, where it follows from the key."""
    if isinstance(command, c.RecordScore):
        return command.entry_id
    if isinstance(command, c.FileAppeal) and command.key is not None:
        return appeal_id_for_key(command.key)
    return None


# -- writes ----------------------------------------------------------------------------------
async def run_command(op: str, request: Request, caller: Caller) -> LedgerJSON:
    body = decode_json(await request.body() or b"{}")
    command = command_of(op, body, caller, request.headers.get("Idempotency-Key"))
    result, warnings = await run_in_threadpool(service_of(request).execute_noting, command, caller.user)
    if result is None and command.key is not None:
        return reply({"op": op, "key": command.key, "result": _duplicate_result(command), "duplicate": True,
                      "warnings": []})
    return reply({"op": op, "key": command.key, "result": result, "duplicate": False, "warnings": warnings}, 201)


def endpoint_for(op: str) -> Callable[..., Any]:
    async def endpoint(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
        return await run_command(op, request, caller)
    endpoint.__name__ = f"command_{op}"
    return endpoint


async def unknown_command(op: str, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    return reply(error_body("UnknownOp", "op", f"未知的操作 {op!r}，应为 {', '.join(sorted(c.COMMANDS))}"), 404)


async def import_(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    service = service_of(request)
    lines = read_lines(await request.body())
    header = request.headers.get("Idempotency-Key")
    if header is not None:  # a retried batch: each line without a key gets "<header>#<line>"
        lines = [(n, {**d, "key": f"{header}#{n}"} if isinstance(d, dict) and d.get("key") is None else d)
                 for n, d in lines]
    parsed, errors = [], []
    for number, data in lines:
        try:
            parsed.append((number, c.parse_command(data)))
        except LedgerError as e:
            errors.append(LineError(number, e.field, e.reason))
    if errors:
        raise ImportRefused(errors)
    refused = await run_in_threadpool(service.preauthorize, parsed, caller.user)
    if refused:
        return reply(error_body("PermissionDenied", refused[0].field, refused[0].reason,
                                errors=[e.__dict__ for e in refused]), 403)
    result = await run_in_threadpool(service.import_batch, lines, caller.user)
    return reply({"appended": result.appended, "skipped": result.skipped, "ids": result.ids,
                  "warnings": result.warnings}, 201 if result.appended else 200)


def add_writes(app: FastAPI) -> None:
    """``POST /commands/{op}`` for every registered op, then ``POST /import``."""
    for op, model in sorted(c.COMMANDS.items()):
        roles = "、".join(model.roles) or "migrator"
        app.add_api_route(
            f"/commands/{op}", endpoint_for(op), methods=["POST"], status_code=201, tags=["写入"],
            summary=f"{op}（角色：{roles}）", description=(model.__doc__ or "").strip(),
            response_model=CommandResult, responses={200: {"model": CommandResult, "description": "同键重试：已应用过"},
                                                     **ERRORS},
            openapi_extra={"parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                           "schema": {"type": "string"},
                                           "description": "幂等键：重试同一请求只应用一次"}],
                           "requestBody": {"required": True,
                                           "content": {"application/json": {"schema": body_schema(model)}}}})
    app.add_api_route("/commands/{op}", unknown_command, methods=["POST"], tags=["写入"], include_in_schema=False)
    app.add_api_route("/import", import_, methods=["POST"], tags=["写入"], responses=ERRORS,
                      summary="批量导入：JSONL 或 JSON 数组，每行一条命令，全部成功或全部不写入",
                      openapi_extra={"requestBody": {"required": True, "content": {
                          "application/x-ndjson": {"schema": {"type": "string"}},
                          "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}})
