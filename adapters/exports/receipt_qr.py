"""A receipt small enough for a QR code on paper: the approval's (or publication's) log
position, its leaf hash, its inclusion proof and the signed checkpoint — everything needed,
with the ledger's public key, to check offline that the printed result was recorded in the
log the checkpoint signs (the event itself is the printed table; its full bundle is
``ledger prove`` / the web's receipt).

Text format (lines)::

    dangjian-receipt/1
    position <P> leaf <INDEX> <LEAF HASH hex>
    proof <hex,hex,...>
    <the signed checkpoint note, as signed>

QR codes: segno (pure Python, no imaging library), drawn as inline SVG.
"""
from __future__ import annotations

from typing import Any

from adapters.store.proofs import ProofError, event_leaf
from domain.integrity.merkle import verify_inclusion
from domain.integrity.note import NoteError, open_note, parse_checkpoint

FORMAT = "dangjian-receipt/1"


def receipt_text(bundle: dict[str, Any]) -> str:
    """The QR text of an inclusion bundle (``adapters.store.proofs.inclusion_bundle``)."""
    leaf = event_leaf(bundle["event"]).hex()
    return "\n".join([FORMAT, f"position {bundle['event']['position']} leaf {bundle['leaf_index']} {leaf}",
                      "proof " + ",".join(bundle["proof"]), bundle["checkpoint"].rstrip("\n")]) + "\n"


def verify_receipt_text(text: str, vkey: str) -> str:
    """Check a scanned receipt with only the verifier key: a sentence saying what holds, or
    :class:`ProofError` saying what does not."""
    lines = text.split("\n")
    try:
        if lines[0] != FORMAT:
            raise ProofError("不是本账本的回执")
        _, position, _, index, leaf = lines[1].split(" ")
        proof = [bytes.fromhex(h) for h in lines[2].removeprefix("proof ").split(",") if h]
        body, signers = open_note("\n".join(lines[3:]), [vkey])
        cp = parse_checkpoint(body)
    except (IndexError, ValueError) as e:
        raise ProofError(f"回执格式无效：{e}") from None
    except NoteError as e:
        raise ProofError(f"检查点签名或格式无效：{e}") from None
    if not verify_inclusion(bytes.fromhex(leaf), int(index), cp.size, proof, cp.root):
        raise ProofError(f"包含证明不成立：位置 {position} 的事件不在该检查点的树中")
    return f"成立：位置 {position} 的事件（叶子 {index}）包含在大小为 {cp.size} 的树中，检查点由 {', '.join(signers)} 签名"


def qr_svg(text: str) -> str:
    """``text`` as a QR code (error correction L, the smallest that holds it), inline SVG."""
    import segno
    code = segno.make(text, error="l", micro=False)
    return str(code.svg_inline(scale=2, border=2, dark="#000", light="#fff", omitsize=False))
