"""Backup and restore (备份与恢复) of a whole ledger: the database, the signing key, the
person key store and a manifest (``ledger backup --to DIR``, ``ledger restore --from DIR``).

A backup directory (created mode 0700; every file in it mode 0600) holds:

* the database — SQLite: ``database.sqlite3``, a consistent copy made with SQLite's online
  backup API (``sqlite3.Connection.backup``) while writers may go on; PostgreSQL:
  ``tables/<table>.jsonl``, every ledger table, one JSON array per row in primary-key order
  (bytes as ``{"b64": …}``, UUIDs as ``{"uuid": …}``), all read in ONE ``REPEATABLE READ,
  READ ONLY`` transaction: one snapshot, as ``pg_dump`` takes, without blocking writers;
* ``signing.key``: the ledger's Ed25519 private key — a SECRET (whoever holds it can sign
  checkpoints in the ledger's name);
* ``person-keys.sqlite3``: the person key store (adapters/store/keystore.py) — SECRETS: the keys
  that open the talk/visit summaries; absent only when the ledger has no key store at all;
* ``attachments/<ab>/<sha256>``: the appeals' attached scans (adapters/store/attachments.py)
  that the snapshot's log names (``EntryAppeals.Filed`` events with an ``attachment``), copied
  from ``LEDGER_ATTACHMENTS``, each checked against its SHA-256 as it is copied; a named file
  missing or altered in the store is not copied and is listed in the manifest as
  ``attachments.unavailable`` (the backup says so, and a restore of it fails verification);
* ``manifest.json``, written last (a backup cut off has none and is refused): every file's
  part, size and SHA-256, every table's row count (and columns, PostgreSQL), the log's size
  and Merkle root at backup time (from the snapshot's stored leaves), its latest signed
  checkpoint, and the signing key's verifier key.

Order: the database snapshot first, then the key store — a summary's key is created before
its ciphertext is written, so every ciphertext in the snapshot has its key in the later
copy. The signing key must be the key the snapshot's log declares in force.

Why not ``pg_dump`` for PostgreSQL: it needs a client of the server's major version on the
backup host, writes the schema's name into the dump (a restore into another database or
schema needs renaming), and carries owners and grants of the old cluster. The export here
needs nothing but the ledger's own connection; ``ledger restore`` recreates the tables,
indexes and append-only triggers with the same code as ``ledger init``, inserts the rows in
one transaction and moves the id sequences past the restored ids. What it does not carry:
roles and grants (run ``ledger writer-role`` again) and tables that are not the ledger's
(listed in the manifest as ``other_tables``, never backed up).

Restore refuses, before writing anything, a manifest that is missing or malformed, a file
missing or whose size or SHA-256 differs from the manifest, a part missing from the
manifest (the signing key above all), a backup of the other database kind, and a target that
is not empty: a database holding rows in any ledger table, an existing signing-key file that
is not the backup's, a key store holding keys. Then it restores the three parts, runs the
full verification (adapters/integrity/verify.py), checks that every attachment the restored
log names is in the target's attachment folder with its SHA-256 and size, with the manifest's latest checkpoint as a published
one (adapters/integrity/verify_witness.py), and compares the log's size and root, every table's rows,
the signing key and the key store's count with the manifest; any difference is a problem.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Iterator
from uuid import UUID

import orjson
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from adapters.bootstrap import close, create_tables, engine_of, make_ledger, open_ledger, sqlite_path
from adapters.integrity.verify import PROBLEM_NAMES, Problem, Report, verify_ledger
from adapters.store.attachments import MATCHES, MISSING, AttachmentStore, attachments_path
from adapters.store.keystore import keystore_path
from adapters.store.tree import key_path, load_existing_signer
from domain.errors import BackupRefused
from domain.integrity.merkle import CompactRange
from domain.integrity.signing import signing_keys_id

FORMAT = "dangjian-ledger-backup/1"
MANIFEST = "manifest.json"
DATABASE_FILE = "database.sqlite3"
TABLES_DIR = "tables"
SIGNING_KEY_FILE = "signing.key"
KEYSTORE_FILE = "person-keys.sqlite3"
ATTACHMENTS_DIR = "attachments"
PARTS = {"database": "数据库", "signing_key": "签名私钥", "keystore": "个人密钥库", "attachment": "申诉附件"}
AGAINST_NAME = "备份清单中的最新检查点"
BATCH = 1000

PROBLEM_NAMES.update({  # what a restore compares with its manifest (the verify kinds are named there)
    "backup_size_differs": "日志大小与备份清单不符",
    "backup_root_differs": "日志根哈希与备份清单不符",
    "backup_rows_differ": "表的行数与备份清单不符",
    "backup_key_differs": "签名私钥与备份清单或日志登记的公钥不符",
    "backup_keystore_differs": "个人密钥库与备份清单不符",
    "backup_attachment_missing": "日志中申诉的附件在附件库中缺失",
    "backup_attachment_differs": "日志中申诉的附件与日志记录的 SHA-256 不符",
})


def ledger_table_names() -> set[str]:
    """The tables that make up a ledger's database: the log (the library's events table),
    import keys, tree, checkpoints, cosignatures, security log, read model, web log-in."""
    from adapters.credentials import METADATA as CREDENTIALS
    from adapters.store.recorder import METADATA as STORE
    from adapters.store.tree import METADATA as TREE
    from adapters.store.views import METADATA as VIEWS
    return {"ledger_events", *STORE.tables, *TREE.tables, *VIEWS.tables, *CREDENTIALS.tables}


def read_model_tables() -> set[str]:
    """The maintained view's tables: a fold of the log, replaced by the backup's on restore
    (``MaintainedView`` writes its tracking row as soon as the tables are created)."""
    from adapters.store.views import METADATA as VIEWS
    return set(VIEWS.tables)


# -- files ----------------------------------------------------------------------------------

def _secret_file(path: Path) -> BinaryIO:
    """A new file, mode 0600 (refused if it exists)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _digest(path: Path) -> dict[str, Any]:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return {"size": path.stat().st_size, "sha256": h.hexdigest()}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sqlite_copy(source: Path, target: Path, *, create: bool) -> None:
    """Copy SQLite database ``source`` (opened read-only: never created) into ``target``
    with the online backup API; ``create``: ``target`` is a new file (mode 0600)."""
    if create:
        _secret_file(target).close()
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True, timeout=60)
    try:
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_counts(path: Path, tables: tuple[str, ...] | None = None) -> dict[str, int]:
    """Rows per table of SQLite file ``path`` (opened read-only); ``tables`` None: all."""
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        names = tables or tuple(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {n: int(conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in names if n in present}
    finally:
        conn.close()


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    raise BackupRefused(f"不能备份类型为 {type(value).__name__} 的列值", None)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "b64" in value:
            return base64.b64decode(value["b64"])
        if "uuid" in value:
            return UUID(value["uuid"])
    return value


# -- the snapshot's state -------------------------------------------------------------------

def _log_state(conn: Connection) -> dict[str, Any]:
    """Size and root of the log from its stored leaves, the latest checkpoint, and the
    verifier keys the log declares (oldest first), as ``conn`` sees them."""
    tree = CompactRange()
    for (leaf,) in conn.execution_options(stream_results=True, yield_per=5000).execute(
            text("SELECT leaf_hash FROM ledger_positions ORDER BY seq")):
        tree.append(bytes(leaf))
    cp = conn.execute(text("SELECT number, size, root, note FROM ledger_checkpoints ORDER BY number DESC LIMIT 1")).first()
    agg = signing_keys_id()
    declared = [orjson.loads(bytes(state))["verifier_key"] for (state,) in conn.execute(
        text("SELECT state FROM ledger_events WHERE originator_id = :a ORDER BY originator_version"),
        {"a": agg.bytes if conn.dialect.name == "sqlite" else str(agg)})]
    return {"size": tree.size, "root": tree.root().hex(), "declared_keys": declared,
            "checkpoint": None if cp is None else {"number": cp[0], "size": cp[1], "root": bytes(cp[2]).hex(),
                                                   "note": cp[3]}}


def _named_attachments(conn: Connection) -> dict[str, dict[str, Any]]:
    """sha256 → the attachment (``sha256``, ``name``, ``media_type``, ``size``) of every
    appeal in the log as ``conn`` sees it that has one (first naming kept)."""
    named: dict[str, dict[str, Any]] = {}
    for (state,) in conn.execution_options(stream_results=True, yield_per=5000).execute(
            text("SELECT state FROM ledger_events WHERE topic LIKE :t ORDER BY id"), {"t": "%:EntryAppeals.Filed"}):
        attachment = orjson.loads(bytes(state)).get("attachment")
        if isinstance(attachment, dict) and isinstance(attachment.get("sha256"), str):
            named.setdefault(attachment["sha256"], attachment)
    return named


def _where(url: str) -> str:
    path = sqlite_path(url)
    return str(path.resolve()) if path is not None else make_url(url).render_as_string(hide_password=True)


# -- backup ---------------------------------------------------------------------------------

def backup(url: str, directory: Path) -> dict[str, Any]:
    """Back the ledger at ``url`` up into ``directory`` (absent or empty; created 0700) with
    the signing key (``LEDGER_SIGNING_KEY``) and the key store (``LEDGER_KEYSTORE``).
    Returns the manifest. Creates nothing but the directory's files: the ledger must exist
    (:class:`NotInitialized`), the signing key too; the key store is copied if it exists.
    Raises :class:`BackupRefused` when a part is missing or the key is not the log's (what
    it had written is removed again)."""
    dialect = make_url(url).get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupRefused(f"不支持备份 {dialect} 数据库（只支持 SQLite 与 PostgreSQL）", "LEDGER_DATABASE_URL")
    if dialect == "sqlite" and sqlite_path(url) is None:
        raise BackupRefused("内存中的 SQLite 数据库不能备份", "LEDGER_DATABASE_URL")
    close(open_ledger(url))  # an existing ledger, or NotInitialized naming the database; creates nothing
    signer = load_existing_signer()  # NotInitialized naming the key file if it is missing
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupRefused(f"备份目录 {directory} 已存在且不是空目录：不会覆盖已有备份，请给一个新目录", "to")
    created = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return _write_backup(url, dialect, directory, signer)
    except BaseException:
        _remove_written(directory, created)  # no half backup left behind (it would have no manifest)
        raise


def _remove_written(directory: Path, created: bool) -> None:
    """Remove what a failed backup wrote: the directory if it made it, else its contents
    (it was empty)."""
    import shutil
    if created:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)


def _write_backup(url: str, dialect: str, directory: Path, signer: Any) -> dict[str, Any]:
    files: dict[str, dict[str, Any]] = {}
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(),
                                "source": {"dialect": dialect, "database": _where(url)}, "other_tables": []}
    if dialect == "sqlite":
        state, tables = _backup_sqlite(url, directory, files)
    else:
        state, tables, manifest["other_tables"] = _backup_postgresql(url, directory, files)
    manifest["tables"] = tables
    if state["size"] == 0:
        raise BackupRefused("账本中没有任何事件：没有可备份的账本（请检查 LEDGER_DATABASE_URL）", "LEDGER_DATABASE_URL")
    declared = state.pop("declared_keys")
    named = state.pop("attachments")
    if declared and declared[-1] != signer.verifier_key:
        raise BackupRefused(f"签名私钥 {key_path()} 的公钥 {signer.verifier_key} 不是账本登记的当前签名公钥 "
                            f"{declared[-1]}：备份须包含账本的当前私钥（请把 LEDGER_SIGNING_KEY 指向它；"
                            "若刚轮换过密钥，请重试）", "LEDGER_SIGNING_KEY")
    manifest["log"] = state
    with _secret_file(directory / SIGNING_KEY_FILE) as f:
        f.write(key_path().read_bytes())
    files[SIGNING_KEY_FILE] = {"part": "signing_key"}
    manifest["signing_key"] = {"file": SIGNING_KEY_FILE, "verifier_key": signer.verifier_key,
                               "source": str(key_path().resolve())}
    store = Path(keystore_path())
    if store.is_file():
        _sqlite_copy(store, directory / KEYSTORE_FILE, create=True)
        counts = _sqlite_counts(directory / KEYSTORE_FILE, ("person_keys", "erased_persons"))
        files[KEYSTORE_FILE] = {"part": "keystore"}
        manifest["keystore"] = {"file": KEYSTORE_FILE, "keys": counts.get("person_keys", 0),
                                "erased": counts.get("erased_persons", 0), "source": str(store.resolve())}
    else:
        manifest["keystore"] = None
        manifest["keystore_absent"] = str(store.resolve())
    manifest["attachments"] = _backup_attachments(url, named, directory, files)
    for name, entry in files.items():
        _fsync(directory / name)
        entry.update(_digest(directory / name))
    manifest["files"] = files
    partial = directory / (MANIFEST + ".partial")
    with _secret_file(partial) as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        f.flush()
        os.fsync(f.fileno())
    partial.rename(directory / MANIFEST)
    _fsync(directory)
    return manifest


def _backup_attachments(url: str, named: dict[str, dict[str, Any]], directory: Path,
                        files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Copy every attachment the snapshot's log names from the attachment store into
    ``attachments/`` (the store's layout), each checked against its SHA-256 and size as it
    is read; one missing or altered in the store is listed as unavailable, never copied."""
    source = attachments_path(url)
    store = AttachmentStore(source)
    unavailable: list[dict[str, Any]] = []
    total = 0
    for sha, attachment in sorted(named.items()):
        data = store.read(sha)
        status = store.check(sha, attachment.get("size"))
        if data is None or status != MATCHES or hashlib.sha256(data).hexdigest() != sha:
            unavailable.append({"sha256": sha, "name": attachment.get("name"), "status": status})
            continue
        relative = f"{ATTACHMENTS_DIR}/{sha[:2]}/{sha}"
        (directory / relative).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _secret_file(directory / relative) as f:
            f.write(data)
        files[relative] = {"part": "attachment", "name": attachment.get("name")}
        total += len(data)
    return {"folder": ATTACHMENTS_DIR, "source": str(source.resolve()), "named": len(named),
            "files": len(named) - len(unavailable), "bytes": total, "unavailable": unavailable}


def _backup_sqlite(url: str, directory: Path,
                   files: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    source = sqlite_path(url)
    assert source is not None
    copy = directory / DATABASE_FILE
    _sqlite_copy(source, copy, create=True)
    files[DATABASE_FILE] = {"part": "database"}
    engine = create_engine("sqlite:///" + copy.resolve().as_uri() + "?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            state = _log_state(conn)
            state["attachments"] = _named_attachments(conn)
    finally:
        engine.dispose()
    return state, {name: {"rows": rows} for name, rows in _sqlite_counts(copy).items()}


def _backup_postgresql(url: str, directory: Path, files: dict[str, dict[str, Any]]
                       ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    engine = create_engine(url)
    tables: dict[str, dict[str, Any]] = {}
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True) as conn:
            with conn.begin():
                present = set(inspect(conn).get_table_names())
                known = sorted(present & ledger_table_names())
                meta = MetaData()
                meta.reflect(conn, only=known)
                state = _log_state(conn)  # the first query fixed the snapshot; every read below sees it
                state["attachments"] = _named_attachments(conn)
                (directory / TABLES_DIR).mkdir(mode=0o700)
                for name in known:
                    table = meta.tables[name]
                    relative = f"{TABLES_DIR}/{name}.jsonl"
                    order = list(table.primary_key.columns) or list(table.columns)
                    rows = 0
                    with _secret_file(directory / relative) as f:
                        for row in conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                                select(table).order_by(*order)):
                            f.write(orjson.dumps([_encode(v) for v in row]) + b"\n")
                            rows += 1
                    files[relative] = {"part": "database"}
                    tables[name] = {"rows": rows, "columns": [c.name for c in table.columns], "file": relative}
    finally:
        engine.dispose()
    return state, tables, sorted(present - set(known))


# -- restore --------------------------------------------------------------------------------

@dataclass
class Restored:
    """What ``ledger restore`` did and found. ``problems`` empty: everything matches."""

    manifest: dict[str, Any]
    database: str
    signing_key: Path
    keystore: Path | None
    report: Report
    rows: dict[str, int]
    reapplied: int = 0
    problems: list[Problem] = field(default_factory=list)
    attachments: Path | None = None
    attachments_named: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        log = self.manifest["log"]
        return {"ok": self.ok, "database": self.database, "signing_key": str(self.signing_key.resolve()),
                "keystore": None if self.keystore is None else str(self.keystore.resolve()),
                "keys": None if self.manifest.get("keystore") is None else self.manifest["keystore"]["keys"],
                "erasures_reapplied": self.reapplied, "tables": self.rows,
                "attachments": {"folder": None if self.attachments is None else str(self.attachments.resolve()),
                                "named": self.attachments_named,
                                "restored": sum(1 for e in self.manifest["files"].values() if e["part"] == "attachment")},
                "events": self.report.events, "checkpoints": self.report.checkpoints, "approvals": self.report.approvals,
                "manifest": {"size": log["size"], "root": log["root"],
                             "checkpoint": None if log["checkpoint"] is None else
                             {k: log["checkpoint"][k] for k in ("number", "size", "root")}},
                "problems": [p.__dict__ for p in self.problems]}


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of backup ``directory``, every part it names present and unchanged
    (size and SHA-256). Raises :class:`BackupRefused` naming what is missing or differs."""
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupRefused(f"{directory} 中没有备份清单 {MANIFEST}：不是完整的备份（备份中断时不写清单）", "from")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeError, ValueError) as e:
        raise BackupRefused(f"备份清单 {path} 无法读取：{e}", "from") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"备份清单 {path} 不是本程序的备份格式（应为 {FORMAT}）", "from")
    try:
        expected = _expected_files(manifest)
        files = manifest["files"]
        for name, part in expected.items():
            if name not in files:
                raise BackupRefused(f"备份清单没有记录{PARTS[part]}文件 {name} 的大小与 SHA-256：备份不完整", "from")
            target = (directory / name).resolve()
            if directory.resolve() not in target.parents:
                raise BackupRefused(f"备份清单中的文件名 {name!r} 指向备份目录之外", "from")
            if not target.is_file():
                raise BackupRefused(f"备份缺少{PARTS[part]}：找不到 {directory / name}（备份清单记录了它）", "from")
            found, recorded = _digest(target), files[name]
            if part == "attachment" and recorded["sha256"] != Path(name).name:
                raise BackupRefused(f"备份清单中申诉附件 {name} 记录的 SHA-256 {recorded['sha256']} 不是它的文件名："
                                    "备份清单被改动，不予恢复", "from")
            if found["size"] != recorded["size"] or found["sha256"] != recorded["sha256"]:
                raise BackupRefused(f"{PARTS[part]}文件 {directory / name} 与备份清单不符（清单：{recorded['size']} 字节，"
                                    f"SHA-256 {recorded['sha256']}；实际：{found['size']} 字节，SHA-256 "
                                    f"{found['sha256']}）：备份已损坏或被改动，不予恢复", "from")
    except (KeyError, TypeError, AttributeError) as e:
        raise BackupRefused(f"备份清单 {path} 缺少项目 {e}：不完整或被改动", "from") from None
    return manifest


def _expected_files(manifest: dict[str, Any]) -> dict[str, str]:
    """file → part: the database file(s), the signing key, the key store if backed up."""
    if not manifest.get("signing_key"):
        raise BackupRefused("备份清单中没有签名私钥：此备份不完整，恢复后的账本将无法签发检查点，不予恢复", "from")
    dialect = manifest["source"]["dialect"]
    expected = {DATABASE_FILE: "database"} if dialect == "sqlite" else \
        {t["file"]: "database" for t in manifest["tables"].values()}
    if not expected:
        raise BackupRefused("备份清单中没有数据库的任何表", "from")
    expected[manifest["signing_key"]["file"]] = "signing_key"
    if manifest.get("keystore") is not None:
        expected[manifest["keystore"]["file"]] = "keystore"
    expected.update({name: "attachment" for name, entry in manifest["files"].items() if entry["part"] == "attachment"})
    return expected


def _target_rows(url: str) -> dict[str, int]:
    """Rows in the ledger tables of the target (creates nothing: an absent SQLite file is empty)."""
    path = sqlite_path(url)
    if path is not None:
        if not path.exists() or (path.is_file() and path.stat().st_size == 0):
            return {}
        try:
            return _sqlite_counts(path)
        except sqlite3.DatabaseError as e:
            raise BackupRefused(f"目标 {path.resolve()} 已存在且不是可用的 SQLite 数据库（{e}）：不会覆盖",
                                "LEDGER_DATABASE_URL") from None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(set(inspect(conn).get_table_names()) & ledger_table_names())
            return {n: int(conn.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar() or 0) for n in names}
    finally:
        engine.dispose()


def _check_targets(url: str, manifest: dict[str, Any], signing_key: Path, store: Path, directory: Path) -> None:
    dialect = make_url(url).get_backend_name()
    source = manifest["source"]["dialect"]
    if dialect != source:
        raise BackupRefused(f"备份来自 {source} 数据库，目标是 {dialect}：不支持跨数据库类型恢复", "LEDGER_DATABASE_URL")
    if dialect == "sqlite" and sqlite_path(url) is None:
        raise BackupRefused("不能恢复到内存中的 SQLite 数据库", "LEDGER_DATABASE_URL")
    filled = {n: r for n, r in _target_rows(url).items() if r and n not in read_model_tables()}
    if filled:
        rows = "、".join(f"{n} {r} 行" for n, r in sorted(filled.items()))
        raise BackupRefused(f"目标数据库 {_where(url)} 已有账本数据（{rows}）：恢复不会覆盖已有账本，"
                            "请把 LEDGER_DATABASE_URL 指向新的空数据库或新文件", "LEDGER_DATABASE_URL")
    if signing_key.exists() and signing_key.read_bytes() != (directory / manifest["signing_key"]["file"]).read_bytes():
        raise BackupRefused(f"签名私钥文件 {signing_key.resolve()} 已存在且不是备份中的私钥：恢复不会覆盖，"
                            "请把 LEDGER_SIGNING_KEY 指向一个尚不存在的文件", "LEDGER_SIGNING_KEY")
    if manifest.get("keystore") is not None and store.exists() and store.stat().st_size:
        try:
            held = _sqlite_counts(store, ("person_keys", "erased_persons"))
        except sqlite3.DatabaseError as e:
            raise BackupRefused(f"个人密钥库 {store.resolve()} 已存在且无法读取（{e}）：不会覆盖", "LEDGER_KEYSTORE") from None
        if any(held.values()):
            raise BackupRefused(f"个人密钥库 {store.resolve()} 已存在且有 {held.get('person_keys', 0)} 把密钥："
                                "恢复不会覆盖，请把 LEDGER_KEYSTORE 指向一个尚不存在的文件", "LEDGER_KEYSTORE")
    folder = AttachmentStore(attachments_path(url))
    for _name, sha in _attachment_files(manifest):
        if folder.check(sha) not in (MATCHES, MISSING):
            raise BackupRefused(f"附件库中已有文件 {folder.path(sha).resolve()}，内容与其名称（SHA-256）不符："
                                "恢复不会覆盖，请检查 LEDGER_ATTACHMENTS 指向的附件库", "LEDGER_ATTACHMENTS")


def _attachment_files(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(file in the backup, its SHA-256) of every attachment the manifest lists."""
    return [(name, entry["sha256"]) for name, entry in sorted(manifest["files"].items()) if entry["part"] == "attachment"]


def _restore_attachments(url: str, directory: Path, manifest: dict[str, Any]) -> Path:
    """The backup's attachments written into the target's attachment folder (a file already
    there with its hash is kept); returns the folder."""
    folder = AttachmentStore(attachments_path(url))
    for name, sha in _attachment_files(manifest):
        if folder.check(sha) == MATCHES:
            continue
        target = folder.path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(sha + ".partial")
        partial.unlink(missing_ok=True)
        with _secret_file(partial) as f:
            f.write((directory / name).read_bytes())
            f.flush()
            os.fsync(f.fileno())
        partial.rename(target)
    return folder.root


def restore(url: str, directory: Path, trusted_keys: list[str] | None = None) -> Restored:
    """Restore backup ``directory`` into the ledger at ``url`` (empty), the signing key at
    ``LEDGER_SIGNING_KEY`` and the key store at ``LEDGER_KEYSTORE`` (absent), then verify.

    Raises :class:`BackupRefused` before writing anything if the backup is incomplete or
    altered or a target is not empty. Returns what was restored with every problem found
    afterwards (verification, and the comparison with the manifest); the restored parts are
    left in place for inspection either way. ``trusted_keys``: verifier keys the log's first
    declared key must be among (``ledger verify --key``)."""
    manifest = read_manifest(directory)
    signing_key, store = key_path(), Path(keystore_path())
    _check_targets(url, manifest, signing_key, store, directory)
    try:
        if manifest["source"]["dialect"] == "sqlite":
            path = sqlite_path(url)
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(directory / DATABASE_FILE, path, create=not path.exists())
        else:
            _restore_postgresql(url, directory, manifest)
    except (sqlite3.Error, SQLAlchemyError, OSError, ValueError) as e:  # ValueError: a row that does not decode
        raise BackupRefused(f"恢复数据库 {_where(url)} 失败：{e}", "LEDGER_DATABASE_URL") from None
    if not signing_key.exists():
        signing_key.parent.mkdir(parents=True, exist_ok=True)
        with _secret_file(signing_key) as f:
            f.write((directory / manifest["signing_key"]["file"]).read_bytes())
    restored_store = None
    if manifest.get("keystore") is not None:
        store.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(directory / manifest["keystore"]["file"], store, create=not store.exists())
        restored_store = store
    try:
        folder = _restore_attachments(url, directory, manifest)
    except OSError as e:
        raise BackupRefused(f"恢复申诉附件到 {attachments_path(url).resolve()} 失败：{e}", "LEDGER_ATTACHMENTS") from None
    try:
        return _verify(url, manifest, signing_key, restored_store, list(trusted_keys or []), folder)
    except (sqlite3.Error, SQLAlchemyError) as e:
        raise BackupRefused(f"已恢复到 {_where(url)}，但恢复后的数据库无法读取（{e}）：核验未通过，"
                            "已恢复的内容留在原处供检查，请勿投入使用", "LEDGER_DATABASE_URL") from None


def _rows_of(path: Path) -> Iterator[list[Any]]:
    with path.open("rb") as f:
        for line in f:
            yield [_decode(v) for v in orjson.loads(line)]


def _restore_postgresql(url: str, directory: Path, manifest: dict[str, Any]) -> None:
    """The ledger's tables created by the code of ``ledger init``, the rows inserted in one
    transaction, the id sequences moved past the restored ids."""
    from adapters.credentials import METADATA as CREDENTIALS
    from adapters.credentials import Credentials
    tables = manifest["tables"]
    unknown = sorted(set(tables) - ledger_table_names())
    if unknown:
        raise BackupRefused(f"备份中有本程序不认识的表 {'、'.join(unknown)}：不予恢复", "from")
    ledger = make_ledger(url)
    try:
        create_tables(ledger)
        engine = engine_of(ledger)
        if set(tables) & set(CREDENTIALS.tables):
            Credentials(engine)
        meta = MetaData()
        meta.reflect(engine, only=sorted(tables))
        with engine.begin() as conn:
            for name in sorted(read_model_tables() & set(meta.tables)):
                conn.execute(meta.tables[name].delete())  # a read model, not the log: the backup's replaces it
            for name in sorted(tables):
                table, columns = meta.tables[name], tables[name]["columns"]
                missing = [c for c in columns if c not in table.columns]
                if missing:
                    raise BackupRefused(f"表 {name} 没有备份中的列 {'、'.join(missing)}：不予恢复", "from")
                batch: list[dict[str, Any]] = []
                for row in _rows_of(directory / tables[name]["file"]):
                    batch.append(dict(zip(columns, row)))
                    if len(batch) == BATCH:
                        conn.execute(table.insert(), batch)
                        batch = []
                if batch:
                    conn.execute(table.insert(), batch)
            serial = conn.execute(text(
                "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')")).all()
            for table_name, column, sequence in serial:
                if table_name in tables and sequence:
                    conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{column}") FROM "{table_name}"), 0) + 1, '
                                      "false)"), {"s": sequence})
    finally:
        close(ledger)


def _verify(url: str, manifest: dict[str, Any], signing_key: Path, store: Path | None,
            trusted: list[str], folder: Path) -> Restored:
    from adapters.integrity.verify_witness import check_against
    from adapters.store.keystore import KeyStore
    from adapters.store.logreader import LogReader
    log = manifest["log"]
    ledger = open_ledger(url)
    try:
        engine = engine_of(ledger)
        report = verify_ledger(engine, trusted)
        declared = ledger.recorder.declared_keys()  # type: ignore[attr-defined]
        problems = list(report.problems)
        if log["checkpoint"] is not None:
            keys = list(dict.fromkeys(trusted + declared))
            problems += check_against(engine, [(AGAINST_NAME, log["checkpoint"]["note"])], keys)
        with engine.connect() as conn:
            state = _log_state(conn)
            named = _named_attachments(conn)
        rows = _target_rows(url)
        erased = sorted({e.raw["person"] for e in LogReader(engine).read(topic_suffixes=("PersonKey.Erased",))})
    finally:
        close(ledger)
    if report.events != log["size"] or state["size"] != log["size"]:
        problems.append(Problem("backup_size_differs", None,
                                f"恢复后日志有 {report.events} 个事件，备份清单记录 {log['size']} 个"))
    if state["root"] != log["root"]:
        problems.append(Problem("backup_root_differs", None, f"恢复后日志的根哈希 {state['root']}，备份清单记录 {log['root']}"))
    for name, entry in sorted(manifest["tables"].items()):
        if rows.get(name) != entry["rows"]:
            problems.append(Problem("backup_rows_differ", None,
                                    f"表 {name} 恢复后有 {rows.get(name, 0)} 行，备份清单记录 {entry['rows']} 行"))
    try:
        restored_key = load_existing_signer(signing_key).verifier_key
    except Exception as e:  # noqa: BLE001 - any unreadable key is the problem reported
        restored_key = f"（无法读取：{e}）"
    if restored_key != manifest["signing_key"]["verifier_key"] or (declared and restored_key != declared[-1]):
        problems.append(Problem("backup_key_differs", None,
                                f"恢复的签名私钥 {signing_key} 的公钥 {restored_key}；备份清单记录 "
                                f"{manifest['signing_key']['verifier_key']}，日志登记的当前公钥 "
                                f"{declared[-1] if declared else '（无）'}"))
    attachments = AttachmentStore(folder)
    for sha, attachment in sorted(named.items()):
        status = attachments.check(sha, attachment.get("size"))
        if status == MISSING:
            problems.append(Problem("backup_attachment_missing", None,
                                    f"申诉附件 {attachment.get('name')}（SHA-256 {sha}）不在附件库 {attachments.path(sha)}"))
        elif status != MATCHES:
            problems.append(Problem("backup_attachment_differs", None,
                                    f"申诉附件 {attachment.get('name')} 的文件 {attachments.path(sha)} 与日志记录的 "
                                    f"SHA-256 {sha}、{attachment.get('size')} 字节不符"))
    reapplied = 0
    if store is not None:
        held = _sqlite_counts(store, ("person_keys",)).get("person_keys", 0)
        if held != manifest["keystore"]["keys"]:
            problems.append(Problem("backup_keystore_differs", None,
                                    f"恢复的个人密钥库有 {held} 把密钥，备份清单记录 {manifest['keystore']['keys']} 把"))
        vault = KeyStore(store)  # erasures the log records, applied again (a copy taken mid-erasure)
        try:
            for person in erased:
                if vault.has_key(person):
                    vault.erase(person)
                    reapplied += 1
        finally:
            vault.close()
    return Restored(manifest, _where(url), signing_key, store, report, rows, reapplied, problems,
                    folder, len(named))
