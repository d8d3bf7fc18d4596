"""Shared checks of the reliability tests (issue 10): the log's own bookkeeping, the
maintained view against a full fold, and counting what an import key prefix produced."""
from __future__ import annotations

import os
import random
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Engine

from adapters.integrity.verify import verify_ledger
from adapters.store.logreader import LogReader
from adapters.store.views import MaintainedView
from projections.model import ORG, AssessmentModel

# One valid line per op, the starting point of hostile and fuzzed lines (tests/reliability/hostile/README.md).
BASES: dict[str, dict[str, Any]] = {
    "record_score": {"op": "record_score", "branch": "A", "period": "2019-07", "category": "political",
                     "points": "-1", "reason": "理由", "department": "party_mass", "actor": "u"},
    "register_branch": {"op": "register_branch", "code": "H", "name": "H支部", "members": 20},
    "appoint_secretary": {"op": "appoint_secretary", "branch": "A", "name": "张", "mode": "part_time",
                          "allowance": "800", "from": "2019-07"},
    "record_business_score": {"op": "record_business_score", "branch": "A", "period": "2019-07", "score": "90",
                              "actor": "u"},
    "decide_appeal": {"op": "decide_appeal", "appeal_key": "none", "decision": "rejected", "reason": "r", "actor": "u"},
    "void_entry": {"op": "void_entry", "entry_key": "none", "reason": "r", "actor": "u"},
    "adopt_rulebook": {"op": "adopt_rulebook", "version": 2, "from": "2019-10", "parameters": {"bonus_cap": "6"},
                       "actor": "u"},
    "approve_quarter": {"op": "approve_quarter", "period": "2019Q3", "actor": "u"},
    "record_debriefing": {"op": "record_debriefing", "branch": "A", "year": "2019", "score": "90", "actor": "u"},
    "publish_dues": {"op": "publish_dues", "branch": "A", "half": "2019H1", "actor": "u"},
}


def seed(name: str) -> int:
    """The random seed of one reliability test: ``LEDGER_RELIABILITY_SEED`` if set (to replay
    a failure), else a fresh one; tests put it in their failure messages."""
    given = os.environ.get("LEDGER_RELIABILITY_SEED")
    return int(given) if given else random.SystemRandom().randrange(1 << 30)


def bookkeeping(engine: Engine) -> tuple[int, int]:
    """(events, position rows); asserts every event has one position row and the leaf
    indices run 0..n-1 without a gap — what a half-written transaction would break."""
    with engine.connect() as conn:
        events = conn.execute(text("SELECT COUNT(*) FROM ledger_events")).scalar()
        positions, low, high = conn.execute(text(
            "SELECT COUNT(*), MIN(seq), MAX(seq) FROM ledger_positions")).one()
        orphans = conn.execute(text(
            "SELECT COUNT(*) FROM ledger_events e LEFT JOIN ledger_positions p ON p.position = e.id "
            "WHERE p.position IS NULL")).scalar()
        tree = conn.execute(text("SELECT MAX(size) FROM ledger_tree")).scalar()
    assert events == positions, f"{events} events but {positions} position rows"
    assert orphans == 0, f"{orphans} events without a position row"
    assert (low, high) == ((0, positions - 1) if positions else (None, None)), (low, high, positions)
    assert tree == positions, f"the tree covers {tree} leaves, the log has {positions}"
    return int(events), int(positions)


def keyed(engine: Engine, prefix: str, after: int = 0) -> tuple[int, int]:
    """(events after position ``after`` whose import key starts with ``prefix``, rows of
    ``ledger_import_keys`` with that prefix)."""
    n_events = sum(1 for e in LogReader(engine).read(after=after)
                   if str(e.raw.get("key") or "").startswith(prefix))
    with engine.connect() as conn:
        n_keys = conn.execute(text("SELECT COUNT(*) FROM ledger_import_keys WHERE key LIKE :p"),
                              {"p": prefix + "%"}).scalar()
    return n_events, int(n_keys)


def sections(model: AssessmentModel) -> dict[str, Any]:
    """Every section of the fold, as the JSON the maintained view stores."""
    names = [ORG, *("month:" + p for p in model.months), *("quarter:" + p for p in model.quarters),
             *("year:" + p for p in model.years)]
    return {n: orjson.loads(orjson.dumps(model.section(n))) for n in names}


def full_fold(engine: Engine) -> AssessmentModel:
    return AssessmentModel().apply_all(LogReader(engine).read())


def assert_view_is_full_fold(engine: Engine) -> AssessmentModel:
    """The maintained view, caught up by polling, equals a fold of the whole log."""
    view = MaintainedView(engine).model()
    full = full_fold(engine)
    assert view.position == full.position, (view.position, full.position)
    got, want = sections(view), sections(full)
    assert set(got) == set(want), sorted(set(got) ^ set(want))
    for name in want:
        assert got[name] == want[name], f"maintained section {name} differs from the full fold"
    return full


def assert_verifies(app: Any) -> Any:
    from adapters.bootstrap import engine_of
    report = verify_ledger(engine_of(app), [app.recorder.signer().verifier_key])
    assert report.ok, [p.__dict__ for p in report.problems[:5]]
    return report
