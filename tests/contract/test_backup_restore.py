"""``ledger backup`` / ``ledger restore`` (issue 19, item 6), on SQLite and PostgreSQL.

A backup holds the database, the signing key and the person key store with a manifest;
a restore goes into a fresh database (a new file; a new schema), verifies, and compares
the log's size and root with the manifest. Refused, with nothing written: a non-empty
target, a file whose SHA-256 differs from the manifest, a backup without its signing key.

How these fail if the guarantee breaks: a backup that leaves the key out fails
``test_backup_and_restore_give_the_same_ledger`` (no key to sign the new checkpoint, the
restored key's public key differs); a restore that skips the hash check restores the
tampered file (the target exists afterwards); one that does not compare with the manifest
exits 0 in ``test_a_restore_that_differs_from_its_manifest_fails``.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy
from click.testing import CliRunner, Result
from sqlalchemy import text

from adapters.bootstrap import close, engine_of, make_ledger
from adapters.cli.main import main
from adapters.credentials import Credentials
from adapters.store.keystore import KeyStore
from tests.conftest import PG_URL
from tests.helpers import approve, company, deduct
from tests.reliability.helpers import assert_verifies, bookkeeping


def _history(app: Any) -> tuple[str, str]:
    """Entries, two approved months (two checkpoints), one entry after them, a web password,
    a sealed summary key. Returns (person, ciphertext) of the sealed summary."""
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    for m in ("2019-07", "2019-08"):
        for b, points in (("A", "-1"), ("B", "-2.5")):
            deduct(app, b, m, points)
        approve(app, m)
    deduct(app, "A", "2019-09", "-0.5")  # beyond the latest checkpoint
    Credentials(engine_of(app)).set_password("admin", "correct horse battery")
    return "P-01", app.vault.seal("P-01", "住院治疗，已慰问")


@pytest.fixture
def fresh(db_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh location: a new SQLite file or a new PostgreSQL schema,
    a signing key and a key store that do not exist yet."""
    place = tmp_path / "restored"
    env = {"LEDGER_SIGNING_KEY": str(place / "signing.key"), "LEDGER_KEYSTORE": str(place / "keys.sqlite3")}
    if db_url.startswith("sqlite"):
        yield {**env, "LEDGER_DATABASE_URL": f"sqlite:///{place / 'ledger.sqlite3'}"}
        return
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield {**env, "LEDGER_DATABASE_URL": f"{PG_URL}?options=-csearch_path%3D{schema}"}
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env)


def _source_env(db_url: str, signing_key: Path, keystore: Path) -> dict[str, str]:
    return {"LEDGER_DATABASE_URL": db_url, "LEDGER_SIGNING_KEY": str(signing_key), "LEDGER_KEYSTORE": str(keystore)}


def _backup(app: Any, db_url: str, signing_key: Path, keystore: Path, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    directory = tmp_path / "backup"
    result = _invoke(["backup", "--to", str(directory)], _source_env(db_url, signing_key, keystore))
    assert result.exit_code == 0, result.output
    assert "属机密" in result.output and "0600" in result.output, result.output
    return directory, json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def _target_is_untouched(env: dict[str, str]) -> None:
    """Nothing written: no database file or ledger table, no key file, no key store."""
    assert not Path(env["LEDGER_SIGNING_KEY"]).exists() and not Path(env["LEDGER_KEYSTORE"]).exists()
    url = env["LEDGER_DATABASE_URL"]
    if url.startswith("sqlite"):
        assert not Path(url.removeprefix("sqlite:///")).exists()
    else:
        engine = sqlalchemy.create_engine(url)
        try:
            assert sqlalchemy.inspect(engine).get_table_names() == []
        finally:
            engine.dispose()


def test_backup_and_restore_give_the_same_ledger(app, db_url: str, signing_key: Path, keystore: Path,
                                                 tmp_path: Path, fresh: dict[str, str]) -> None:
    person, sealed = _history(app)
    original = assert_verifies(app)
    directory, manifest = _backup(app, db_url, signing_key, keystore, tmp_path)
    # the manifest: every part, its size and hash, the log's size and root, the latest checkpoint
    parts = {entry["part"] for entry in manifest["files"].values()}
    assert parts == {"database", "signing_key", "keystore"}, manifest["files"]
    with engine_of(app).connect() as conn:
        size = conn.execute(text("SELECT COUNT(*) FROM ledger_positions")).scalar()
        number, cp_size = conn.execute(text("SELECT number, size FROM ledger_checkpoints ORDER BY number DESC")).first()
    assert manifest["log"]["size"] == size == original.events and len(manifest["log"]["root"]) == 64
    assert (manifest["log"]["checkpoint"]["number"], manifest["log"]["checkpoint"]["size"]) == (number, cp_size)
    assert cp_size < size  # the entry after the last approval is in the backup too
    assert manifest["signing_key"]["verifier_key"] == app.recorder.signer().verifier_key
    assert manifest["tables"]["ledger_credentials"]["rows"] == 1 and manifest["keystore"]["keys"] == 1
    for name in manifest["files"]:  # secrets: owner only
        assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600, name
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700

    result = _invoke(["restore", "--from", str(directory), "--json"], fresh)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and report["problems"] == [] and report["events"] == size, report
    assert report["checkpoints"] == original.checkpoints and report["approvals"] == original.approvals
    assert report["manifest"]["root"] == manifest["log"]["root"]
    assert stat.S_IMODE(os.stat(fresh["LEDGER_SIGNING_KEY"]).st_mode) == 0o600
    assert Path(fresh["LEDGER_SIGNING_KEY"]).read_bytes() == signing_key.read_bytes()
    restored_store = KeyStore(fresh["LEDGER_KEYSTORE"])
    assert restored_store.open(person, sealed) == "住院治疗，已慰问"  # the key store came along
    restored_store.close()

    verify = _invoke(["verify", "--json"], fresh)  # the ordinary verify, in the new place
    assert verify.exit_code == 0 and json.loads(verify.output)["events"] == size, verify.output
    restored = make_ledger(fresh["LEDGER_DATABASE_URL"])
    try:
        restored.default_user = app.default_user
        assert Credentials(engine_of(restored)).verify("admin", "correct horse battery")
        deduct(restored, "B", "2019-09", "-1")  # ids continue (PostgreSQL: the sequence was moved)
        approve(restored, "2019-09")  # a new checkpoint, signed with the restored key
        assert_verifies(restored)
        bookkeeping(engine_of(restored))
        with engine_of(restored).connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            conn.execute(text("UPDATE ledger_events SET topic = topic"))  # the triggers are there
    finally:
        close(restored)


def test_restore_refuses_a_target_that_is_not_empty(app, db_url: str, signing_key: Path, keystore: Path,
                                                    tmp_path: Path, fresh: dict[str, str]) -> None:
    _history(app)
    directory, _ = _backup(app, db_url, signing_key, keystore, tmp_path)
    into_itself = _invoke(["restore", "--from", str(directory)], _source_env(db_url, signing_key, keystore))
    assert into_itself.exit_code == 1, into_itself.output
    assert "已有账本数据" in into_itself.output and "ledger_events" in into_itself.output, into_itself.output
    other_key = Path(fresh["LEDGER_SIGNING_KEY"])
    other_key.parent.mkdir(parents=True)
    other_key.write_bytes(b"another key\n")
    refused = _invoke(["restore", "--from", str(directory)], fresh)
    assert refused.exit_code == 1 and "签名私钥文件" in refused.output and str(other_key) in refused.output, refused.output
    assert other_key.read_bytes() == b"another key\n"
    other_key.unlink()
    _target_is_untouched(fresh)


def _tamper_database_file(directory: Path, manifest: dict[str, Any]) -> Path:
    name = next(n for n, e in manifest["files"].items() if e["part"] == "database" and e["size"] > 100
                and ("events" in n or n.endswith(".sqlite3")))
    path = directory / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def test_restore_refuses_a_tampered_backup(app, db_url: str, signing_key: Path, keystore: Path,
                                           tmp_path: Path, fresh: dict[str, str]) -> None:
    _history(app)
    directory, manifest = _backup(app, db_url, signing_key, keystore, tmp_path)
    tampered = _tamper_database_file(directory, manifest)
    result = _invoke(["restore", "--from", str(directory)], fresh)
    assert result.exit_code == 1, result.output
    assert "与备份清单不符" in result.output and str(tampered) in result.output, result.output
    _target_is_untouched(fresh)


def test_restore_refuses_a_backup_without_the_signing_key(app, db_url: str, signing_key: Path, keystore: Path,
                                                          tmp_path: Path, fresh: dict[str, str]) -> None:
    _history(app)
    directory, manifest = _backup(app, db_url, signing_key, keystore, tmp_path)
    (directory / "signing.key").unlink()
    result = _invoke(["restore", "--from", str(directory)], fresh)
    assert result.exit_code == 1 and "备份缺少签名私钥" in result.output, result.output
    _target_is_untouched(fresh)
    # nor when the manifest was edited to leave the key out
    del manifest["signing_key"]
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = _invoke(["restore", "--from", str(directory)], fresh)
    assert result.exit_code == 1 and "备份清单中没有签名私钥" in result.output, result.output
    _target_is_untouched(fresh)


def test_a_restore_that_differs_from_its_manifest_fails(app, db_url: str, signing_key: Path, keystore: Path,
                                                        tmp_path: Path, fresh: dict[str, str]) -> None:
    """Files intact, but the manifest records another root and size (as if the files were
    another backup's): restored, verified, compared, and the exit status says so."""
    _history(app)
    directory, manifest = _backup(app, db_url, signing_key, keystore, tmp_path)
    manifest["log"]["root"] = "00" * 32
    manifest["log"]["size"] += 1
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = _invoke(["restore", "--from", str(directory)], fresh)
    assert result.exit_code == 1, result.output
    assert "核验未通过" in result.output and "backup_root_differs" in result.output, result.output
    assert "backup_size_differs" in result.output and "请勿投入使用" in result.output, result.output


def test_backup_creates_nothing_and_refuses_an_incomplete_source(app, db_url: str, signing_key: Path,
                                                                 keystore: Path, tmp_path: Path,
                                                                 fresh: dict[str, str]) -> None:
    """No key store yet: the backup says so and holds none (and creates none), and its restore
    says so too; no signing key or a used directory: refused, nothing written; no ledger:
    refused, no database created."""
    company(app, ("A", "full_time", None))
    approve(app, "2019-07")
    env = _source_env(db_url, signing_key, keystore)
    assert not keystore.exists()
    result = _invoke(["backup", "--to", str(tmp_path / "b1")], env)
    assert result.exit_code == 0 and "备份中不含" in result.output, result.output
    assert not keystore.exists()  # a read never creates the key store
    manifest = json.loads((tmp_path / "b1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["keystore"] is None and {e["part"] for e in manifest["files"].values()} == {"database", "signing_key"}
    assert manifest["attachments"]["named"] == 0 and "申诉附件：无" in result.output, result.output  # none, and says so
    again = _invoke(["backup", "--to", str(tmp_path / "b1")], env)
    assert again.exit_code == 1 and "不是空目录" in again.output, again.output
    no_key = _invoke(["backup", "--to", str(tmp_path / "b2")], {**env, "LEDGER_SIGNING_KEY": str(tmp_path / "none.key")})
    assert no_key.exit_code == 1 and "找不到账本签名私钥" in no_key.output, no_key.output
    assert not (tmp_path / "b2").exists() and not (tmp_path / "none.key").exists()
    from adapters.store.tree import load_or_create_signer
    load_or_create_signer(tmp_path / "other.key")  # a key, but not the one the log declares
    wrong_key = _invoke(["backup", "--to", str(tmp_path / "b4")], {**env, "LEDGER_SIGNING_KEY": str(tmp_path / "other.key")})
    assert wrong_key.exit_code == 1 and "不是账本登记的当前签名公钥" in wrong_key.output, wrong_key.output
    assert not (tmp_path / "b4").exists()  # what it had written is gone: no half backup
    missing_db = tmp_path / "nowhere.sqlite3"
    no_ledger = _invoke(["backup", "--to", str(tmp_path / "b3")], {**env, "LEDGER_DATABASE_URL": f"sqlite:///{missing_db}"})
    assert no_ledger.exit_code == 1 and "找不到账本数据库" in no_ledger.output, no_ledger.output
    assert not missing_db.exists() and not (tmp_path / "b3").exists()
    restored = _invoke(["restore", "--from", str(tmp_path / "b1")], fresh)
    assert restored.exit_code == 0 and "全部相符" in restored.output, restored.output
    assert "个人密钥库：备份中没有" in restored.output and not Path(fresh["LEDGER_KEYSTORE"]).exists(), restored.output


SCAN = b"%PDF-1.4\n% " + "整改单扫描件".encode() + b"\n" + bytes(range(256)) * 8  # a PDF by its first bytes


def _appeal_with_scan(app: Any) -> dict[str, Any]:
    """Two branches, an entry, an approved month, and an appeal against the entry with the
    scan attached (stored in the attachment store, named in the appeal's event)."""
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    entry = deduct(app, "A", "2019-07", "-1")
    approve(app, "2019-07")
    attachment = app.attachments.put(SCAN, "整改单.pdf")
    app.file_appeal(entry_id=str(entry), branch="A", reason="已整改，扫描件附后", actor="A书记", attachment=attachment)
    return attachment


def test_backup_and_restore_carry_the_appeals_attachments(app, db_url: str, signing_key: Path, keystore: Path,
                                                          attachment_store: Path, tmp_path: Path,
                                                          fresh: dict[str, str]) -> None:
    attachment = _appeal_with_scan(app)
    sha = attachment["sha256"]
    directory, manifest = _backup(app, db_url, signing_key, keystore, tmp_path)
    name = f"attachments/{sha[:2]}/{sha}"
    assert manifest["files"][name]["part"] == "attachment" and manifest["files"][name]["sha256"] == sha
    assert manifest["files"][name]["size"] == len(SCAN) and (directory / name).read_bytes() == SCAN
    assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600
    assert manifest["attachments"]["named"] == manifest["attachments"]["files"] == 1
    assert manifest["attachments"]["unavailable"] == []
    fresh = {**fresh, "LEDGER_ATTACHMENTS": str(tmp_path / "restored" / "attachments")}
    result = _invoke(["restore", "--from", str(directory)], fresh)
    assert result.exit_code == 0 and "全部相符" in result.output, result.output
    assert "申诉附件齐全且 SHA-256 相符" in result.output and "恢复 1 个文件" in result.output, result.output
    restored = Path(fresh["LEDGER_ATTACHMENTS"]) / sha[:2] / sha
    assert restored.read_bytes() == (attachment_store / sha[:2] / sha).read_bytes() == SCAN  # byte-identical


def test_restore_refuses_a_backup_whose_attachment_was_altered(app, db_url: str, signing_key: Path, keystore: Path,
                                                               tmp_path: Path, fresh: dict[str, str]) -> None:
    sha = _appeal_with_scan(app)["sha256"]
    directory, manifest = _backup(app, db_url, signing_key, keystore, tmp_path)
    altered = directory / "attachments" / sha[:2] / sha
    altered.write_bytes(SCAN.replace("整改单".encode(), "假文件".encode()))
    fresh = {**fresh, "LEDGER_ATTACHMENTS": str(tmp_path / "restored" / "attachments")}
    result = _invoke(["restore", "--from", str(directory)], fresh)
    assert result.exit_code == 1, result.output
    assert "申诉附件文件" in result.output and str(altered) in result.output and "与备份清单不符" in result.output
    _target_is_untouched(fresh)
    assert not Path(fresh["LEDGER_ATTACHMENTS"]).exists()
    # the manifest edited to the altered file's hash: its name is no longer its hash, refused too
    altered_sha = hashlib.sha256(altered.read_bytes()).hexdigest()
    manifest["files"][f"attachments/{sha[:2]}/{sha}"]["sha256"] = altered_sha
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    edited = _invoke(["restore", "--from", str(directory)], fresh)
    assert edited.exit_code == 1 and "不是它的文件名" in edited.output, edited.output
    _target_is_untouched(fresh)


def test_a_backup_missing_an_attachment_says_so_and_its_restore_fails(app, db_url: str, signing_key: Path,
                                                                      keystore: Path, attachment_store: Path,
                                                                      tmp_path: Path, fresh: dict[str, str]) -> None:
    """A file the log names but the store lost: the backup warns and lists it; the restore's
    verification names it (the restored log names a file no folder holds)."""
    sha = _appeal_with_scan(app)["sha256"]
    (attachment_store / sha[:2] / sha).unlink()
    directory = tmp_path / "backup"
    result = _invoke(["backup", "--to", str(directory)], _source_env(db_url, signing_key, keystore))
    assert result.exit_code == 0 and "警告" in result.output and "整改单.pdf" in result.output, result.output
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["attachments"]["unavailable"] == [{"sha256": sha, "name": "整改单.pdf", "status": "missing"}]
    fresh = {**fresh, "LEDGER_ATTACHMENTS": str(tmp_path / "restored" / "attachments")}
    restored = _invoke(["restore", "--from", str(directory)], fresh)
    assert restored.exit_code == 1 and "backup_attachment_missing" in restored.output, restored.output
    assert "日志中申诉的附件在附件库中缺失" in restored.output and "整改单.pdf" in restored.output, restored.output
