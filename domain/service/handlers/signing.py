"""The handlers of ``domain/integrity/signing.py`` (the ledger's signing keys): plain functions of the unit of work."""
from __future__ import annotations

from domain.errors import NotInitialized
from domain.integrity.signing import RotateSigningKey, SigningKeys, check_verifier_key, signing_keys_id
from domain.service.handlers import handles
from domain.service.unit_of_work import UnitOfWork


def declare(uow: UnitOfWork, verifier_key: str, actor: str) -> SigningKeys:
    """At ``ledger init``: declare ``verifier_key`` if the log declares none; if it declares
    one, the key in force must be this one (a different key file is refused, naming both)."""
    found = uow.find(signing_keys_id(), for_update=True)
    if found is None:
        found = SigningKeys(verifier_key=check_verifier_key(verifier_key), actor=actor)
        uow.add(found)
    elif found.current != verifier_key:
        raise NotInitialized(f"账本登记的当前签名公钥为 {found.current}，而 LEDGER_SIGNING_KEY 指向的私钥对应 "
                             f"{verifier_key}：请把 LEDGER_SIGNING_KEY 指向原私钥（换钥请用 ledger key rotate）",
                             "LEDGER_SIGNING_KEY")
    return found


@handles(RotateSigningKey)
def rotate_signing_key(uow: UnitOfWork, cmd: RotateSigningKey) -> str:
    keys = uow.find(signing_keys_id(), for_update=True)
    if keys is None:
        raise NotInitialized("账本尚未登记签名公钥：请先运行 ledger init", None)
    keys.rotate(check_verifier_key(cmd.verifier_key), cmd.reason, cmd.actor, cmd.key)
    return cmd.verifier_key
