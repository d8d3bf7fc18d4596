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
        raise NoteError(f"bad key name {name!r}: must be non-empty, without spaces or '+'")


def _check_text(text: str, what: str) -> None:
    """Valid UTF-8 without ASCII control characters other than newline."""
    try:
        text.encode()
    except UnicodeEncodeError as e:
        raise NoteError(f"{what} is not valid UTF-8") from e
    if match := _CONTROL.search(text):
        raise NoteError(f"{what} contains control character {match.group()!r}")


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as e:  # binascii.Error, or non-ASCII input
        raise NoteError(f"{what} is not valid base64: {value!r:.80}") from e


def format_verifier_key(name: str, public_key: bytes) -> str:
    """``<name>+<hex key hash>+<base64(0x01 || public key)>``. Precondition: 32-byte key."""
    _check_name(name)
    if len(public_key) != 32:
        raise NoteError(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode()
    return f"{name}+{key_hash(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse and check a verifier key string; ``NoteError`` if malformed or mismatched."""
    name, _, rest = vkey.partition("+")
    hash_hex, _, encoded = rest.partition("+")  # the base64 part may itself hold '+'
    if not re.fullmatch(r"[0-9a-fA-F]{8}", hash_hex):
        raise NoteError(f"verifier key {vkey!r:.80} is not name+hash+key")
    _check_name(name)
    key = _b64decode(encoded, "verifier key material")
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise NoteError("verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
    if key_hash(name, key[1:]) != bytes.fromhex(hash_hex):
        raise NoteError(f"verifier key hash {hash_hex} does not match name and key")
    try:
        Ed25519PublicKey.from_public_bytes(key[1:])
    except ValueError as e:
        raise NoteError(f"verifier key is not a valid Ed25519 key: {e}") from e
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
        raise NoteError(f"cannot load private key: {e}") from e
    if not isinstance(private, Ed25519PrivateKey):
        raise NoteError(f"private key is {type(private).__name__}, not Ed25519")
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
        raise NoteError(f"signature line does not start with an em dash and a space: {line!r:.80}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    _check_name(name)
    raw = _b64decode(encoded, "signature")
    if len(raw) < 5:
        raise NoteError(f"signature by {name} is too short")
    return _Signature(name, raw[:4], raw[4:], line + "\n")


def _split_note(signed: str) -> tuple[str, list[_Signature]]:
    """Text (with its final newline) and the parsed signature lines."""
    _check_text(signed, "note")
    split = signed.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = signed[: split + 1], signed[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("note has no signatures, or its last line lacks a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return text, [_parse_signature_line(line) for line in lines]


def sign_note(text: str, signer: Signer) -> str:
    """``text`` signed by ``signer``. Precondition: text ends in a newline and holds
    no control characters other than newlines."""
    _check_text(text, "note text")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
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
            raise NoteError(f"ambiguous verifier keys for {v.name}+{v.key_hash.hex()}")
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
            raise NoteError("note is not valid UTF-8") from e
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
            raise NoteError(f"invalid signature for key {s.name}+{s.key_hash.hex()}")
        verified.append(s.name)
    if not verified:
        raise NoteError("note has no signature by a known key")
    return text, verified


def _check_line(line: str, what: str) -> None:
    if not line or "\n" in line:
        raise NoteError(f"{what} must be one non-empty line, got {line!r:.80}")
    _check_text(line, what)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """Checkpoint text: origin, decimal size, base64 root, extension lines, each
    newline-terminated. Preconditions: non-empty lines, 0 <= size < 2**64, 32-byte root."""
    _check_line(origin, "origin")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 2**64:
        raise NoteError(f"tree size must be an integer in 0..2**64-1, got {size!r}")
    if len(root) != 32:
        raise NoteError(f"root hash must be 32 bytes, got {len(root)}")
    extra = list(extensions)
    for line in extra:
        _check_line(line, "extension line")
    return "".join(f"{line}\n" for line in [origin, str(size), base64.b64encode(root).decode(), *extra])


def parse_checkpoint(text: str) -> Checkpoint:
    """Inverse of ``format_checkpoint``; ``NoteError`` for anything else. Parse only
    text returned by ``open_note``: this checks the format, not any signature."""
    _check_text(text, "checkpoint")
    if not text.endswith("\n"):
        raise NoteError("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, tree size and root hash lines")
    origin, size_line, root_line, *extensions = lines
    if not origin or any(not line for line in extensions):
        raise NoteError("checkpoint lines must be non-empty")
    if not _DECIMAL.fullmatch(size_line) or int(size_line) >= 2**64:
        raise NoteError(f"tree size {size_line!r:.40} is not a decimal in 0..2**64-1 without leading zeros")
    root = _b64decode(root_line, "root hash")
    if len(root) != 32 or base64.b64encode(root).decode() != root_line:
        raise NoteError("root hash is not the canonical base64 of 32 bytes")
    return Checkpoint(origin, int(size_line), root, tuple(extensions))
