"""C2SP signed-note / tlog-checkpoint: Go reference vectors, round trips, refusals."""
from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.integrity.merkle import EMPTY_ROOT, leaf_hash
from domain.integrity.note import (
    Checkpoint,
    NoteError,
    Signer,
    add_signature,
    format_checkpoint,
    generate_key,
    key_hash,
    load_signer,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
)

# golang.org/x/mod/sumdb/note note_test.go: keys, text and signatures.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"  # all-zero seed
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"


def _pem(seed: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _go_signer() -> Signer:
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])  # 0x01 || 32-byte seed
    assert raw[0] == 0x01
    return load_signer(_pem(raw[1:]), "PeterNeumann")


def _enoch_signer() -> Signer:
    return load_signer(_pem(bytes(32)), "EnochRoot")


@pytest.fixture(scope="module")
def alice() -> tuple[Signer, str]:
    pem, vkey = generate_key("ledger.example/alice")
    return load_signer(pem, "ledger.example/alice"), vkey


@pytest.fixture(scope="module")
def bob() -> tuple[Signer, str]:
    pem, vkey = generate_key("witness.example/bob")
    return load_signer(pem, "witness.example/bob"), vkey


# --- reference vectors ---


def test_key_hash_is_the_c2sp_definition() -> None:
    public = base64.b64decode(PETER_VKEY.split("+", 2)[2])[1:]
    expected = hashlib.sha256(b"PeterNeumann" + b"\x0a" + b"\x01" + public).digest()[:4]
    assert key_hash("PeterNeumann", public) == expected == bytes.fromhex("c74f20a3")
    verifier = parse_verifier_key(PETER_VKEY)
    assert (verifier.name, verifier.key_hash, verifier.public_key) == ("PeterNeumann", expected, public)


def test_signing_reproduces_go_vectors_byte_for_byte() -> None:
    signer, cosigner = _go_signer(), _enoch_signer()
    assert signer.verifier_key == PETER_VKEY and cosigner.verifier_key == ENOCH_VKEY
    signed = sign_note(GO_TEXT, signer)
    assert signed == GO_TEXT + "\n" + PETER_SIG
    assert add_signature(signed, cosigner) == GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG


def test_go_note_opens() -> None:
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [PETER_VKEY]) == (GO_TEXT, ["PeterNeumann"])
    assert open_note(note, [ENOCH_VKEY, PETER_VKEY]) == (GO_TEXT, ["PeterNeumann", "EnochRoot"])
    assert open_note(note.encode(), [ENOCH_VKEY]) == (GO_TEXT, ["EnochRoot"])


# --- round trips and verification ---


def test_round_trip(alice: tuple[Signer, str]) -> None:
    signer, vkey = alice
    text = "line one\n\nline three after a blank line\n"
    assert open_note(sign_note(text, signer), [vkey]) == (text, [signer.name])


def test_generated_key_strings(alice: tuple[Signer, str]) -> None:
    signer, vkey = alice
    assert vkey == signer.verifier_key
    assert vkey.startswith(f"ledger.example/alice+{signer.key_hash.hex()}+")


def test_signature_by_another_key_is_not_accepted(alice: tuple[Signer, str], bob: tuple[Signer, str]) -> None:
    signed = sign_note("hello\n", bob[0])
    with pytest.raises(NoteError, match="没有已知公钥的签名"):
        open_note(signed, [alice[1]])


def test_same_name_other_key_is_ignored_as_unknown(alice: tuple[Signer, str]) -> None:
    impostor = load_signer(generate_key(alice[0].name)[0], alice[0].name)
    signed = add_signature(sign_note("hello\n", alice[0]), impostor)
    assert open_note(signed, [alice[1]]) == ("hello\n", [alice[0].name])


@pytest.mark.parametrize("position", [0, 5, 17])
def test_changed_body_byte_fails(alice: tuple[Signer, str], position: int) -> None:
    signed = sign_note("origin.example/log\n42\nAAAA\n", alice[0])
    changed = signed[:position] + chr(ord(signed[position]) ^ 1) + signed[position + 1 :]
    with pytest.raises(NoteError, match="的签名无效"):
        open_note(changed, [alice[1]])


def test_changed_signature_fails() -> None:
    bad = GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match="公钥 PeterNeumann\\+c74f20a3 的签名无效"):
        open_note(bad, [PETER_VKEY])


def test_cosignature_verifies_both(alice: tuple[Signer, str], bob: tuple[Signer, str]) -> None:
    cosigned = add_signature(sign_note("checkpoint\n", alice[0]), bob[0])
    assert open_note(cosigned, [alice[1], bob[1]]) == ("checkpoint\n", [alice[0].name, bob[0].name])
    assert open_note(cosigned, [bob[1]]) == ("checkpoint\n", [bob[0].name])


def test_cosigning_twice_replaces_not_duplicates(alice: tuple[Signer, str], bob: tuple[Signer, str]) -> None:
    cosigned = add_signature(sign_note("x\n", alice[0]), bob[0])
    assert add_signature(cosigned, bob[0]) == cosigned


def test_repeated_signature_counts_once() -> None:
    assert open_note(GO_TEXT + "\n" + PETER_SIG + PETER_SIG, [PETER_VKEY]) == (GO_TEXT, ["PeterNeumann"])


# --- malformed notes and keys ---


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(GO_TEXT, id="no_signatures"),
        pytest.param(GO_TEXT + "\n", id="blank_line_only"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG[:-1], id="last_line_unterminated"),
        pytest.param("\x01" + GO_TEXT + "\n" + PETER_SIG, id="control_character"),
        pytest.param(b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(), id="invalid_utf8"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"), id="space_in_name"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n", id="unexpected_line"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("—", "-"), id="hyphen_not_em_dash"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG.replace("=\n", "\n"), id="bad_base64_padding"),
        pytest.param(GO_TEXT + "\n— PeterNeumann AAAA\n", id="signature_too_short"),
        pytest.param(GO_TEXT + "\n" + PETER_SIG * 101, id="too_many_signatures"),
    ],
)
def test_malformed_notes_are_refused(note: str | bytes) -> None:
    with pytest.raises(NoteError):
        open_note(note, [PETER_VKEY])


@pytest.mark.parametrize(
    "vkey",
    [
        pytest.param(PETER_VKEY.replace("c74f20a3", "c74f20a4"), id="wrong_hash"),
        pytest.param(PETER_VKEY.replace("PeterNeumann", "PeterNeuman"), id="wrong_name"),
        pytest.param(PETER_VKEY[:-4], id="truncated_key"),
        pytest.param("PeterNeumann+c74f20a3", id="missing_key"),
        pytest.param("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", id="empty_name"),
        pytest.param(PETER_VKEY.replace("+ARpc", "+Apc"), id="bad_key_bytes"),
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        open_note(GO_TEXT + "\n" + PETER_SIG, [vkey])


# Two different public keys whose key IDs collide under one name: public keys
# SHA-256(i.to_bytes(8, "big")) for i = 86059 and 114243, found by a birthday search.
COLLIDING_VKEYS = [
    "collide+13305f00+AWnBmrd1g6ELI/0jCDojw43+u5xkRPb/s+6NpnjUrejB",
    "collide+13305f00+Afsn/B6JvYRC5zM9e1hfWtXMl1YsiG6ywKz9XPbhQaro",
]


def test_conflicting_verifier_keys_are_refused() -> None:
    for vkey in COLLIDING_VKEYS:
        assert parse_verifier_key(vkey).key_hash.hex() == "13305f00"
    with pytest.raises(NoteError, match="有多个，无法区分"):
        open_note(GO_TEXT + "\n" + PETER_SIG, [PETER_VKEY, *COLLIDING_VKEYS])
    assert open_note(GO_TEXT + "\n" + PETER_SIG, [PETER_VKEY, PETER_VKEY])[1] == ["PeterNeumann"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("no newline", "必须以换行结尾"), ("tab\there\n", "含有控制字符")],
)
def test_unsignable_text_is_refused(alice: tuple[Signer, str], text: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        sign_note(text, alice[0])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\tname"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(NoteError, match="密钥名称 .* 无效"):
        generate_key(name)


def test_non_ed25519_or_garbage_pem_is_refused() -> None:
    ec_pem = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(NoteError, match="不是 Ed25519 私钥"):
        load_signer(ec_pem, "x")
    with pytest.raises(NoteError, match="无法读取私钥"):
        load_signer(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "x")


# --- checkpoints ---


def test_checkpoint_round_trip(alice: tuple[Signer, str]) -> None:
    root = leaf_hash(b"entry")
    body = format_checkpoint("ledger.example/log", 20852163, root, ["ext one"])
    assert body == f"ledger.example/log\n20852163\n{base64.b64encode(root).decode()}\next one\n"
    text, _ = open_note(sign_note(body, alice[0]), [alice[1]])
    assert parse_checkpoint(text) == Checkpoint("ledger.example/log", 20852163, root, ("ext one",))


def test_c2sp_example_checkpoint_body_parses() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    origin, size, root, extensions = parse_checkpoint(body)
    assert (origin, size, extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert format_checkpoint(origin, size, root) == body


def test_empty_tree_checkpoint() -> None:
    body = format_checkpoint("o", 0, EMPTY_ROOT)
    assert parse_checkpoint(body) == ("o", 0, EMPTY_ROOT, ())


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("o\n1\n", id="missing_root"),
        pytest.param("o\n1\n" + base64.b64encode(EMPTY_ROOT).decode(), id="no_final_newline"),
        pytest.param("\n1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n", id="empty_origin"),
        pytest.param("o\n01\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n", id="leading_zero"),
        pytest.param("o\n-1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n", id="negative_size"),
        pytest.param("o\n１\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n", id="non_ascii_digit"),
        pytest.param("o\n18446744073709551616\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n", id="size_2_64"),
        pytest.param("o\n1\n" + base64.b64encode(b"short").decode() + "\n", id="short_root"),
        pytest.param("o\n1\n!!!\n", id="root_not_base64"),
        pytest.param("o\n1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n\n", id="empty_extension"),
    ],
)
def test_malformed_checkpoints_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        pytest.param("", 1, EMPTY_ROOT, (), id="empty_origin"),
        pytest.param("a\nb", 1, EMPTY_ROOT, (), id="newline_in_origin"),
        pytest.param("o", -1, EMPTY_ROOT, (), id="negative_size"),
        pytest.param("o", 2**64, EMPTY_ROOT, (), id="size_too_big"),
        pytest.param("o", 1, b"short", (), id="short_root"),
        pytest.param("o", 1, EMPTY_ROOT, ("",), id="empty_extension"),
    ],
)
def test_format_checkpoint_refuses_bad_fields(origin: str, size: int, root: bytes, extensions: tuple[str, ...]) -> None:
    with pytest.raises(NoteError):
        format_checkpoint(origin, size, root, extensions)
