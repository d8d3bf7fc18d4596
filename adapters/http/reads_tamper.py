"""HTTP 读取：防篡改 (tamper-evidence reads): the verifier key, checkpoints, inclusion and
consistency proofs, receipts, the full verification and the audit export — as ``ledger key
show``, ``ledger checkpoint``, ``ledger prove``, ``ledger receipt``, ``ledger verify`` and
``ledger audit export``.

Scopes and shared helpers: ``adapters/http/reads.py``. Route order matters here:
``/checkpoints/latest`` before ``/checkpoints/{number}``, ``/proofs/consistency`` before
``/proofs/{event}``.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request

from adapters.http.deps import Caller, LedgerJSON, authenticated, reply, service_of
from adapters.http.reads import everything, proof_call, rankings, readable_event
from domain.errors import InvalidInput, NotInitialized

router = APIRouter(tags=["读取"])


def event_position(reader: Any, event: str) -> int:
    if event.isascii() and event.isdigit():  # "²".isdigit() too, but int("²") fails
        return int(event)
    try:
        UUID(event)
    except ValueError:
        raise InvalidInput(f"{event!r} 不是条目编号或日志位置", "event") from None
    return proof_call(lambda: reader.position_of_entry(event))  # type: ignore[no-any-return]


@router.get("/key", tags=["防篡改"], summary="账本日志登记的当前验证公钥与历次公钥（ledger key show）")
def key_show(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    declared = service_of(request).ledger.recorder.declared_keys()  # type: ignore[attr-defined]
    if not declared:
        raise NotInitialized("账本日志中没有登记签名公钥：请运行 ledger init 登记", None)
    return reply({"verifier_key": declared[-1], "declared_keys": declared})


def checkpoint_of(request: Request, caller: Caller, number: int | None) -> LedgerJSON:
    from adapters.store.proofs import TreeReader
    rankings(request, caller)
    row = proof_call(lambda: TreeReader(service_of(request).engine).checkpoint(number))
    return reply({"number": row.number, "size": row.size, "reason": row.reason, "note": row.note})


@router.get("/checkpoints/latest", tags=["防篡改"], summary="最新检查点（ledger checkpoint show）")
def checkpoint_latest(request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    return checkpoint_of(request, caller, None)


@router.get("/checkpoints/{number}", tags=["防篡改"], summary="第 N 个检查点（ledger checkpoint show N）")
def checkpoint_show(number: int, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    return checkpoint_of(request, caller, number)


@router.post("/checkpoints", tags=["防篡改"], status_code=201, summary="立即生成一个检查点（ledger checkpoint）")
def checkpoint_make(request: Request, body: dict[str, Any] = Body(default={}),
                    caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.store.checkpoints import issue_checkpoint
    reason = str(body.get("reason") or "on demand")[:200]
    service = service_of(request)
    row = service.locked(lambda: issue_checkpoint(service.ledger, caller.user, reason))
    return reply({k: row[k] for k in ("number", "size", "reason", "note", "made") if k in row},
                 201 if row["made"] else 200)


@router.get("/verify", tags=["防篡改"], summary="重算全部叶子、树、检查点与审批结果（ledger verify）")
def verify(request: Request,
           key: list[str] = Query([], description="信任的验证公钥：日志登记的第一个公钥须在其中（不给则按日志登记的公钥）"),
           witness_key: list[str] = Query([], description="见证方验证公钥"),
           caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.integrity.verify import verify_ledger
    from adapters.store.attachments import AttachmentStore, attachments_path
    everything(request, caller, "核验报告")
    service = service_of(request)
    shelf = getattr(service.ledger, "attachments", None)
    report = verify_ledger(service.engine, key, witness_key,
                           attachments=shelf.root if isinstance(shelf, AttachmentStore) else attachments_path(None))
    if report.events == 0:
        raise NotInitialized("账本中没有任何事件：这不是一个已初始化的账本，无可核验", None)
    first = report.first()
    return reply({"ok": report.ok, "events": report.events, "checkpoints": report.checkpoints,
                  "approvals": report.approvals, "attachments": report.attachments,
                  "attachments_checked": report.attachments_checked,
                  "signatures": {str(k): v for k, v in report.signatures.items()},
                  "first_problem": None if first is None else first.__dict__,
                  "problems": [p.__dict__ for p in report.problems]})


@router.get("/proofs/consistency", tags=["防篡改"], summary="两个检查点间的一致性证明（ledger prove --consistency）")
def prove_consistency(old: int, request: Request, new: int | None = None,
                      caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.store.proofs import TreeReader, consistency_bundle
    rankings(request, caller)
    return reply(proof_call(lambda: consistency_bundle(TreeReader(service_of(request).engine), old, new)))


@router.get("/proofs/{event}", tags=["防篡改"], summary="事件的包含证明（ledger prove EVENT）")
def prove(event: str, request: Request, checkpoint: int | None = None,
          caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.store.proofs import TreeReader, inclusion_bundle
    reader = TreeReader(service_of(request).engine)
    position = event_position(reader, event)
    readable_event(request, caller, proof_call(lambda: reader.event_at(position)))
    folds = service_of(request).folds  # the proof reads every leaf: once per log head
    return reply(folds.derived(("proof", position, checkpoint),
                               lambda: proof_call(lambda: inclusion_bundle(reader, position, checkpoint))))


@router.post("/receipts/{event}", tags=["防篡改"],
             summary="为事件开具回执（ledger receipt）：用覆盖它的最新检查点；尚无则请求一个（checkpoint_requested）")
def receipt(event: str, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.store.checkpoints import receipt_bundle
    from adapters.store.proofs import TreeReader, event_leaf
    service = service_of(request)
    reader = TreeReader(service.engine)
    position = event_position(reader, event)
    readable_event(request, caller, proof_call(lambda: reader.event_at(position)))
    bundle = proof_call(lambda: service.locked(lambda: receipt_bundle(service.ledger, reader, position,
                                                                      caller.user, event)))
    bundle["leaf_hash"] = event_leaf(bundle["event"]).hex()
    return reply(bundle)


@router.post("/proofs/verify", tags=["防篡改"], summary="核验证明文件（ledger verify-proof；也可离线进行）")
def verify_proof(bundle: dict[str, Any] = Body(..., embed=True), key: str = Body(..., embed=True),
                 caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.store.proofs import ProofError, verify_bundle
    try:
        return reply({"ok": True, "result": verify_bundle(bundle, key.strip())})
    except (ProofError, ValueError) as e:
        return reply({"ok": False, "result": str(e)})


@router.get("/audit/export", tags=["防篡改"], summary="导出一段日志及其证明（ledger audit export）")
def audit_export(request: Request, from_: int = Query(..., alias="from"), to: int = Query(...),
                 checkpoint: int | None = None, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.store.proofs import TreeReader, audit_bundle
    everything(request, caller, "审计导出")
    return reply(proof_call(lambda: audit_bundle(TreeReader(service_of(request).engine), from_, to, checkpoint)))
