"""Projection gaps (issue 10, item 4): a transaction that commits a lower log position
after a higher one has been read would be skipped by every projection that polls the log by
position (``MaintainedView``: ``position > reached``). The write lock makes that impossible:
positions are assigned under it (PostgreSQL: ``LOCK TABLE … IN EXCLUSIVE MODE`` then
``nextval``; SQLite: the database write lock, taken by the insert) and it is held through
commit, so commit order is position order. Both backends.

The first test shows it with two real writers: W1 is held inside its transaction with its
rows written and its positions assigned (the store's ``written`` hook point); W2 starts
meanwhile and must wait for the lock without getting a position; a reader polls the
maintained view the whole time. Then W1 commits, W2 follows with higher positions; the view
never moved backwards, never saw W2 before W1, and equals a full fold.

Shown in a scratch copy without ``LOCK TABLE`` in the PostgreSQL write: ``W2 got a
position while W1 held the lock``.

The second test is the control: it commits a lower position after a higher one by hand
(what a writer without the lock could do) and shows the same checks catch the skip — so
the first test would fail if the lock's guarantee broke.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from adapters.bootstrap import engine_of
from adapters.store import recorder as store
from adapters.store.logreader import LogReader
from adapters.store.views import MaintainedView
from tests.helpers import company, deduct
from tests.reliability.helpers import assert_verifies, assert_view_is_full_fold, full_fold

pytestmark = pytest.mark.reliability


def test_a_held_transaction_keeps_later_writers_and_positions_behind_it(app, make_app, monkeypatch) -> None:
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    deduct(app, "A", "2019-07", "-1")
    engine = engine_of(app)
    view = MaintainedView(engine)
    start = view.model().position
    w1_app, w2_app = make_app(), make_app()
    w1_app.default_user = w2_app.default_user = app.default_user
    held, release = threading.Event(), threading.Event()
    reached: dict[str, list[str]] = {"w1": [], "w2": []}

    def hook(point: str) -> None:
        name = threading.current_thread().name
        if name in reached:
            reached[name].append(point)
        if name == "w1" and point == "written":
            held.set()
            assert release.wait(30)
    monkeypatch.setattr(store, "HOOK", hook)
    results: dict[str, Any] = {}

    def write(name: str, ledger: Any, branch: str) -> None:
        try:
            results[name] = deduct(ledger, branch, "2019-07", "-2")
        except BaseException as e:  # noqa: BLE001 - asserted below
            results[name] = e

    w1 = threading.Thread(target=write, args=("w1", w1_app, "A"), name="w1")
    w2 = threading.Thread(target=write, args=("w2", w2_app, "B"), name="w2")
    w1.start()
    assert held.wait(30), "W1 never reached its write"
    w2.start()
    polls = []
    try:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:  # W1 holds its positions uncommitted; W2 waits for the lock
            polls.append(view.model().position)
            time.sleep(0.01)
        assert "begin" in reached["w2"], "W2 did not start its write while W1 held its transaction"
        assert "locked" not in reached["w2"], "W2 got a position while W1 held the lock"
        assert set(polls) == {start}, f"the view moved while W1 was uncommitted: {sorted(set(polls))}"
    finally:
        release.set()
    while w1.is_alive() or w2.is_alive():
        polls.append(view.model().position)
    w1.join()
    w2.join()
    polls.append(view.model().position)
    assert not isinstance(results["w1"], BaseException), results["w1"]
    assert not isinstance(results["w2"], BaseException), results["w2"]
    assert polls == sorted(polls), "the view's position went backwards"

    events = {e.data.get("entry_id"): e.position for e in LogReader(engine).read(after=start)
              if e.name == "AssessmentMonth.ScoreRecorded"}
    assert events[results["w1"]] < events[results["w2"]], "W2 committed a position before W1's"
    assert "locked" in reached["w2"] and reached["w1"][-1] == "committed"
    assert_view_is_full_fold(engine)
    assert_verifies(app)


def _insert_raw(conn: Any, position: int, seq: int, state: bytes, topic: str) -> None:
    conn.execute(text("INSERT INTO ledger_events (id, originator_id, originator_version, topic, state) "
                      "VALUES (:id, :agg, 1, :topic, :state)"),
                 {"id": position, "agg": uuid.uuid4() if conn.dialect.name == "postgresql" else uuid.uuid4().bytes,
                  "topic": topic, "state": state})
    conn.execute(text("INSERT INTO ledger_positions (position, seq, recorded_at_us, leaf_hash) "
                      "VALUES (:p, :s, :at, :h)"), {"p": position, "s": seq, "at": 0, "h": b"\0" * 32})


def test_control_a_lower_position_committed_late_is_skipped_and_caught(app) -> None:
    """Without the lock a writer could commit position p+1 after p+2 was read. Done here by
    hand (two branch registrations with explicit positions): the view, having read p+2,
    never reads p+1, and the comparison with a full fold fails — the check the first test
    relies on."""
    company(app, ("A", "full_time", None))
    engine = engine_of(app)
    view = MaintainedView(engine)
    with engine.connect() as conn:
        topic, state = conn.execute(text("SELECT topic, state FROM ledger_events WHERE topic LIKE "
                                         "'%BranchRegistered' ORDER BY id LIMIT 1")).one()
        top, seq = conn.execute(text("SELECT MAX(position), MAX(seq) FROM ledger_positions")).one()
    view.model()
    late, early = bytes(state).replace(b'"A"', b'"LATE"'), bytes(state).replace(b'"A"', b'"EARLY"')
    with engine.begin() as conn:  # the higher position commits first …
        _insert_raw(conn, top + 2, seq + 2, early, topic)
    assert view.model().position == top + 2
    with engine.begin() as conn:  # … the lower one after it was read
        _insert_raw(conn, top + 1, seq + 1, late, topic)
    model = view.model()
    assert "LATE" not in model.branches and "LATE" in full_fold(engine).branches
    with pytest.raises(AssertionError, match="differs from the full fold"):
        assert_view_is_full_fold(engine)
