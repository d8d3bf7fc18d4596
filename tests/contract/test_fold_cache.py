"""The per-process cache of member-level folds (adapters/store/replay.FoldCache): a read of
the log as it stands answers what a fresh fold of the whole log answers, after writes too;
a fold handed out is never changed afterwards (a new one is caught up from a copy)."""
from __future__ import annotations

from adapters.bootstrap import engine_of
from adapters.diffs import year_diff_now
from adapters.http.reads import history_may_show, history_rows
from adapters.store.logreader import LogReader
from adapters.store.replay import FoldCache, copy_of, outside_topics
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


def points(app: Ledger, branch: str, n: int) -> None:
    secretary = {"A": ("sec-a", "A-M02", "A书记"), "B": ("sec-b", "B-M01", "B书记")}[branch]
    app.command("record_member_points", as_user=secretary[0], branch=branch, person=secretary[1], month="2019-10",
                item="assigned_tasks", points=str(n), reason="完成宣讲任务", actor=secretary[2])


def test_a_copied_fold_is_the_fold_and_independent(app: Ledger) -> None:
    prepare_roles(app)
    engine = engine_of(app)
    original = fresh(engine, MemberPointsModel())
    copied = copy_of(original)
    assert copied is not original and members_json(copied, "2019", "A") == members_json(original, "2019", "A")
    before = members_json(original, "2019", "A")
    points(app, "A", 2)
    copied.apply_all(LogReader(engine).read(after=copied.position, topic_suffixes=copied.topic_filter()))
    assert members_json(copied, "2019", "A") == members_json(fresh(engine, MemberPointsModel()), "2019", "A")
    assert members_json(original, "2019", "A") == before != members_json(copied, "2019", "A")


def test_a_lasting_read_is_kept_only_while_the_new_events_cannot_change_it(app: Ledger) -> None:
    """A branch's history kept across writes of another branch equals the history read
    fresh, and so after any write."""
    prepare_roles(app)
    engine = engine_of(app)
    cache = FoldCache(engine)
    calls: list[int] = []

    def history_of_a() -> list[dict[str, object]]:
        calls.append(1)
        return history_rows(engine, "A")
    lasts = lambda e: not history_may_show(e, "A")  # noqa: E731 - as reads_assessment.history passes it
    first = cache.derived(("history", "A"), history_of_a, lasts)
    points(app, "B", 1)  # another branch's: the history of A stands
    kept = cache.derived(("history", "A"), history_of_a, lasts)
    assert kept is first and len(calls) == 1 and kept == history_rows(engine, "A")
    assert cache.derived(("history", "A"), history_of_a, lasts) is first and len(calls) == 1  # now kept for the new head
    points(app, "A", 1)  # a member's points name no branch (the history lists none): kept, and still the fresh one
    assert cache.derived(("history", "A"), history_of_a, lasts) == history_rows(engine, "A")
    app.command("link_employee", as_user="sec-a", key="t/link/2", branch="A", member="A-M02", employee="A-E02",
                actor="A书记", **{"from": "2019-10"})  # kept or read again: the fresh history either way
    assert cache.derived(("history", "A"), history_of_a, lasts) == history_rows(engine, "A")


def test_the_year_diff_kept_across_a_member_write_is_the_fresh_one(app: Ledger) -> None:
    """The web's year page after a member-points write: the diff kept (no event of what it
    reads was appended) equals the diff of the whole log read fresh."""
    from projections.model import AssessmentModel
    prepare_roles(app)
    engine = engine_of(app)
    cache = FoldCache(engine)
    lasts = outside_topics(*AssessmentModel.TOPICS, "EntryAppeals")
    model = AssessmentModel().apply_all(LogReader(engine).read())
    year = next((y for y, v in model.years.items() if v.get("approval")), None)
    if year is None:  # the fixture approves no year: compare a whole-model read instead
        def shown() -> object:
            fold = AssessmentModel().apply_all(LogReader(engine).read(topic_suffixes=AssessmentModel.topic_filter()))
            return sorted(fold.months)
    else:
        def shown() -> object:
            return year_diff_now(engine, year, None)
    first = cache.derived(("read",), shown, lasts)
    points(app, "A", 1)
    assert cache.derived(("read",), shown, lasts) is first
    assert first == shown()
