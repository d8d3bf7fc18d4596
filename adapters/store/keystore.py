"""The key store (密钥库): one Fernet key per person, in a SQLite file apart from the log.

``LEDGER_KEYSTORE`` names the file; unset, ``ledger-keys.sqlite3`` in the working directory
(beside the default ``ledger.sqlite3``). It is created on first use, readable by its owner
only, and never part of the ledger's database — so a backup of the log holds ciphertexts
without the keys that open them (README, "谈话走访"). Erasing a person deletes their row
with ``secure_delete`` on and then ``VACUUM``s the file, so the key's bytes do not linger
in free pages.

Implements :class:`domain.members.care.Vault`.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from domain.errors import VaultUnavailable

DEFAULT_PATH = "ledger-keys.sqlite3"


def keystore_path() -> str:
    return os.environ.get("LEDGER_KEYSTORE") or DEFAULT_PATH


class KeyStore:
    """Per-person keys. Thread-safe; the file is opened on first use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self, create: bool = True) -> sqlite3.Connection | None:
        """The open store; with ``create`` False, None if the file does not exist yet (a
        read never creates the key store: no file, no key)."""
        if self._conn is None:
            if not self.path.exists():
                if not create:
                    return None
                self.path.touch(mode=0o600)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("CREATE TABLE IF NOT EXISTS person_keys (person TEXT PRIMARY KEY, key BLOB NOT NULL, "
                         "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
            # Tombstones: an erased person never gets a new key, even from an answer racing the erasure.
            conn.execute("CREATE TABLE IF NOT EXISTS erased_persons (person TEXT PRIMARY KEY, "
                         "erased_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
            self._conn = conn
        return self._conn

    def _key(self, person: str, create: bool) -> bytes | None:
        db = self._db(create)
        if db is None:
            return None
        if create:
            if db.execute("SELECT 1 FROM erased_persons WHERE person = ?", (person,)).fetchone():
                raise VaultUnavailable(f"{person} 的密钥已销毁，不能再记录其摘要", "person")
            db.execute("INSERT OR IGNORE INTO person_keys (person, key) VALUES (?, ?)", (person, Fernet.generate_key()))
        row = db.execute("SELECT key FROM person_keys WHERE person = ?", (person,)).fetchone()
        return None if row is None else bytes(row[0])

    def seal(self, person: str, plaintext: str) -> str:
        with self._lock:
            key = self._key(person, create=True)
        assert key is not None
        return Fernet(key).encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, person: str, ciphertext: str) -> str | None:
        with self._lock:
            key = self._key(person, create=False)
        if key is None:
            return None
        try:
            return Fernet(key).decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            return None

    def erase(self, person: str) -> None:
        with self._lock:
            db = self._db()
            assert db is not None
            db.execute("INSERT OR IGNORE INTO erased_persons (person) VALUES (?)", (person,))
            db.execute("DELETE FROM person_keys WHERE person = ?", (person,))
            db.execute("VACUUM")

    def has_key(self, person: str) -> bool:
        with self._lock:
            return self._key(person, create=False) is not None

    def backup(self, destination: str | Path) -> int:
        """A consistent copy of the key store (SQLite online backup); returns the number of
        keys copied. Keep it apart from the log's backups (README)."""
        if not Path(destination).exists():
            Path(destination).touch(mode=0o600)
        with self._lock:
            target = sqlite3.connect(destination)
            try:
                source = self._db()
                assert source is not None
                source.backup(target)
                return int(target.execute("SELECT COUNT(*) FROM person_keys").fetchone()[0])
            finally:
                target.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
