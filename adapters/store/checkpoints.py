"""Who may have a checkpoint signed now, and how often (签发检查点).

A signed checkpoint commits the ledger to its whole log; approvals and key rotations make
one in their own transaction. On demand (``ledger checkpoint``, ``POST /checkpoints``, the
audit page's button) only :data:`ISSUERS` may ask, and a receipt whose event no checkpoint
covers yet may ask for one on its reader's behalf (and says so). Either way:

* if the latest checkpoint already covers the whole log, it is the answer (nothing new is
  signed, no limit applies);
* otherwise at most one on-demand checkpoint per ledger per ``LEDGER_CHECKPOINT_INTERVAL``
  seconds (default 60), checked under the write lock; a request sooner is refused
  (:class:`CheckpointRefused`, HTTP 429).

Refusals (no role, too soon) go to the security log like a command's.
"""
from __future__ import annotations

import os
from typing import Any

from adapters.store.recorder import ON_DEMAND
from domain.errors import CheckpointRefused
from domain.service.application import Ledger

ISSUERS = ("approver", "committee", "auditor")
DEFAULT_INTERVAL_S = 60
ISSUE = "生成检查点"


def interval_s() -> int:
    """``LEDGER_CHECKPOINT_INTERVAL`` (whole seconds ≥ 0), default 60."""
    value = os.environ.get("LEDGER_CHECKPOINT_INTERVAL", "")
    return int(value) if value.isascii() and value.isdigit() else DEFAULT_INTERVAL_S


def request_checkpoint(ledger: Ledger, user: str | None, reason: str, what: str) -> dict[str, Any]:
    """A checkpoint asked for on a reader's behalf (a receipt, a results publication): no
    role, but the per-ledger interval; the latest one when it covers the log already."""
    return _request(ledger, user, reason, what)


def _request(ledger: Ledger, user: str | None, reason: str, what: str) -> dict[str, Any]:
    try:
        return ledger.recorder.make_checkpoint(  # type: ignore[attr-defined,no-any-return]
            f"{ON_DEMAND} {user}: {reason}", on_demand_interval_us=interval_s() * 1_000_000)
    except CheckpointRefused as e:
        ledger._refused(user, what, e)
        raise


def issue_checkpoint(ledger: Ledger, user: str | None, reason: str) -> dict[str, Any]:
    """A checkpoint of the log now, asked for by ``user`` (one of :data:`ISSUERS`): the row,
    with ``made`` False if the latest one already covered the log. Raises
    :class:`PermissionDenied` or :class:`CheckpointRefused` (both logged)."""
    ledger.require_role(user, ISSUERS, ISSUE)
    return _request(ledger, user, reason, ISSUE)


def receipt_bundle(ledger: Ledger, reader: Any, position: int, user: str | None, event: str) -> dict[str, Any]:
    """The inclusion bundle of a receipt: from the latest checkpoint if it covers the event
    (``checkpoint_requested`` False); otherwise one checkpoint is asked for on the reader's
    behalf, within the interval (``checkpoint_requested`` True). Precondition: the caller
    checked ``user`` may read the event."""
    from adapters.store.proofs import ProofError, inclusion_bundle
    try:
        bundle = inclusion_bundle(reader, position)
        requested = False
    except ProofError:
        reader.event_at(position)  # no such event: ProofError, nothing asked for
        try:
            _request(ledger, user, f"receipt {event}", "为回执请求检查点")
        except CheckpointRefused as e:
            raise CheckpointRefused(f"尚无检查点覆盖该事件，已请求新的检查点但被拒绝：{e.reason}", e.field) from None
        bundle = inclusion_bundle(reader, position)
        requested = True
    return {**bundle, "checkpoint_requested": requested}


REQUESTED_NOTE = "注意：尚无检查点覆盖该事件，已为本回执请求并签发了一个新的检查点。"
