"""附件库 (the attachment store): scanned documents attached to appeals, kept outside the
log in a content-addressed folder — each file under its own SHA-256 (``ab/abcdef…``), written
once, never edited. The appeal's event records the hash, name, type and size, so the log
proves which file was attached; :meth:`AttachmentStore.check` says whether the stored file
still has that hash.

``LEDGER_ATTACHMENTS`` names the folder; unset, beside a SQLite database
(``ledger.sqlite3`` → ``ledger.attachments/``), else ``ledger-attachments/`` in the working
directory (``adapters/bootstrap.py`` passes the store to the ledger).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from domain import vocabulary
from domain.assessment.appeal import MAX_ATTACHMENT_BYTES
from domain.commands import Attachment
from domain.errors import InvalidInput, LineError

DEFAULT_FOLDER = "ledger-attachments"
# The first bytes of each accepted type (the declared type or the file name's ending is not trusted).
MAGIC = (("application/pdf", b"%PDF-"), ("image/png", b"\x89PNG\r\n\x1a\n"), ("image/jpeg", b"\xff\xd8\xff"))
# Match statuses (words: domain.vocabulary.ATTACHMENT_STATES).
MATCHES, REPLACED, MISSING, UNCHECKED = "matches", "replaced", "missing", "unchecked"


def attachments_path(url: str | None) -> Path:
    """The folder for the ledger at ``url`` (see the module's docstring)."""
    given = os.environ.get("LEDGER_ATTACHMENTS")
    if given:
        return Path(given)
    parsed = make_url(url) if url else None
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db = Path(str(parsed.database))
        return db.with_name(db.stem + ".attachments")
    return Path(DEFAULT_FOLDER)


def sniff(data: bytes) -> str:
    """The media type of ``data`` from its first bytes; :class:`InvalidInput` (field
    ``attachment``, in Chinese) if it is empty, too big or of no accepted type."""
    if not data:
        raise InvalidInput("附件是空文件", "attachment")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput(f"附件过大：{len(data) / 1048576:.1f} MB，最大 {MAX_ATTACHMENT_BYTES // 1048576} MB",
                           "attachment")
    for media_type, magic in MAGIC:
        if data.startswith(magic):
            return media_type
    raise InvalidInput("附件只能是 " + "、".join(vocabulary.ATTACHMENT_TYPES.values()) + "（按文件内容判断，不看扩展名）",
                       "attachment")


class AttachmentStore:
    """The folder ``root`` (created on the first file)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the file with ``sha256`` lives. Precondition: ``sha256`` is 64 hex digits
        (an event's or :class:`~domain.commands.Attachment`'s)."""
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, name: str) -> dict[str, Any]:
        """Store ``data`` (checked by :func:`sniff`) under its SHA-256; the attachment as an
        appeal names it (``sha256``, ``name``, ``media_type``, ``size``), validated as the
        command does. A file already stored with that hash is kept; one whose content no
        longer has it is written again (the hash says what the content must be)."""
        media_type = sniff(data)
        sha = hashlib.sha256(data).hexdigest()
        try:
            attachment = Attachment.model_validate({"sha256": sha, "name": name, "media_type": media_type,
                                                    "size": len(data)})
        except ValidationError:  # only the name can be at fault: the rest was just computed
            raise InvalidInput("附件文件名不可用：最多 200 字，不能为空，不能含路径分隔符或控制字符", "attachment") from None
        target = self.path(sha)
        if self.check(sha, len(data)) != MATCHES:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp.name, target)
        return attachment.model_dump()

    def read(self, sha256: str) -> bytes | None:
        """The stored bytes (None: no such file). Check them with :meth:`check`."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def check(self, sha256: str, size: int | None = None) -> str:
        """``matches``: the file is there and hashes to ``sha256`` (and has ``size`` bytes,
        if given); ``replaced``: it is there with other content; ``missing``."""
        data = self.read(sha256)
        if data is None:
            return MISSING
        if hashlib.sha256(data).hexdigest() != sha256 or (size is not None and len(data) != size):
            return REPLACED
        return MATCHES

    def holds(self, sha256: str, size: int) -> bool:
        """:class:`~domain.assessment.appeal.AttachmentShelf`: stored and unchanged."""
        return self.check(sha256, size) == MATCHES


def attach_files(store: AttachmentStore, lines: list[tuple[int, Any]],
                 files: list[Path]) -> tuple[list[tuple[int, Any]], list[LineError]]:
    """``ledger import FILE --attachment SCAN …``: store each file, then give the
    ``file_appeal`` lines their attachment — a line's ``"attachment": "scan.pdf"`` names a
    file given by its name; with one file and one ``file_appeal`` line that names none, that
    line takes it. A file no line takes, a name no file has, or a file refused by
    :func:`sniff` is an error (line 0: the command line). Precondition: ``lines`` decoded
    (:func:`adapters.cli.main.read_jsonl`). Files stored before an import that fails stay in
    the store, unreferenced (the log never names them)."""
    errors: list[LineError] = []
    stored: dict[str, dict[str, Any]] = {}
    for path in files:
        try:
            if path.stat().st_size > MAX_ATTACHMENT_BYTES:  # refused before reading it whole
                sniff(b"\0" * (MAX_ATTACHMENT_BYTES + 1))
            stored[path.name] = store.put(path.read_bytes(), path.name)
        except InvalidInput as e:
            errors.append(LineError(0, "attachment", f"{path}：{e.reason}"))
        except OSError as e:
            errors.append(LineError(0, "attachment", f"{path}：无法读取（{e.strerror}）"))
    appeals = [i for i, (_, d) in enumerate(lines) if isinstance(d, dict) and d.get("op") == "file_appeal"]
    used: set[str] = set()
    out = list(lines)
    for i in appeals:
        number, data = lines[i]
        named = data.get("attachment")
        if named is None and len(files) == 1 and len(appeals) == 1 and stored:
            named = files[0].name
        if isinstance(named, str):
            if named not in stored:
                if not any(p.name == named for p in files):
                    errors.append(LineError(number, "attachment", f"没有用 --attachment 给出名为 {named[:100]!r} 的文件"))
                continue
            used.add(named)
            out[i] = (number, {**data, "attachment": stored[named]})
    errors += [LineError(0, "attachment", f"附件 {name} 没有被任何 file_appeal 行使用（在该行写 \"attachment\": \"{name}\"）")
               for name in stored if name not in used]
    return out, errors
