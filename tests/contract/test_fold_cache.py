"""The per-process cache of member-level folds (adapters/store/replay.FoldCache): a read of
the log as it stands answers what a fresh fold of the whole log answers, after writes too;
a fold handed out is never changed afterwards (a new one is caught up from a copy)."""
from __future__ import annotations

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from adapters.store.replay import FoldCache
from domain.service.application import Ledger
from projections.meetings import MeetingsModel
from projections.member_points import MemberPointsModel, members_json
from tests.web_roles_fixture import prepare_roles


def fresh(engine, fold):  # type: ignore[no-untyped-def]
    return fold.apply_all(LogReader(engine).read(topic_suffixes=fold.topic_filter()))


def test_cached_folds_follow_the_log(app: Ledger) -> None:
    prepare_roles(app)
    engine = engine_of(app)
    cache = FoldCache(engine)
    first = cache.now(MemberPointsModel())
    shown = members_json(first, "2019", "A")
    assert shown == members_json(fresh(engine, MemberPointsModel()), "2019", "A")
    assert cache.now(MemberPointsModel()) is first  # the log did not move: the same fold
    app.command("record_member_points", as_user="sec-a", branch="A", person="A-M02", month="2019-10",
                item="assigned_tasks", points="3", reason="完成宣讲任务", actor="A书记")
    second = cache.now(MemberPointsModel())
    assert second is not first and second.position == LogReader(engine).last_position()
    assert members_json(second, "2019", "A") == members_json(fresh(engine, MemberPointsModel()), "2019", "A")
    assert members_json(second, "2019", "A") != shown  # the new points count
    assert members_json(first, "2019", "A") == shown  # the fold handed out before is unchanged
    assert cache.now(MeetingsModel()).position == fresh(engine, MeetingsModel()).position  # one entry per class


def test_derived_reads_are_kept_until_the_log_moves(app: Ledger) -> None:
    prepare_roles(app)
    cache = FoldCache(engine_of(app))
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return LogReader(engine_of(app)).last_position()
    head = cache.derived(("head",), count)
    assert cache.derived(("head",), count) == head and len(calls) == 1  # the log stood still: kept
    app.command("record_member_points", as_user="sec-a", branch="A", person="A-M02", month="2019-10",
                item="assigned_tasks", points="1", reason="完成宣讲任务", actor="A书记")
    assert cache.derived(("head",), count) == head + 1 and len(calls) == 2  # moved: computed again
