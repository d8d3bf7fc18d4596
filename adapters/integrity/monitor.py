"""The witness (见证方): its own store of every checkpoint it has seen, outside any ledger's
database; fetching a log's checkpoints with consistency proofs (a published file, HTTP
from ``ledger serve``, or a ledger's database); accepting and cosigning only what is proven
to extend what it holds (``domain/integrity/witness.py``); keeping both signed checkpoints of a split
view as evidence.

Used by ``ledger monitor`` (纪检监察部), ``ledger checkpoint cosign`` and the group ledger
(``adapters/integrity/group.py``). The store is a SQLAlchemy URL: a SQLite file for the monitor
(``LEDGER_MONITOR_STORE``, default ``ledger-monitor.sqlite3``), any database for the group.
Its tables are append-only (triggers refuse UPDATE and DELETE): a log's state is its
latest accepted row.

Publication bundle (``kind: "publication"``, ``ledger publish checkpoint`` and
``GET /publication``): ``origin``, ``from_size`` and ``checkpoints`` — every checkpoint of
size ≥ ``from_size`` in order (the latest one if none is that big), each ``{"note",
"proof"}`` with the consistency proof (hex) from the previous entry's size (the first: from
``from_size``).
"""
from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Engine

from domain.integrity.merkle import consistency_proof
from domain.integrity.note import NoteError, Signer, add_signature, open_note, parse_checkpoint
from domain.integrity.witness import (
    ACCEPTED,
    EVIDENCE,
    EXTENDS,
    FIRST,
    ROLLBACK,
    SAME,
    SPLIT_VIEW,
    UNPROVEN,
    VERDICT_NAMES,
    Tree,
    judge,
)

FORMAT = "dangjian-ledger-proof/1"
DEFAULT_STORE = "ledger-monitor.sqlite3"
BIGINT = BigInteger().with_variant(Integer(), "sqlite")
METADATA = MetaData()

LOGS = Table(  # a watched log: its origin and a key trusted for it (one row per key; rotation adds one)
    "witness_logs", METADATA,
    Column("id", BIGINT, primary_key=True, autoincrement=True),
    Column("origin", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("vkey", Text, nullable=False),
    Column("added_at_us", BIGINT, nullable=False),
)
SEEN = Table(  # every checkpoint accepted, in order per log; ``cosigned``: the note with the witness's signature
    "witness_checkpoints", METADATA,
    Column("id", BIGINT, primary_key=True, autoincrement=True),
    Column("origin", String(200), nullable=False),
    Column("size", BIGINT, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("cosigned", Text, nullable=True),
    Column("seen_at_us", BIGINT, nullable=False),
)
EVIDENCE_TABLE = Table(  # a split view or rollback: both signed checkpoints, as found
    "witness_evidence", METADATA,
    Column("id", BIGINT, primary_key=True, autoincrement=True),
    Column("origin", String(200), nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("held_note", Text, nullable=False),
    Column("new_note", Text, nullable=False),
    Column("proof", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("found_at_us", BIGINT, nullable=False),
)
APPEND_ONLY = ("witness_logs", "witness_checkpoints", "witness_evidence", "group_results")


class WitnessError(ValueError):
    """A request the witness refuses (reason in Chinese, ``field`` names the input)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


def store_url(path_or_url: str | None = None) -> str:
    """A SQLAlchemy URL from an option, ``LEDGER_MONITOR_STORE`` or the default file name."""
    value = path_or_url or os.environ.get("LEDGER_MONITOR_STORE") or DEFAULT_STORE
    return value if "://" in value else f"sqlite:///{value}"


def _now_us() -> int:
    return time.time_ns() // 1000


def install_append_only(engine: Engine, tables: Iterable[str]) -> None:
    """Triggers refusing UPDATE and DELETE on the store's tables (as the ledger's own)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7294002)"))
            conn.execute(text(
                "CREATE OR REPLACE FUNCTION witness_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'witness table % is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$"))
            for table in tables:
                conn.execute(text(f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                                  f"ON {table} FOR EACH ROW EXECUTE FUNCTION witness_refuse_change()"))
        else:
            for table in tables:
                for op in ("UPDATE", "DELETE"):
                    conn.execute(text(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON "
                                      f"{table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"))


@dataclass
class Held:
    """The last checkpoint a witness accepted for a log."""

    tree: Tree
    note: str
    cosigned: str | None


WITNESS_TABLES = (LOGS.name, SEEN.name, EVIDENCE_TABLE.name)


def missing_store(url: str, needed: tuple[str, ...], what: str) -> None:
    """Raise :class:`WitnessError` if the store at ``url`` or any of its tables is absent,
    without creating anything (a SQLite file is looked for before it is opened)."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and os.path.exists(parsed.database)):
        raise WitnessError(f"本方存储不存在：{parsed.database or url}（由 {what} 首次运行时建立；或用 --store 指向它）", "store")
    engine = create_engine(url)
    try:
        present = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    absent = sorted(set(needed) - present)
    if absent:
        raise WitnessError(f"本方存储 {parsed.render_as_string(hide_password=True)} 缺少表 {', '.join(absent)}"
                           f"（由 {what} 首次运行时建立）", "store")


class WitnessStore:
    """The witness's own tables at ``url``: created by the commands that write them
    (``create``), never by a read; a read of a store that does not exist is a
    :class:`WitnessError` naming it and the command that creates it (``what``)."""

    def __init__(self, url: str, metadata: MetaData = METADATA, *, create: bool = True,
                 what: str = "ledger monitor", needed: tuple[str, ...] = ()) -> None:
        if not create:
            missing_store(url, needed or WITNESS_TABLES, what)
        self.engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", lambda c, _: c.execute("PRAGMA busy_timeout = 10000"))
        if create:
            metadata.create_all(self.engine)
            install_append_only(self.engine, [t for t in APPEND_ONLY if t in metadata.tables])

    def close(self) -> None:
        self.engine.dispose()

    # -- logs and keys
    def keys(self, origin: str) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(LOGS.c.vkey).where(LOGS.c.origin == origin).order_by(LOGS.c.id))]

    def logs(self) -> list[dict[str, Any]]:
        """Every log watched: origin, name (of its first enrolment) and keys."""
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(LOGS.c.origin, LOGS.c.name, LOGS.c.vkey).order_by(LOGS.c.id)))
        found: dict[str, dict[str, Any]] = {}
        for origin, name, vkey in rows:
            found.setdefault(origin, {"origin": origin, "name": name, "keys": []})["keys"].append(vkey)
        return list(found.values())

    def enroll(self, origin: str, vkey: str, name: str | None = None) -> None:
        """Trust ``vkey`` for ``origin`` (idempotent). Precondition: a valid verifier key."""
        if vkey in self.keys(origin):
            return
        with self.engine.begin() as conn:
            conn.execute(LOGS.insert().values(origin=origin, name=name or origin, vkey=vkey, added_at_us=_now_us()))

    # -- checkpoints
    def held(self, origin: str) -> Held | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(SEEN.c.size, SEEN.c.root, SEEN.c.note, SEEN.c.cosigned)
                               .where(SEEN.c.origin == origin).order_by(SEEN.c.id.desc()).limit(1)).first()
        return None if row is None else Held(Tree(row[0], bytes(row[1])), row[2], row[3])

    def at_size(self, origin: str, size: int) -> Held | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(SEEN.c.size, SEEN.c.root, SEEN.c.note, SEEN.c.cosigned)
                               .where(SEEN.c.origin == origin, SEEN.c.size == size)
                               .order_by(SEEN.c.id).limit(1)).first()
        return None if row is None else Held(Tree(row[0], bytes(row[1])), row[2], row[3])

    def accept(self, origin: str, tree: Tree, note: str, verdict: str, cosigned: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(SEEN.insert().values(origin=origin, size=tree.size, root=tree.root, note=note,
                                              verdict=verdict, cosigned=cosigned, seen_at_us=_now_us()))

    def seen(self, origin: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(SEEN.c.size, SEEN.c.root, SEEN.c.note, SEEN.c.verdict, SEEN.c.cosigned)
                                .where(SEEN.c.origin == origin).order_by(SEEN.c.id))
            return [{"size": r[0], "root": bytes(r[1]), "note": r[2], "verdict": r[3], "cosigned": r[4]}
                    for r in rows]

    def record_evidence(self, origin: str, verdict: str, held_note: str, new_note: str, proof: list[str],
                        detail: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(EVIDENCE_TABLE.insert().values(
                origin=origin, verdict=verdict, held_note=held_note, new_note=new_note, proof=json.dumps(proof),
                detail=detail, found_at_us=_now_us()))

    def evidence(self, origin: str | None = None) -> list[dict[str, Any]]:
        query = select(EVIDENCE_TABLE).order_by(EVIDENCE_TABLE.c.id)
        if origin is not None:
            query = query.where(EVIDENCE_TABLE.c.origin == origin)
        with self.engine.connect() as conn:
            return [{"origin": r.origin, "verdict": r.verdict, "held": r.held_note, "new": r.new_note,
                     "proof": json.loads(r.proof), "detail": r.detail} for r in conn.execute(query)]


# -- sources of checkpoints ------------------------------------------------------------------------
def publication(engine: Engine, from_size: int = 0, upto_number: int | None = None) -> dict[str, Any]:
    """The publication bundle of the ledger at ``engine`` (see the module docstring),
    proofs computed from its stored leaf hashes (a witness checks them against the signed
    roots, so the database need not be trusted). ``upto_number``: stop at that checkpoint."""
    from adapters.store.proofs import TreeReader
    reader = TreeReader(engine)
    rows = reader.checkpoints()
    if upto_number is not None:
        rows = [r for r in rows if r.number <= upto_number]
    if not rows:
        raise WitnessError("账本还没有检查点：先运行 ledger checkpoint", "checkpoint")
    chosen = [r for r in rows if r.size >= from_size] or [rows[-1]]
    origin = parse_checkpoint(chosen[-1].note.split("\n\n")[0] + "\n").origin
    from adapters.store.proofs import ProofError
    try:
        leaves = reader.leaf_hashes(chosen[-1].size) if chosen[-1].size >= from_size else []
    except ProofError:
        leaves = []  # fewer leaves than the checkpoint claims: no proof (a witness will not accept it)
    entries, previous = [], from_size
    for r in chosen:
        ok = previous <= r.size and len(leaves) >= r.size
        proof = consistency_proof(previous, r.size, leaves.__getitem__) if ok else []
        entries.append({"number": r.number, "note": r.note, "proof": [h.hex() for h in proof]})
        previous = r.size
    return {"format": FORMAT, "kind": "publication", "origin": origin, "from_size": from_size,
            "checkpoints": entries}


def bundle_from_file(content: str) -> dict[str, Any]:
    """A publication from a file: a publication bundle, a consistency bundle (``ledger
    prove --consistency``) or a bare signed checkpoint (accepted only as a first sight or
    the same checkpoint: it carries no proof)."""
    stripped = content.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(content)
        except ValueError as e:
            raise WitnessError(f"文件不是有效的 JSON：{e}", "file") from None
        if data.get("kind") == "publication":
            return data  # type: ignore[no-any-return]
        if data.get("kind") == "consistency":
            old = _open_any(data["old"])
            return {"format": FORMAT, "kind": "publication", "from_size": old.size,
                    "checkpoints": [{"note": data["new"], "proof": data.get("proof", [])}]}
        raise WitnessError(f"不认识的文件类型 {data.get('kind')!r}：应为检查点、发布包或一致性证明", "file")
    _open_any(content)
    return {"format": FORMAT, "kind": "publication", "from_size": None,
            "checkpoints": [{"note": content, "proof": None}]}


def _open_any(note: str) -> Any:
    """The checkpoint body of a note, without checking signatures (for routing only)."""
    try:
        return parse_checkpoint(note.split("\n\n")[0] + "\n")
    except (NoteError, IndexError) as e:
        raise WitnessError(f"不是签名检查点：{e}", "file") from None


Getter = Callable[[str], Any]


def http_get(base_url: str, token: str | None) -> Getter:
    """A JSON GET against ``ledger serve`` at ``base_url`` with a bearer token."""
    def get(path: str) -> Any:
        request = urllib.request.Request(base_url.rstrip("/") + path,
                                         headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - an operator's URL
                return json.loads(response.read())
        except OSError as e:
            raise WitnessError(f"无法从 {base_url} 取得 {path}：{e}", "url") from None
    return get


def fetch_publication(get: Getter, from_size: int) -> dict[str, Any]:
    """``GET /publication?from_size=S`` of a company's ``ledger serve``."""
    data = get("/publication?" + urllib.parse.urlencode({"from_size": from_size}))
    if not isinstance(data, dict) or data.get("kind") != "publication":
        raise WitnessError("服务器返回的不是检查点发布包", "url")
    return data


# -- observing -------------------------------------------------------------------------------------
@dataclass
class Observation:
    """What one look at a log found."""

    origin: str
    accepted: list[dict[str, Any]] = field(default_factory=list)  # {"size", "verdict", "cosigned"}
    verdict: str = SAME  # of the last checkpoint looked at
    evidence: dict[str, Any] | None = None  # {"verdict", "held", "new", "proof", "detail"}
    held: Held | None = None  # after the look

    @property
    def ok(self) -> bool:
        return self.evidence is None and self.verdict in ACCEPTED

    def as_dict(self) -> dict[str, Any]:
        return {"origin": self.origin, "ok": self.ok, "verdict": self.verdict,
                "verdict_text": VERDICT_NAMES[self.verdict],
                "accepted": [{"size": a["size"], "verdict": a["verdict"], "cosigned": a["cosigned"]}
                             for a in self.accepted],
                "held": None if self.held is None else {"size": self.held.tree.size, "root": self.held.tree.root.hex(),
                                                        "note": self.held.note, "cosigned": self.held.cosigned},
                "evidence": self.evidence}


def open_checkpoint(note: str, keys: list[str], origin: str) -> tuple[Tree, Any]:
    try:
        body, _ = open_note(note, keys)
        cp = parse_checkpoint(body)
    except NoteError as e:
        raise WitnessError(f"检查点签名无效或格式错误（不能归于 {origin}）：{e}", "checkpoint") from None
    if cp.origin != origin:
        raise WitnessError(f"检查点的来源是 {cp.origin}，不是 {origin}", "origin")
    return Tree(cp.size, cp.root), cp


def _proof(hexes: Any) -> list[bytes] | None:
    if hexes is None:
        return None
    try:
        return [bytes.fromhex(h) for h in hexes]
    except (TypeError, ValueError):
        return []  # unreadable proof: it proves nothing (judge gives a split view)


def observe(store: WitnessStore, origin: str, bundle: dict[str, Any], witness: Signer | None,
            log_key: str | None = None, name: str | None = None) -> Observation:
    """Look at a log's publication ``bundle``: accept (and cosign with ``witness``) each
    checkpoint proven to extend the held one, stop at the first that does not and keep both
    checkpoints as evidence. ``log_key``: the key to pin for ``origin`` on first sight (later
    the pinned keys are used; a checkpoint with ``new-key`` adds its key). Raises
    :class:`WitnessError` for a note no trusted key signed (not attributable: no evidence)."""
    if log_key is not None and not store.keys(origin):
        store.enroll(origin, log_key, name)
    keys = store.keys(origin)
    if not keys:
        raise WitnessError(f"没有 {origin} 的公钥：首次见证时用 --log-key 指定", "log_key")
    entries = bundle.get("checkpoints") or []
    if not entries:
        raise WitnessError("发布包中没有检查点", "checkpoints")
    result = Observation(origin, held=store.held(origin))
    cursor = bundle.get("from_size")
    last_tree, last_note = None, None
    for entry in entries:
        note = entry.get("note") if isinstance(entry, dict) else None
        if not isinstance(note, str):
            raise WitnessError("发布包中的检查点应为签名文本", "checkpoints")
        tree, cp = open_checkpoint(note, keys, origin)
        proof_from, cursor = cursor, tree.size
        last_tree, last_note = tree, note
        held = result.held
        if held is not None and tree.size < held.tree.size:
            earlier = store.at_size(origin, tree.size)
            if earlier is not None and earlier.tree.root != tree.root:
                return _caught(store, result, SPLIT_VIEW, earlier.note, note, [],
                               f"大小为 {tree.size} 的检查点与本方早先见证的同大小检查点根哈希不同")
            continue  # older than what is held, and not contradicting it
        proof = _proof(entry.get("proof")) if held is not None and proof_from == held.tree.size else None
        verdict = judge(held.tree if held else None, tree, proof)
        result.verdict = verdict
        if verdict == SAME:
            continue
        if verdict in (FIRST, EXTENDS):
            cosigned = add_signature(note, witness) if witness is not None else None
            store.accept(origin, tree, note, verdict, cosigned)
            result.accepted.append({"size": tree.size, "verdict": verdict, "cosigned": cosigned, "note": note})
            result.held = Held(tree, note, cosigned)
            for line in cp.extensions:  # key rotation: a checkpoint signed by a trusted key names the next
                if line.startswith("new-key "):
                    store.enroll(origin, line.removeprefix("new-key "), name)
                    keys = store.keys(origin)
            continue
        if verdict == UNPROVEN:
            return result
        assert held is not None
        detail = (f"大小 {held.tree.size} 的已见证检查点不是大小 {tree.size} 的新检查点的前缀（一致性证明不成立）"
                  if verdict == SPLIT_VIEW and tree.size != held.tree.size
                  else f"同为大小 {tree.size}，根哈希不同" if verdict == SPLIT_VIEW else "")
        return _caught(store, result, verdict, held.note, note, entry.get("proof") or [], detail)
    held = result.held
    if held is not None and last_tree is not None and last_note is not None and last_tree.size < held.tree.size:
        return _caught(store, result, ROLLBACK, held.note, last_note, [],
                       f"最新检查点只覆盖 {last_tree.size} 个事件，本方已见证 {held.tree.size} 个：历史被截断")
    return result


def _caught(store: WitnessStore, result: Observation, verdict: str, held_note: str, new_note: str,
            proof: list[str], detail: str) -> Observation:
    assert verdict in EVIDENCE
    store.record_evidence(result.origin, verdict, held_note, new_note, list(proof), detail)
    result.verdict = verdict
    result.evidence = {"verdict": verdict, "verdict_text": VERDICT_NAMES[verdict], "held": held_note,
                       "new": new_note, "proof": list(proof), "detail": detail}
    return result


def add_cosignatures(engine: Engine, notes: Iterable[str]) -> int:
    """Store witnesses' cosigned notes in a ledger (``ledger_cosignatures``): each must be a
    stored checkpoint's text with more signatures. Returns how many were added; raises
    :class:`WitnessError` (nothing written) for a note matching no checkpoint."""
    from adapters.store.tree import CHECKPOINTS, COSIGNATURES
    with engine.begin() as conn:
        stored = {row.note.split("\n\n")[0]: row.number for row in conn.execute(
            select(CHECKPOINTS.c.number, CHECKPOINTS.c.note))}
        existing = {row.note for row in conn.execute(select(COSIGNATURES.c.note))}
        added = 0
        for note in notes:
            number = stored.get(note.split("\n\n")[0])
            if number is None:
                raise WitnessError("会签的检查点不在本账本中", "note")
            if note in existing:
                continue
            signers = [line.split(" ")[1] for line in note.split("\n\n", 1)[1].splitlines() if line.startswith("\u2014 ")]
            conn.execute(COSIGNATURES.insert().values(checkpoint=number, signer=signers[-1][:200], note=note))
            existing.add(note)
            added += 1
    return added
