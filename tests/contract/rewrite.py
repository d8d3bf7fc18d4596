"""What an operator who holds the ledger's signing key can do (issue 19.4): rewrite the
log's tables and re-sign, so that a verification trusting only that key stays green.
Tamper cases as data, named after the mutation, for tests/contract/test_monitor.py and
tests/contract/test_group.py."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import text

from adapters.bootstrap import engine_of
from adapters.store.logreader import uuid_of
from domain.integrity.log import leaf_bytes
from domain.integrity.merkle import CompactRange, leaf_hash
from domain.integrity.note import format_checkpoint, open_note, parse_checkpoint, sign_note
from tests.contract.test_tamper import drop_triggers, score_positions, set_state, state_of


def resign_everything(conn: Any, app: Any) -> None:
    """Recompute every leaf, tree row and checkpoint from the events as they now stand and
    re-sign each checkpoint with the ledger's own key (the operator's cover-up)."""
    signer = app.recorder.signer()
    rows = list(conn.execute(text(
        "SELECT p.seq, p.position, p.recorded_at_us, e.originator_id, e.originator_version, e.topic, e.state "
        "FROM ledger_positions p JOIN ledger_events e ON e.id = p.position ORDER BY p.seq")))
    tree, compacts = CompactRange(), {0: CompactRange().to_bytes()}
    roots = {0: tree.root()}
    for seq, position, at, agg, version, topic, state in rows:
        h = leaf_hash(leaf_bytes(position, at, uuid_of(agg), version, topic, bytes(state)))
        conn.execute(text("UPDATE ledger_positions SET leaf_hash = :h WHERE seq = :s"), {"h": h, "s": seq})
        tree.append(h)
        roots[tree.size], compacts[tree.size] = tree.root(), tree.to_bytes()
    for (size,) in list(conn.execute(text("SELECT size FROM ledger_tree"))):
        conn.execute(text("UPDATE ledger_tree SET compact = :c WHERE size = :s"), {"c": compacts[size], "s": size})
    for number, size, note in list(conn.execute(text("SELECT number, size, note FROM ledger_checkpoints"))):
        cp = parse_checkpoint(open_note(note, [signer.verifier_key])[0])
        new = sign_note(format_checkpoint(cp.origin, size, roots[size], cp.extensions), signer)
        conn.execute(text("UPDATE ledger_checkpoints SET root = :r, note = :n WHERE number = :k"),
                     {"r": roots[size], "n": new, "k": number})


def truncate_and_resign(conn: Any, app: Any) -> str:
    """Cut the last events (at least 10, back to a transaction boundary) with their leaves,
    tree rows, checkpoints and cosignatures; then sign a fresh checkpoint of what is left."""
    total = conn.execute(text("SELECT COUNT(*) FROM ledger_positions")).scalar()
    cut = conn.execute(text("SELECT MAX(size) FROM ledger_tree WHERE size <= :n"), {"n": total - 10}).scalar()
    conn.execute(text("DELETE FROM ledger_events WHERE id IN (SELECT position FROM ledger_positions WHERE seq >= :c)"),
                 {"c": cut})
    conn.execute(text("DELETE FROM ledger_positions WHERE seq >= :c"), {"c": cut})
    conn.execute(text("DELETE FROM ledger_tree WHERE size > :c"), {"c": cut})
    conn.execute(text("DELETE FROM ledger_cosignatures WHERE checkpoint IN "
                      "(SELECT number FROM ledger_checkpoints WHERE size > :c)"), {"c": cut})
    conn.execute(text("DELETE FROM ledger_checkpoints WHERE size > :c"), {"c": cut})
    return "after"  # a new checkpoint is made after the transaction


def rewrite_and_resign_all(conn: Any, app: Any) -> str:
    """An old entry of a month not yet approved (so no approval's result hash betrays it) has
    its points changed (−1.00 to −0.10); every leaf, tree row and checkpoint is recomputed and
    re-signed."""
    p = score_positions(conn)[-1]
    set_state(conn, p, state_of(conn, p).replace(b'"-1.00"', b'"-0.10"'))
    resign_everything(conn, app)
    return "none"


def fork(conn: Any, app: Any) -> str:
    """As rewrite_and_resign_all, then the log grows on the rewritten history: the witness is
    shown a bigger checkpoint that does not extend the one it holds."""
    rewrite_and_resign_all(conn, app)
    return "grow"


MUTATIONS: dict[str, Callable[[Any, Any], str]] = {f.__name__: f for f in (
    truncate_and_resign, rewrite_and_resign_all, fork)}


def rewrite(app: Any, mutation: str, branch: str = "A") -> None:
    """Apply ``mutation`` to ``app``'s database as its operator (triggers dropped, the ledger's
    key at hand)."""
    engine = engine_of(app)
    with engine.begin() as conn:
        drop_triggers(conn, engine.dialect.name)
        then = MUTATIONS[mutation](conn, app)
    if then == "after":
        app.recorder.make_checkpoint("after truncation")
    elif then == "grow":
        app.record_score(branch=branch, period="2019-11", category="political", points="-2", reason="测试扣分",
                         department="party_mass", actor="scorer")
        app.recorder.make_checkpoint("grown on the rewrite")
