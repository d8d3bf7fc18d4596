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
(routers in ``reads_*.py``). Web pages: ``adapters/web/app.py``.

Concurrency: within one process the ledger's calls are serialized by a lock (its
aggregate cache is shared state, fast-forwarded in place); parallelism comes from
several worker processes (``ledger serve --workers N``), which race optimistically
through the database: a command that loses a version race is retried while still valid
(``Ledger._run``), otherwise it is refused with 409.

This module only assembles: what the routes depend on is in ``adapters/http/deps.py`` (the
ledger service, the acting user, the JSON answer) and ``adapters/http/errors.py`` (statuses,
error bodies, handlers); it is the one module that imports the routers (the writes, the
reads, and ``adapters/web/app.py`` for the pages).
"""
from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline

from adapters.bootstrap import database_url
from adapters.http import (
    attachments,
    reads_assessment,
    reads_directory,
    reads_extra,
    reads_members,
    reads_tamper,
    reads_witness,
)
from adapters.http.deps import LedgerJSON, Service, authenticated
from adapters.http.errors import BodyTooLarge, install_error_handlers
from adapters.http.writes import MAX_BODY_BYTES, MAX_IMPORT_BYTES, add_writes
from adapters.web.app import mount_web

_DRAIN_BYTES = 64 << 20  # read and dropped past a limit, so the client gets its 413 rather than a reset


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


def read_routers() -> list[APIRouter]:
    """Every read of the CLI as a GET (and the few non-command writes it offers), as routers
    in mounting order (a path's first match wins: keep ``/checkpoints/latest`` before
    ``/checkpoints/{number}``, ``/proofs/consistency`` before ``/proofs/{event}``)."""
    return [reads_assessment.router, reads_members.router, reads_tamper.router, reads_witness.router,
            reads_directory.router, reads_extra.router, attachments.router]


def body_limit(path: str) -> int:
    """A batch, a file for an appeal (the API's upload, the web's appeal form), any other body."""
    if path == "/import":
        return MAX_IMPORT_BYTES
    if path in ("/attachments", "/web/appeal"):
        return attachments.UPLOAD_LIMIT
    return MAX_BODY_BYTES


# -- the application -------------------------------------------------------------------------------
def create_app(url: str | None = None) -> FastAPI:
    """The HTTP API over the ledger at ``url`` (default ``LEDGER_DATABASE_URL``): the error
    handlers, the writes, the reads (``adapters/http/reads_*.py``) and the web pages
    (``adapters/web/``), all over one ``Service`` on ``app.state.service``."""
    service = Service(url or database_url())
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    # The docs (/docs, /redoc) load Swagger UI and ReDoc from the fastapi-offline package, never a CDN.
    app = FastAPIOffline(title="党建考核审计账本 HTTP 接口", version="1", default_response_class=LedgerJSON, lifespan=lifespan,
                  description="每个请求带 Authorization: Bearer <令牌>。写入：POST /commands/{op}（与导入行字段相同），"
                              "可带 Idempotency-Key 头；读取：与命令行 show 相同的视图，按角色限定范围。")
    app.state.service = service
    app.add_middleware(BodyLimit, limit=body_limit)
    install_error_handlers(app)
    app.state.authenticated = authenticated
    add_writes(app)
    for router in read_routers():  # the reads, in their order
        app.include_router(router)
    mount_web(app, service)  # the web pages (/web/…): the same service, checks and endpoints
    return app


def app_from_env() -> FastAPI:
    """The factory ``ledger serve`` gives uvicorn (``adapters.http.app:app_from_env``): each
    worker process builds its app over ``LEDGER_DATABASE_URL``."""
    return create_app(os.environ.get("LEDGER_DATABASE_URL") or database_url())
