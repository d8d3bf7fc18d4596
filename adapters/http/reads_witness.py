"""HTTP 读取：见证与公布 (the witness's reads of a company's ledger): the checkpoint
publication with consistency proofs, a period's published results with inclusion proof, and
handing back a witness's cosignatures — as ``ledger publish checkpoint|quarter|year`` and
``ledger witness add-cosignatures``. Mechanisms: ``adapters/integrity/monitor.py``, ``adapters/integrity/group.py``."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from adapters.http.deps import Caller, LedgerJSON, authenticated, reply, service_of
from adapters.http.reads import ProofNotFound, everything, rankings
from domain.errors import InvalidInput

router = APIRouter(tags=["防篡改"])


def _witness_call(action: Any) -> Any:
    from adapters.integrity.monitor import WitnessError
    try:
        return action()
    except WitnessError as e:
        raise ProofNotFound(e.reason, e.field) from None


@router.get("/publication", summary="检查点发布包：自 from_size 起的检查点及一致性证明（ledger publish checkpoint）")
def publication(request: Request, from_size: int = Query(0, ge=0, le=2**63 - 1),
                caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.integrity.monitor import publication as bundle
    rankings(request, caller)
    return reply(_witness_call(lambda: bundle(service_of(request).engine, from_size)))


def _results(request: Request, caller: Caller, level: str, period: str) -> LedgerJSON:
    from adapters.integrity.group import results_bundle
    from adapters.integrity.monitor import WitnessError
    rankings(request, caller)
    service = service_of(request)
    try:
        return reply(results_bundle(service.engine, level, period))
    except WitnessError:
        from adapters.store.checkpoints import request_checkpoint
        service.locked(lambda: request_checkpoint(service.ledger, caller.user, f"publish {level} {period}",
                                                  "为公布结果请求检查点"))
        return reply(_witness_call(lambda: results_bundle(service.engine, level, period)))


@router.get("/publication/quarter/{period}", summary="季度已审批排名及其包含证明（ledger publish quarter）")
def publication_quarter(period: str, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    return _results(request, caller, "quarter", period)


@router.get("/publication/year/{year}", summary="年度已审批总评及其包含证明（ledger publish year）")
def publication_year(year: str, request: Request, caller: Caller = Depends(authenticated)) -> LedgerJSON:
    return _results(request, caller, "year", year)


@router.post("/cosignatures", status_code=201, summary="存入见证方会签过的检查点（ledger witness add-cosignatures）")
def cosignatures(request: Request, notes: list[str] = Body(..., embed=True),
                 caller: Caller = Depends(authenticated)) -> LedgerJSON:
    from adapters.integrity.monitor import WitnessError, add_cosignatures
    everything(request, caller, "存入会签")
    try:
        return reply({"added": add_cosignatures(service_of(request).engine, notes)}, 201)
    except WitnessError as e:
        raise InvalidInput(e.reason, e.field or "notes") from None
