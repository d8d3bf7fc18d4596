"""HTTP 接口：申诉附件 (appeals' attached files): ``POST /attachments`` stores a scanned
document (the raw body; ``?name=`` its file name) in the attachment store and answers the
``attachment`` object a ``file_appeal`` command names (SHA-256, name, type, size);
``GET /appeals/{appeal_id}/attachment`` downloads it, to readers of the appeal's branch, only
while the stored file still has the SHA-256 in the log (``adapters/store/attachments.py``).
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.http.deps import Caller, LedgerJSON, authenticated, reply, service_of
from adapters.http.reads import allow, own_branch
from adapters.store.attachments import MATCHES, AttachmentStore
from adapters.store.logreader import LogReader
from domain import vocabulary
from domain.assessment.appeal import MAX_ATTACHMENT_BYTES
from domain.errors import AppealRefused, AttachmentNotFound, InvalidInput, PermissionDenied
from domain.service.permissions import MIGRATOR

router = APIRouter(tags=["申诉附件"])
UPLOAD_LIMIT = MAX_ATTACHMENT_BYTES + (256 << 10)  # the file and a form's other fields (adapters/http/app.BodyLimit)


def store_of(request: Request) -> AttachmentStore:
    store = service_of(request).ledger.attachments
    if not isinstance(store, AttachmentStore):
        raise InvalidInput("未配置附件库（LEDGER_ATTACHMENTS），不能附上文件", "attachment")
    return store


def may_attach(roles: frozenset[str]) -> bool:
    """Who may store a file: whoever may file an appeal (a branch's secretary; the migrator)."""
    return MIGRATOR in roles or any(r.startswith("secretary:") for r in roles)


def stored_attachment(request: Request, caller: Caller, data: bytes, name: str) -> dict[str, Any]:
    """Store ``data`` as ``name`` for the caller (refused, and logged, unless :func:`may_attach`)."""
    def check() -> None:
        if not may_attach(caller.roles):
            raise PermissionDenied("只有支部书记可以上传申诉附件", "attachment")
    allow(request, caller, check)
    return store_of(request).put(data, name)


@router.post("/attachments", status_code=201,
             summary="上传申诉附件（PDF、JPEG 或 PNG，最大 10 MB）：返回 file_appeal 的 attachment")
async def upload(request: Request, name: str, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    data = await request.body()
    return reply(await run_in_threadpool(stored_attachment, request, caller, data, name), 201)


def appeal_attachment(request: Request, caller: Caller, appeal_id: str) -> tuple[dict[str, Any], bytes]:
    """The attachment named by the appeal's event and the stored bytes, for a reader of its
    branch; refused (:class:`AppealRefused`) when there is none or it no longer matches."""
    try:
        wanted = UUID(appeal_id)
    except ValueError:
        raise InvalidInput("申诉编号应为 UUID", "appeal_id") from None
    service = service_of(request)
    filed = next((e for e in LogReader(service.engine).read(topic_suffixes=("EntryAppeals.Filed",))
                  if str(e.data["appeal_id"]) == str(wanted)), None)
    if filed is None:
        raise AttachmentNotFound(f"没有编号为 {appeal_id} 的申诉", "appeal_id")
    own_branch(request, caller, filed.data["branch"])
    attachment = filed.data.get("attachment")
    if attachment is None:
        raise AttachmentNotFound("该申诉没有附件", "attachment")
    store = store_of(request)
    status = store.check(attachment["sha256"], attachment["size"])
    data = store.read(attachment["sha256"])
    if status != MATCHES or data is None:
        raise AppealRefused(f"不能下载：{vocabulary.ATTACHMENT_STATES[status]}", "attachment")
    return attachment, data


@router.get("/appeals/{appeal_id}/attachment", summary="下载申诉附件（仅当文件与日志中的 SHA-256 相符）",
            response_class=Response)
def download(appeal_id: str, request: Request, caller: Caller = Depends(authenticated)) -> Response:
    attachment, data = appeal_attachment(request, caller, appeal_id)
    return attachment_response(attachment, data)


def attachment_response(attachment: dict[str, Any], data: bytes) -> Response:
    from urllib.parse import quote
    return Response(data, media_type=attachment["media_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment['name'])}",
        "X-Content-SHA256": attachment["sha256"], "X-Content-Type-Options": "nosniff"})
