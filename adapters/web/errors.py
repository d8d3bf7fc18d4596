"""Errors on web pages (``/web/…``) as Chinese HTML pages; elsewhere (the JSON API) the
same refusals stay JSON with a Chinese ``reason``.

Covers what the routes themselves do not: no such page (404), a method a page does not
take (405), a request the framework cannot parse (400), a framework's 401/403 and an
unexpected failure (500).
Refusals of the ledger (``LedgerError``) already render ``error.html`` through
``adapters.web.base.error_page``."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from adapters.http import errors as http
from adapters.http.deps import reply
from adapters.web.base import render, visitor_of
from domain import vocabulary
from domain.errors import InvalidInput, LedgerError

PAGE_ERRORS = {  # status → (error code, Chinese reason)
    400: ("BadRequest", "请求无效：请求内容无法解析"),
    401: ("Unauthenticated", "未登录或登录已过期：请重新登录"),
    403: ("PermissionDenied", "无权查看此页面：需要相应的角色"),
    404: ("NotFound", "没有这个页面：地址可能输错了，或该页面已不存在"),
    405: ("MethodNotAllowed", "该页面不支持此请求方法"),
    500: ("InternalError", "服务器内部错误：这次操作未能完成，请稍后重试；如反复出现，请联系系统管理员"),
}


def _is_page(request: Request) -> bool:
    return request.url.path == "/web" or request.url.path.startswith("/web/")


async def _page(request: Request, status: int) -> Response:
    code, reason = PAGE_ERRORS.get(status, ("HTTPError", "请求未能完成"))
    try:
        visitor = await run_in_threadpool(visitor_of, request)
    except Exception:  # noqa: BLE001 - the error page must render even when the session store fails
        visitor = None
    error = LedgerError(reason, None)
    return render(request, visitor, "error.html", status, error=error, kind=code)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """A framework refusal: HTML under /web/, the API's JSON body elsewhere."""
    if _is_page(request) and exc.status_code in PAGE_ERRORS:
        response = await _page(request, exc.status_code)
        response.headers.update(exc.headers or {})
        return response
    return await http.http_error(request, exc)


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """A path or query parameter of the wrong shape (``/web/event/abc``): under /web/ the
    error page naming the field in Chinese; elsewhere the API's JSON body."""
    if not _is_page(request):
        return await http.invalid(request, exc)
    first = exc.errors()[0] if exc.errors() else {}
    loc = [p for p in first.get("loc", ()) if p not in ("query", "path", "header", "body")]
    error = InvalidInput(vocabulary.input_reason(str(first.get("type", ""))), str(loc[-1]) if loc else None)
    try:
        visitor = await run_in_threadpool(visitor_of, request)
    except Exception:  # noqa: BLE001 - the error page must render even when the session store fails
        visitor = None
    return render(request, visitor, "error.html", 422, error=error, kind="InvalidInput")


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure (a defect, logged): a Chinese page or a Chinese JSON body."""
    logging.getLogger("uvicorn.error").exception("500 %s %s", request.method, request.url.path, exc_info=exc)
    if _is_page(request):
        try:
            return await _page(request, 500)
        except Exception:  # noqa: BLE001 - fall back to the JSON body below
            pass
    return reply(http.error_body("InternalError", None, PAGE_ERRORS[500][1]), 500)


def install(app: FastAPI) -> None:
    """Register the handlers (after ``adapters.http.errors.install_error_handlers``, which they extend)."""
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, server_error)
