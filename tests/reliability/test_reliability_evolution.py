"""Schema evolution (issue 10, item 7): a log written by an older version of an event class
still replays after the class changed — a field renamed (``text`` → ``body``) and one added
(``audience``) — through the library's upcasting (``class_version = 2`` and a static
``upcast_v1_v2`` on the event class).

The fixture ``tests/fixtures/evolution_v1.json`` holds the stored rows (events, positions with
Merkle leaves, tree, a signed checkpoint) that the real store — this ledger's recorder and
transcoder — wrote for the test-only aggregate ``Notice`` at version 1
(``tests/fixtures/write_evolution_fixture.py``; the v1 source is kept beside it). The test
loads those rows byte for byte into a fresh ledger on each backend and, with
``tests/evolution_notice.py`` (version 2) as the code:

* ``verify_ledger`` holds over the old rows (leaves and checkpoint cover the v1 bytes, which
  upcasting never rewrites) and the stored payloads are still version 1;
* the aggregates replay as version 2 (``body`` from ``text``, ``audience`` defaulted);
* a new version-2 event is appended, stored with ``class_version: 2``, and the mixed log
  replays and verifies.

How it fails if the guarantee breaks: without ``upcast_v1_v2`` the replay raises
(``AttributeError`` looking the upcaster up); with the event class at version 2 but treated
as version 1 (no upcasting), ``TypeError`` — ``__init__`` missing ``body``. Both are asserted
below with the upcasting switched off by ``monkeypatch``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest

from adapters.bootstrap import engine_of
from adapters.integrity.verify import verify_ledger
from adapters.store.logreader import LogReader
from tests.evolution_notice import ALL_MEMBERS, Notice
from tests.helpers import load_stored_rows

pytestmark = pytest.mark.reliability

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "evolution_v1.json"


def load_fixture(app: Any) -> dict[str, Any]:
    """Insert the fixture's stored rows, unchanged, into ``app``'s empty tables."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    load_stored_rows(app, fixture["tables"])
    return fixture


def test_an_old_log_replays_through_upcasting_and_still_verifies(make_app, monkeypatch) -> None:
    app = make_app()
    fixture = load_fixture(app)
    engine, keys = engine_of(app), [fixture["verifier_key"]]
    report = verify_ledger(engine, keys, event_modules=("tests.evolution_notice",))
    assert report.ok and (report.events, report.checkpoints) == (3, 1), report.problems

    stored = list(LogReader(engine).read())
    assert all("text" in e.raw and "body" not in e.raw and "class_version" not in e.raw for e in stored)

    first = app.repository.get(UUID(fixture["notices"]["2019-001"]))
    second = app.repository.get(UUID(fixture["notices"]["2019-002"]))
    assert isinstance(first, Notice) and isinstance(second, Notice)
    assert (first.body, first.audience, first.revisions) == (
        "请各支部于 7 月 20 日前开展主题党日活动，并报送活动记录。", ALL_MEMBERS, 1)
    assert (second.title, second.body, second.audience) == ("关于缴纳党费的通知", "请于 7 月 31 日前缴纳党费。", ALL_MEMBERS)

    second.amend(body="请于 8 月 5 日前缴纳党费（延期）。")
    third = Notice(number="2019-003", title="关于召开组织生活会的通知", body="定于下周召开。", audience="支部委员")
    app.save(second, third)
    from adapters.store.tree import load_or_create_signer
    load_or_create_signer()  # this test's key (a log from before keys were declared: verified with --key)
    app.recorder.make_checkpoint("after v2 events")
    new = list(LogReader(engine).read(after=stored[-1].position))
    assert [orjson.loads(orjson.dumps(e.raw)).get("class_version") for e in new] == [2, 2]
    assert "body" in new[0].raw and "text" not in new[0].raw

    fresh = make_app()  # no cached aggregates: replay the mixed log from the store
    again = fresh.repository.get(second.id)
    assert (again.body, again.audience, again.revisions) == ("请于 8 月 5 日前缴纳党费（延期）。", ALL_MEMBERS, 1)
    assert fresh.repository.get(third.id).audience == "支部委员"
    keys.append(app.recorder.signer().verifier_key)  # the new checkpoint is signed by this test's key
    report = verify_ledger(engine, keys, event_modules=("tests.evolution_notice",))
    assert report.ok and (report.events, report.checkpoints) == (5, 2), report.problems

    # The guarantee rests on the upcasters: switched off, the old events no longer replay.
    declared = next(k for k in Notice.Posted.__mro__ if "upcast_v1_v2" in vars(k))  # the class body's
    monkeypatch.delattr(declared, "upcast_v1_v2")
    with pytest.raises(AttributeError, match="upcast_v1_v2"):
        make_app().repository.get(first.id)
    monkeypatch.setattr(Notice.Posted, "class_version", 1)
    with pytest.raises(TypeError, match="body"):
        make_app().repository.get(first.id)
