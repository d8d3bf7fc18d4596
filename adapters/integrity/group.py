"""The group ledger (集团账本): a witness over every member company's log, plus the companies'
published results, read group-wide.

Member companies are registered by log origin and public key (``witness_logs``); their
checkpoints are collected and judged by the witness code (``adapters/integrity/monitor.py``); a
company with a split view or rollback on record is flagged and its results are not
accepted. A company publishes a period's results as the approval event with its inclusion
proof (``ledger publish quarter|year``, ``GET /publication/quarter/{period}``); the group
accepts it only against a checkpoint it has itself witnessed (same size and root), with the
event being that period's approval. Group rankings are computed from the accepted events'
rows; each row carries that proof.

No cross-company transaction: each company's log is its own; the group store holds copies
of signed notes and proofs, nothing a company could not show anyone.
"""
from __future__ import annotations

import base64
import json
import time
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Column, String, Table, Text, select
from sqlalchemy.engine import Engine

from adapters.integrity.monitor import BIGINT, FORMAT, METADATA, WitnessError, WitnessStore, open_checkpoint
from adapters.store.logreader import LogReader
from adapters.store.proofs import ProofError, TreeReader, event_leaf, inclusion_bundle
from domain.ids import quarter_id, year_id
from domain.integrity.log import LoggedEvent
from domain.integrity.merkle import verify_inclusion
from domain.integrity.note import parse_verifier_key

GROUP_RESULTS = Table(
    "group_results", METADATA,
    Column("id", BIGINT, primary_key=True, autoincrement=True),
    Column("origin", String(200), nullable=False),
    Column("level", String(10), nullable=False),
    Column("period", String(10), nullable=False),
    Column("bundle", Text, nullable=False),
    Column("accepted_at_us", BIGINT, nullable=False),
)
LEVELS = {"quarter": (quarter_id, ("AssessmentQuarter.Approved", "AssessmentQuarter.Reapproved"), "ranking"),
          "year": (year_id, ("AssessmentYear.Approved", "AssessmentYear.Reapproved"), "results")}
LEVEL_NAMES = {"quarter": "季度", "year": "年度"}


def _level(level: str) -> tuple[Any, tuple[str, ...], str]:
    if level not in LEVELS:
        raise WitnessError(f"级别应为 quarter 或 year，不是 {level!r}", "level")
    return LEVELS[level]


# -- the company side ------------------------------------------------------------------------------
def results_bundle(engine: Engine, level: str, period: str) -> dict[str, Any]:
    """The latest approval of ``period`` with its inclusion proof in the latest checkpoint."""
    make_id, topics, _ = _level(level)
    approvals = list(LogReader(engine).read(aggregate_id=make_id(period), topic_suffixes=topics))
    if not approvals:
        raise WitnessError(f"{period} 尚未审批：没有可公布的{LEVEL_NAMES[level]}结果", "period")
    try:
        bundle = inclusion_bundle(TreeReader(engine), approvals[-1].position)
    except ProofError as e:
        raise WitnessError(str(e), "checkpoint") from None
    return {**bundle, "kind": "results", "level": level, "period": period}


# -- the group side --------------------------------------------------------------------------------
class Group:
    """The group ledger over a :class:`WitnessStore` (any SQLAlchemy URL)."""

    def __init__(self, store: WitnessStore) -> None:
        self.store = store

    def register(self, name: str, origin: str, vkey: str) -> dict[str, Any]:
        """Register a member company. Refused: a bad key, a key named other than the origin,
        an origin already registered with another key (rotation goes through checkpoints)."""
        if not name.strip():
            raise WitnessError("公司名称不能为空", "name")
        try:
            key = parse_verifier_key(vkey.strip())
        except ValueError as e:
            raise WitnessError(f"公钥无效：{e}", "key") from None
        if key.name != origin:
            raise WitnessError(f"公钥名称 {key.name} 与日志来源 {origin} 不同", "origin")
        known = self.store.keys(origin)
        if known and vkey.strip() not in known:
            raise WitnessError(f"{origin} 已登记为另一把公钥；更换密钥须经该公司签署的检查点（ledger key rotate）", "key")
        self.store.enroll(origin, vkey.strip(), name.strip())
        return {"origin": origin, "name": name.strip(), "key": vkey.strip()}

    def members(self) -> list[dict[str, Any]]:
        """Every member, with what the group holds of it and whether it is flagged."""
        out = []
        for log in self.store.logs():
            held = self.store.held(log["origin"])
            evidence = self.store.evidence(log["origin"])
            out.append({**log, "size": None if held is None else held.tree.size,
                        "root": None if held is None else held.tree.root.hex(),
                        "flagged": bool(evidence), "evidence": evidence})
        return out

    def member(self, origin: str) -> dict[str, Any]:
        """The registered member ``origin`` (name, origin); a :class:`WitnessError` if there is none."""
        for log in self.store.logs():
            if log["origin"] == origin:
                return log
        raise WitnessError(f"{origin} 不是已登记的成员公司（ledger group register）", "origin")

    def flagged(self, origin: str) -> bool:
        return bool(self.store.evidence(origin))

    def accept_results(self, origin: str, bundle: dict[str, Any]) -> dict[str, Any]:
        """Accept a company's published results. Refused (nothing written) unless: the company
        is registered and not flagged; the checkpoint is signed by its key and is one the
        group witnessed; the event is included in it and is the period's approval."""
        member = self.member(origin)
        if self.flagged(origin):
            raise WitnessError(f"{member['name']}（{origin}）有分叉或回退证据在案，其结果不予接受", "origin")
        if bundle.get("format") != FORMAT or bundle.get("kind") != "results":
            raise WitnessError("不是结果发布包（ledger publish quarter|year）", "file")
        level, period = str(bundle.get("level")), str(bundle.get("period"))
        make_id, topics, _ = _level(level)
        try:
            tree, _ = open_checkpoint(bundle["checkpoint"], self.store.keys(origin), origin)
            held = self.store.at_size(origin, tree.size)
            if held is None or held.tree.root != tree.root:
                raise WitnessError(f"结果所附检查点（大小 {tree.size}）不是集团见证过的检查点：先收取该公司的检查点",
                                   "checkpoint")
            event = bundle["event"]
            proof = [bytes.fromhex(h) for h in bundle["proof"]]
            if not verify_inclusion(event_leaf(event), int(bundle["leaf_index"]), tree.size, proof, tree.root):
                raise WitnessError("包含证明不成立：该事件不在所附检查点的树中", "proof")
            if UUID(event["aggregate_id"]) != make_id(period) or not event["topic"].endswith(topics):
                raise WitnessError(f"所附事件不是 {period} 的{LEVEL_NAMES[level]}审批", "event")
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, WitnessError):
                raise
            raise WitnessError(f"结果发布包格式错误：{e}", "file") from None
        with self.store.engine.begin() as conn:
            conn.execute(GROUP_RESULTS.insert().values(origin=origin, level=level, period=period,
                                                       bundle=json.dumps(bundle, ensure_ascii=False),
                                                       accepted_at_us=time.time_ns() // 1000))
        return {"origin": origin, "level": level, "period": period, "size": tree.size}

    def rankings(self, level: str, period: str) -> dict[str, Any]:
        """Every branch of every member's accepted results for ``period``, ranked group-wide by
        score (ties share a rank); flagged members are listed apart, not ranked."""
        _, _, rows_field = _level(level)
        with self.store.engine.connect() as conn:
            stored = list(conn.execute(select(GROUP_RESULTS.c.origin, GROUP_RESULTS.c.bundle)
                                       .where(GROUP_RESULTS.c.level == level, GROUP_RESULTS.c.period == period)
                                       .order_by(GROUP_RESULTS.c.id)))
        latest: dict[str, dict[str, Any]] = {}
        for origin, bundle in stored:
            latest[origin] = json.loads(bundle)  # the last accepted per company: a re-approval supersedes
        names = {log["origin"]: log["name"] for log in self.store.logs()}
        rows, flagged, missing = [], [], []
        for origin in names:
            if self.flagged(origin):
                flagged.append({"origin": origin, "company": names[origin]})
                continue
            bundle = latest.get(origin)
            if bundle is None:
                missing.append({"origin": origin, "company": names[origin]})
                continue
            event = bundle["event"]
            data = LoggedEvent(int(event["position"]), int(event["recorded_at_us"]), UUID(event["aggregate_id"]),
                               int(event["version"]), event["topic"],
                               orjson.loads(base64.b64decode(event["payload"]))).data
            proof = {"checkpoint": bundle["checkpoint"], "leaf_index": bundle["leaf_index"],
                     "hashes": bundle["proof"], "event": event}
            for r in data[rows_field]:
                rows.append({"origin": origin, "company": names[origin], "branch": r["branch"],
                             "score": Decimal(r["score"]), "company_rank": r.get("rank"), "proof": proof})
        rows.sort(key=lambda r: (-r["score"], r["company"], r["branch"]))
        for i, r in enumerate(rows):
            r["group_rank"] = rows[i - 1]["group_rank"] if i and rows[i - 1]["score"] == r["score"] else i + 1
        return {"level": level, "period": period, "rows": rows, "flagged": flagged, "missing": missing}


GROUP_STORE_DEFAULT = "ledger-group.sqlite3"
GROUP_KEY_DEFAULT = "ledger-group.key"


def open_group(create: bool) -> Group:
    """The group ledger at ``LEDGER_GROUP_DATABASE_URL`` (default ``ledger-group.sqlite3``):
    created (with its tables) only when ``create`` (registering, collecting, accepting); a
    read of a group ledger that does not exist is a :class:`WitnessError`."""
    import os

    from adapters.integrity.monitor import WITNESS_TABLES, store_url
    url = store_url(os.environ.get("LEDGER_GROUP_DATABASE_URL") or GROUP_STORE_DEFAULT)
    return Group(WitnessStore(url, create=create, what="ledger group init 或 ledger group register",
                              needed=(*WITNESS_TABLES, GROUP_RESULTS.name)))


def group_signer(create: bool) -> Any:
    """The group witness's signer (``LEDGER_GROUP_KEY``, default ``ledger-group.key``, named
    ``LEDGER_GROUP_NAME``, default ``group-witness``): generated only when ``create``
    (``ledger group init``, a first ``collect``); otherwise a missing key is a
    :class:`WitnessError` naming the file."""
    import os
    from pathlib import Path

    from adapters.store.tree import load_or_create_signer
    path = Path(os.environ.get("LEDGER_GROUP_KEY") or GROUP_KEY_DEFAULT)
    if not create and not path.exists():
        raise WitnessError(f"集团见证方私钥不存在：{path.resolve()}（由 ledger group init 生成；或设置 LEDGER_GROUP_KEY 指向它）",
                           "LEDGER_GROUP_KEY")
    return load_or_create_signer(path, os.environ.get("LEDGER_GROUP_NAME") or "group-witness")

