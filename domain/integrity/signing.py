"""The ledger's signing keys, declared in the log itself (签名公钥登记).

One ``SigningKeys`` aggregate: ``Declared`` at ``ledger init`` names the public (verifier)
key that signs the ledger's checkpoints; each ``Rotated`` names the next one. ``ledger
verify`` checks every checkpoint against the key in force at its tree size (the latest
declared within the leaves it covers; before the first declaration — a ledger begun
before keys were declared — the first declared key), and, given a trusted key, that the
log's first key is that one (docs/tamper-evidence.md).

The key is a C2SP verifier key line (``name+hash+base64``) produced by the adapters; the
domain only keeps and compares the text.
"""
from __future__ import annotations

from typing import Any, Literal
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import commands as c
from domain.errors import InvalidInput
from domain.ids import NAMESPACE

EVENT_NAMES = ("SigningKeys.Declared", "SigningKeys.Rotated")


def signing_keys_id() -> UUID:
    return uuid5(NAMESPACE, "signing-keys")


def check_verifier_key(value: str) -> str:
    """A one-line verifier key ``name+hash+base64`` (the form ``ledger key show`` prints)."""
    parts = value.split("+", 2)
    if len(parts) != 3 or not all(parts) or any(ch.isspace() for ch in value):
        raise InvalidInput("验证公钥应为一行“名称+哈希+公钥”（ledger key show 的输出）", "verifier_key")
    return value


class SigningKeys(Aggregate):
    """``keys``: every verifier key declared, in order; the last is the one in force."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return signing_keys_id()

    @event("Declared")
    def __init__(self, verifier_key: str, actor: str) -> None:
        self.keys: list[str] = [verifier_key]

    @property
    def current(self) -> str:
        return self.keys[-1]

    def rotate(self, verifier_key: str, reason: str, actor: str, key: str | None) -> None:
        """Precondition: ``verifier_key`` checked. A key used before is refused: a retired
        key (perhaps the reason for rotating) never comes back into force."""
        if verifier_key in self.keys:
            raise InvalidInput("新公钥与账本已登记的公钥相同：请生成新的密钥", "new_key")
        self._rotate(verifier_key=verifier_key, previous=self.current, reason=reason, actor=actor, key=key)

    @event("Rotated")
    def _rotate(self, verifier_key: str, previous: str, reason: str, actor: str, key: str | None) -> None:
        self.keys.append(verifier_key)


# -- commands ------------------------------------------------------------------------------
class RotateSigningKey(c.Command):
    """Declare the ledger's next signing key (``ledger key rotate``); the adapter then signs
    a checkpoint with the new key, countersigned by the old one."""
    op: Literal["rotate_signing_key"] = "rotate_signing_key"
    roles = ("admin",)
    verifier_key: c.Text
    reason: c.Text
    actor: c.Text
