"""The batch import's compact path for score entries (issue 18) against the one-command path.

One ledger is built, backed up and restored into a second database of the same kind; the
same batches are then imported into each, one through the compact path
(``domain/service/score_batch.py``), one line by line through the handlers
(``import_batch(..., compact=False)``), with the event clock and the database clock frozen
alike (on PostgreSQL the compact batch is written through COPY, the other through INSERT
statements). Every stored row of the log — events, positions and leaf hashes, tree, import keys —
must be byte for byte the same, and so must the results (appended, skipped, ids, warnings)
and the refusals. How it fails if the compact path drifts: a payload key in another order, a
stamp left out, a version off by one, an Opened event after its entries, a skipped key
counted, a refusal with another line, field or reason — each is a differing row or result.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy

import adapters.store.recorder as recorder
from adapters.bootstrap import close, engine_of, make_ledger
from adapters.store.backup import backup, restore
from domain.errors import LedgerError
from domain.ids import month_id
from domain.service.application import Ledger
from tests.conftest import fresh_database
from tests.helpers import ADMIN, MIGRATION, with_users

TABLES = {  # table → the columns compared, in the order rows are read
    "ledger_events": "id, originator_id, originator_version, topic, state",
    "ledger_positions": "position, seq, recorded_at_us, leaf_hash",
    "ledger_tree": "size, compact",
    "ledger_import_keys": "key, digest, op, ref",
    "ledger_checkpoints": "number, size, root, recorded_at_us, reason, note",
}


def score(key: str | None, branch: str, period: str, points: Any, category: str = "political",
          department: str = "party_mass", **more: Any) -> dict[str, Any]:
    line = {"op": "record_score", "branch": branch, "period": period, "category": category, "points": points,
            "reason": "例行检查扣分", "department": department, "actor": "考核员", **more}
    if key is not None:
        line["key"] = key
    return line


BATCHES: list[tuple[str, list[dict[str, Any]]]] = [
    # months interleaved, one new (its Opened event first), one with entries already; a cap
    # reached (warnings); a JSON number and a bonus; a migration's document date
    (MIGRATION, [score("k/1", "A", "2019-08", "-2.5"), score("k/2", "B", "2019-07", "-1", "conduct",
                                                                 "discipline_inspection"),
                 score("k/3", "A", "2019-07", 3, "bonus", "party_mass"),
                 *(score(f"k/cap/{n}", "A", "2019-08", "-4.5") for n in range(5)),
                 score("k/4", "B", "2019-08", "-0.25", occurred_at="2019-08-03"),
                 score("k/\t\\N\n\r\\x00", "B", "2019-08", "-0.5")]),  # COPY's special characters in a key
    # a scorer (not a migration): stamped with the user only; one line applied before
    ("scorer", [score("k/1", "A", "2019-08", "-2.5"), score("k/5", "A", "2019-08", "-1.5"),
                score("k/6", "B", "2019-08", "-0.5")]),
]
REFUSED: list[tuple[str, list[dict[str, Any]]]] = [
    (MIGRATION, [score("r/1", "A", "2019-08", "-1"), score("r/2", "Z", "2019-08", "-1"),
                 score("r/3", "A", "2019-08", "1"), score("r/4", "A", "2019-08", "-1", "political", "office"),
                 score("r/5", "B", "2019-06", "-1"),
                 score("r/6", "A", "2019-08", "-1", "nope")]),
    ("scorer", [score("r/7", "A", "2019-08", "-1", occurred_at="2019-08-01"),
                score("r/8", "A", "2019-08", "-1", "conduct", "discipline_inspection"),
                score("r/8b", "A", "2019-08", "-2", "discipline", "discipline_inspection")]),  # the same refusal again
    (MIGRATION, [score("r/9", "A", "2019-08", "-1.234"), score("r/9", "A", "2019-08", "-1"),
                 {"op": "record_score", "branch": "A"}, score("r/10", "A", "2019-13", "-1")]),
]


class FrozenClock:
    """Event timestamps and the database clock, both advancing only by the code's own steps."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.ticks = 0

    def start(self) -> None:
        self.ticks = 0
        start = datetime(2019, 9, 1, tzinfo=timezone.utc)

        def now() -> datetime:
            self.ticks += 1
            return start + timedelta(microseconds=self.ticks)
        self.monkeypatch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", now)
        self.monkeypatch.setattr(recorder, "FIXED_CLOCK_US", 1_567_296_000_000_000)


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Ledger, Ledger]]:
    """Two ledgers holding the same log: a company of two branches (B from 2019-07), a scorer
    of party_mass, and one entry of 2019-07; the second restored from the first's backup."""
    first = with_users(make_ledger(db_url))
    first.register_branch(code="A", name="甲支部", members=20)
    first.register_branch(code="B", name="乙支部", members=15, from_month="2019-07")
    first.appoint_secretary(branch="A", name="张三", mode="full_time", from_month="2019-01", actor="r")
    first.command("create_user", as_user=ADMIN, user="scorer", name="考核员", actor="admin")
    first.command("grant_role", as_user=ADMIN, user="scorer", role="scorer:party_mass", actor="admin")
    first.record_score(branch="A", period="2019-07", category="political", points="-1", reason="缺课",
                       department="party_mass", actor="u", key="k/0")
    backup(db_url, tmp_path / "backup")
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    (tmp_path / "second").mkdir()
    with fresh_database(backend, tmp_path / "second") as other:
        restore(other, tmp_path / "backup")
        second = make_ledger(other, user=MIGRATION)
        try:
            yield first, second
        finally:
            close(second)
            close(first)


def rows(app: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    with engine_of(app).connect() as conn:
        return {t: [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in conn.execute(sqlalchemy.text(f"SELECT {cols} FROM {t} ORDER BY 1"))]
                for t, cols in TABLES.items()}


def outcome(app: Ledger, user: str, lines: list[dict[str, Any]], compact: bool) -> Any:
    try:
        result = app.import_batch(list(enumerate(lines, start=1)), user, compact=compact)
    except LedgerError as e:
        return ("refused", type(e).__name__, [(x.line, x.field, x.reason) for x in getattr(e, "errors", [])],
                e.reason)
    return (result.appended, result.skipped, result.ids, result.warnings)


def run_both(twins: tuple[Ledger, Ledger], clock: FrozenClock,
             batches: list[tuple[str, list[dict[str, Any]]]]) -> tuple[list[Any], Callable[[], None]]:
    compact_app, generic_app = twins
    outcomes = []
    for user, lines in batches:
        clock.start()
        clock.monkeypatch.setattr(recorder, "COPY_FROM", 1)  # PostgreSQL: the compact batch through COPY
        got = outcome(compact_app, user, lines, compact=True)
        clock.start()
        clock.monkeypatch.setattr(recorder, "COPY_FROM", 10**9)  # the other through INSERT statements
        want = outcome(generic_app, user, lines, compact=False)
        assert got == want, (user, lines)
        outcomes.append(got)

    def same_rows() -> None:
        assert rows(compact_app) == rows(generic_app)
    return outcomes, same_rows


def test_the_compact_path_stores_what_the_one_command_path_stores(
        twins: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch) -> None:
    before = rows(twins[0])
    assert before == rows(twins[1])  # the restored twin starts from the same log
    outcomes, same_rows = run_both(twins, FrozenClock(monkeypatch), BATCHES)
    same_rows()
    (appended, skipped, ids, warnings), second = outcomes
    assert (appended, skipped, len(ids)) == (10, 0, 10) and second[:2] == (2, 1)
    assert [w["line"] for w in warnings] == [6, 7, 8]  # 2019-08's political cap (10.00) reached at line 6
    after = rows(twins[0])
    assert len(after["ledger_events"]) == len(before["ledger_events"]) + 13  # one Opened, 12 entries
    assert len(after["ledger_tree"]) == len(before["ledger_tree"]) + 2  # one tree row per batch
    # the compact path's cached months are the stored ones (the next command builds on them)
    compact_app = twins[0]
    for period in ("2019-07", "2019-08"):
        cached = compact_app.repository.cache.get(month_id(period))
        replayed = make_ledger(str(engine_of(compact_app).url.render_as_string(hide_password=False)))
        try:
            replayed.repository.cache = None
            stored = replayed.repository.get(month_id(period))
        finally:
            close(replayed)
        assert (cached.version, cached.entry_count, cached.sums, cached.modified_on) == \
            (stored.version, stored.entry_count, stored.sums, stored.modified_on)


def test_refusals_are_the_same_and_nothing_is_written(
        twins: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch) -> None:
    before = rows(twins[0])
    outcomes, same_rows = run_both(twins, FrozenClock(monkeypatch), REFUSED)
    same_rows()
    assert [o[0] for o in outcomes] == ["refused"] * 3 and [len(o[2]) for o in outcomes] == [5, 3, 3]
    logged = []  # every refusal for want of a role is in the security log, once per line, by both paths
    for app in twins:
        with engine_of(app).connect() as conn:
            logged.append(sorted(conn.execute(sqlalchemy.text(
                "SELECT user_id, op, reason FROM ledger_security_log")).all()))
    assert logged[0] == logged[1] and len(logged[0]) == 3
    assert rows(twins[0]) == before
