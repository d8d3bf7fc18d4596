"""C2SP signed-note and tlog-checkpoint text formats, Ed25519 signatures only.

A signed note is ``text`` (ending in a newline), a blank line, then signature lines
``— <key name> <base64(4-byte key hash || 64-byte signature)>``. The key hash of an
Ed25519 key is SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]. Verifier keys
use the Go ``golang.org/x/mod/sumdb/note`` form ``<name>+<8 hex>+<base64(0x01 || key)>``.
Opening follows that package: malformed notes, a bad signature by a known key, or no
signature by a known key are refused with ``NoteError`` (a ``ValueError``).
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # as Go's note.Open; the spec demands at least 16
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A malformed note, key or checkpoint, or a note that does not verify."""


class Checkpoint(NamedTuple):
    """The parsed body of a C2SP tlog-checkpoint."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID of an Ed25519 key: SHA-256(name || "\\n" || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key with the key name it signs under."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key ID this signer puts in front of its signatures."""
        return key_hash(self.name, self.public_key)

    @property
    def verifier_key(self) -> str:
        """The ``name+hash+key`` string others need to verify this signer."""
        return format_verifier_key(self.name, self.public_key)


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 public key, parsed from a verifier key string."""

    name: str
    key_hash: bytes
    public_key: bytes

    def verify(self, text: str, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text.encode())
        except InvalidSignature:
            return False
        return True


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name) or _CONTROL.search(name):
        raise NoteError(f"密钥名称 {name!r} 无效：不能为空，不能含空格或“+”")


def _check_text(text: str, what: str) -> None:
    """Valid UTF-8 without ASCII control characters other than newline."""
    try:
        text.encode()
    except UnicodeEncodeError as e:
        raise NoteError(f"{what}不是有效的 UTF-8") from e
    if match := _CONTROL.search(text):
        raise NoteError(f"{what}含有控制字符 {match.group()!r}")


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as e:  # binascii.Error, or non-ASCII input
        raise NoteError(f"{what}不是有效的 base64：{value!r:.80}") from e


def format_verifier_key(name: str, public_key: bytes) -> str:
    """``<name>+<hex key hash>+<base64(0x01 || public key)>``. Precondition: 32-byte key."""
    _check_name(name)
    if len(public_key) != 32:
        raise NoteError(f"Ed25519 公钥应为 32 字节，实际为 {len(public_key)} 字节")
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode()
    return f"{name}+{key_hash(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse and check a verifier key string; ``NoteError`` if malformed or mismatched."""
    name, _, rest = vkey.partition("+")
    hash_hex, _, encoded = rest.partition("+")  # the base64 part may itself hold '+'
    if not re.fullmatch(r"[0-9a-fA-F]{8}", hash_hex):
        raise NoteError(f"验证公钥 {vkey!r:.80} 格式无效：应为 名称+哈希+公钥")
    _check_name(name)
    key = _b64decode(encoded, "验证公钥内容")
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise NoteError("验证公钥不是 Ed25519 公钥（类型 0x01，32 字节）")
    if key_hash(name, key[1:]) != bytes.fromhex(hash_hex):
        raise NoteError(f"验证公钥的哈希 {hash_hex} 与名称和公钥不符")
    try:
        Ed25519PublicKey.from_public_bytes(key[1:])
    except ValueError as e:
        raise NoteError("验证公钥不是有效的 Ed25519 公钥") from e
    return Verifier(name, bytes.fromhex(hash_hex), key[1:])


def generate_key(name: str) -> tuple[bytes, str]:
    """A new Ed25519 key: (unencrypted PKCS#8 PEM private key, verifier key string)."""
    _check_name(name)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, Signer(name, private).verifier_key


def load_signer(pem_bytes: bytes, name: str) -> Signer:
    """A signer from an unencrypted PEM Ed25519 private key; ``NoteError`` otherwise."""
    _check_name(name)
    try:
        private = serialization.load_pem_private_key(pem_bytes, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise NoteError("无法读取私钥文件（不是 PEM 格式的 PKCS#8 私钥）") from e
    if not isinstance(private, Ed25519PrivateKey):
        raise NoteError("私钥不是 Ed25519 私钥")
    return Signer(name, private)


def _signature_line(text: str, signer: Signer) -> str:
    signature = signer.private_key.sign(text.encode())
    return f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signer.key_hash + signature).decode()}\n"


class _Signature(NamedTuple):
    name: str
    key_hash: bytes
    signature: bytes
    line: str


def _parse_signature_line(line: str) -> _Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"签名行应以“— ”（长破折号加空格）开头：{line!r:.80}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    _check_name(name)
    raw = _b64decode(encoded, "签名")
    if len(raw) < 5:
        raise NoteError(f"{name} 的签名过短")
    return _Signature(name, raw[:4], raw[4:], line + "\n")


def _split_note(signed: str) -> tuple[str, list[_Signature]]:
    """Text (with its final newline) and the parsed signature lines."""
    _check_text(signed, "签名文本")
    split = signed.rfind("\n\n")
    if split < 0:
        raise NoteError("签名文本在签名前缺少空行")
    text, block = signed[: split + 1], signed[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("签名文本没有签名，或最后一行缺少换行")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"签名文本的签名超过 {MAX_SIGNATURES} 个")
    return text, [_parse_signature_line(line) for line in lines]


def sign_note(text: str, signer: Signer) -> str:
    """``text`` signed by ``signer``. Precondition: text ends in a newline and holds
    no control characters other than newlines."""
    _check_text(text, "待签文本")
    if not text.endswith("\n"):
        raise NoteError("签名文本必须以换行结尾")
    return text + "\n" + _signature_line(text, signer)


def add_signature(signed_note_text: str, signer: Signer) -> str:
    """Cosign: append ``signer``'s signature, replacing an earlier one by the same key.
    Existing signatures are kept as they are, not verified."""
    text, signatures = _split_note(signed_note_text)
    kept = [s.line for s in signatures if (s.name, s.key_hash) != (signer.name, signer.key_hash)]
    return text + "\n" + "".join(kept) + _signature_line(text, signer)


def _verifiers(verifier_keys: Iterable[str]) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for vkey in verifier_keys:
        v = parse_verifier_key(vkey)
        if known.setdefault((v.name, v.key_hash), v) != v:
            raise NoteError(f"验证公钥 {v.name}+{v.key_hash.hex()} 有多个，无法区分")
    return known


def open_note(signed_text: str | bytes, verifier_keys: Iterable[str]) -> tuple[str, list[str]]:
    """The note text and the names of the known keys whose signatures verified.

    Signatures by unknown keys are ignored; a repeated signature by a known key counts
    once. Raises ``NoteError`` if the note is malformed, if a known key's signature
    fails, or if no known key signed.
    """
    if isinstance(signed_text, bytes):
        try:
            signed_text = signed_text.decode()
        except UnicodeDecodeError as e:
            raise NoteError("签名文本不是有效的 UTF-8") from e
    known = _verifiers(verifier_keys)
    text, signatures = _split_note(signed_text)
    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for s in signatures:
        verifier = known.get((s.name, s.key_hash))
        if verifier is None or (s.name, s.key_hash) in seen:
            continue
        seen.add((s.name, s.key_hash))
        if not verifier.verify(text, s.signature):
            raise NoteError(f"公钥 {s.name}+{s.key_hash.hex()} 的签名无效")
        verified.append(s.name)
    if not verified:
        raise NoteError("签名文本中没有已知公钥的签名")
    return text, verified


def _check_line(line: str, what: str) -> None:
    if not line or "\n" in line:
        raise NoteError(f"{what}应为一个非空行，实际为 {line!r:.80}")
    _check_text(line, what)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """Checkpoint text: origin, decimal size, base64 root, extension lines, each
    newline-terminated. Preconditions: non-empty lines, 0 <= size < 2**64, 32-byte root."""
    _check_line(origin, "来源行")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 2**64:
        raise NoteError(f"树大小应为 0 到 2**64-1 的整数，实际为 {size!r}")
    if len(root) != 32:
        raise NoteError(f"根哈希应为 32 字节，实际为 {len(root)} 字节")
    extra = list(extensions)
    for line in extra:
        _check_line(line, "扩展行")
    return "".join(f"{line}\n" for line in [origin, str(size), base64.b64encode(root).decode(), *extra])


def parse_checkpoint(text: str) -> Checkpoint:
    """Inverse of ``format_checkpoint``; ``NoteError`` for anything else. Parse only
    text returned by ``open_note``: this checks the format, not any signature."""
    _check_text(text, "检查点")
    if not text.endswith("\n"):
        raise NoteError("检查点必须以换行结尾")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("检查点应有来源、树大小、根哈希三行")
    origin, size_line, root_line, *extensions = lines
    if not origin or any(not line for line in extensions):
        raise NoteError("检查点各行不能为空")
    if not _DECIMAL.fullmatch(size_line) or int(size_line) >= 2**64:
        raise NoteError(f"树大小 {size_line!r:.40} 应为 0 到 2**64-1 的十进制数，且无前导零")
    root = _b64decode(root_line, "根哈希")
    if len(root) != 32 or base64.b64encode(root).decode() != root_line:
        raise NoteError("根哈希不是 32 字节的规范 base64 编码")
    return Checkpoint(origin, int(size_line), root, tuple(extensions))
