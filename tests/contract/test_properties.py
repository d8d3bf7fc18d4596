"""Property tests: the fold does not depend on how branches' entries interleave, and the
maintained (incremental) view equals a full fold."""
from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import close, engine_of, make_ledger
from adapters.store.views import MaintainedView
from domain.integrity.log import LoggedEvent
from projections.model import AssessmentModel
from projections.views import approval_provenance, month_json, quarter_json, quarter_rulebook, quarter_view
from tests.helpers import approve, company, deduct, events, with_users

MONTHS = ("2019-07", "2019-08", "2019-09")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[LoggedEvent]:
    """A real event stream (SQLite): four branches, a quarter of mixed entries, approved."""
    url = f"sqlite:///{tmp_path_factory.mktemp('prop') / 'l.sqlite3'}"
    app = make_ledger(url)
    with_users(app)
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", None, None), ("D", "full_time", None))
    rng = random.Random(7)
    for m in MONTHS:
        for _ in range(24):
            branch = rng.choice("ABCD")
            if rng.random() < 0.15:
                app.record_score(branch=branch, period=m, category="bonus", points=rng.choice(["1", "2.5"]),
                                 reason="加分", department="party_mass", actor="s")
            else:
                category, department = rng.choice([("political", "party_mass"), ("daily", "office")])
                deduct(app, branch, m, rng.choice(["-0.5", "-1", "-3.25"]), category, department)
        if m != MONTHS[-1]:
            approve(app, m)
    stream = events(app)
    close(app)
    return stream


def interleave(stream: list[LoggedEvent], rng: random.Random) -> list[LoggedEvent]:
    """Reorder each run of consecutive entries across branches, keeping each branch's own order,
    then renumber positions."""
    out: list[LoggedEvent] = []
    run: list[LoggedEvent] = []

    def flush() -> None:
        queues: dict[str, list[LoggedEvent]] = {}
        for e in run:
            queues.setdefault(e.data["branch"], []).append(e)
        while queues:
            branch = rng.choice(sorted(queues))
            out.append(queues[branch].pop(0))
            if not queues[branch]:
                del queues[branch]
        run.clear()

    for e in stream:
        if e.name == "AssessmentMonth.ScoreRecorded":
            run.append(e)
        else:
            flush()
            out.append(e)
    flush()
    return [e.at_position(i + 1) for i, e in enumerate(out)]


def views(model: AssessmentModel) -> list[Any]:
    return [month_json(model, m) for m in MONTHS] + [quarter_json(model, "2019Q3")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_projection_of_a_stream_shuffled_by_branch_equals_the_original(recorded: list[LoggedEvent], seed: int) -> None:
    shuffled = interleave(recorded, random.Random(seed))
    assert [e.name for e in shuffled].count("AssessmentMonth.ScoreRecorded") == 72
    assert views(AssessmentModel().apply_all(shuffled)) == views(AssessmentModel().apply_all(recorded))


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=200), max_size=8))
def test_folding_in_chunks_through_sections_equals_a_full_fold(recorded: list[LoggedEvent], cuts: list[int]) -> None:
    """Save sections and reload them at arbitrary cut points (what the maintained view does)."""
    full = AssessmentModel().apply_all(recorded)
    model, done = AssessmentModel(), 0
    for cut in sorted(set(c for c in cuts if c < len(recorded))) + [len(recorded)]:
        model.apply_all(recorded[done:cut])
        done = cut
        reloaded = AssessmentModel()
        for name in ["org", *(f"month:{m}" for m in model.months), *(f"quarter:{q}" for q in model.quarters)]:
            reloaded.load_section(name, _roundtrip(model.section(name)))
        reloaded.position = model.position
        model = reloaded
    assert views(model) == views(full)


def _roundtrip(value: Any) -> Any:
    import orjson
    return orjson.loads(orjson.dumps(value))


def test_maintained_view_catches_up_and_equals_a_rebuild(make_app) -> None:
    app = make_app()
    with_users(app)
    view = MaintainedView(engine_of(app))
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    for i, m in enumerate(MONTHS):
        deduct(app, "A", m, "-1")
        assert month_json(view.model(), m)["branches"][0]["score"] == "99.00"
        deduct(app, "B", m, f"-{i + 1}")
        approve(app, m)
    app.approve_quarter(period="2019Q3", actor="appr")
    partial = view.model([f"month:{m}" for m in MONTHS] + ["quarter:2019Q3"])
    assert view.position() == partial.position == max(e.position for e in events(app))
    rebuilt = MaintainedView(engine_of(app)).rebuild()
    assert quarter_json(partial, "2019Q3") == quarter_json(rebuilt, "2019Q3")
    assert views(view.model()) == views(rebuilt) == views(AssessmentModel().apply_all(events(app)))


def _rendered_quarter_view(model: AssessmentModel, period: str) -> dict[str, Any]:
    """quarter_json as it was computed before the cents path: quarter_view's Decimal rows rendered."""
    status, rows = quarter_view(model, period)
    out: list[dict[str, Any]] = [
        {"branch": r.branch, "name": model.branches[r.branch]["name"],
         "months": {m: str(s) for m, s in r.months.items()}, "score": str(r.score),
         "rank": r.rank, "award": str(r.award), "fine": str(r.fine),
         "mode": r.secretary.mode if r.secretary else None,
         "secretary": r.secretary.name if r.secretary else None, "notes": list(r.notes)} for r in rows]
    approval = model.quarters.get(period)
    if approval is not None:
        approved = {r["branch"]: (r["score"], r["rank"], r["award"], r["fine"]) for r in approval["ranking"]}
        for row in out:
            row["changed_since_approval"] = approved.get(row["branch"]) != (row["score"], row["rank"], row["award"], row["fine"])
    return {"period": period, "status": status, "rulebook_version": quarter_rulebook(model, period).version,
            "branches": out, "approval": approval_provenance(approval)}


def test_quarter_json_in_cents_equals_the_decimal_quarter_view_at_every_position(make_app) -> None:
    """The cents hot path (monthly_cents, mean_cents, placings over cents) renders exactly the
    Decimal rows of quarter_view: for a draft quarter at every prefix of the log, then approved
    (frozen secretaries), then with a correction after the approval (changed_since_approval)."""
    app = make_app()
    with_users(app)
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", None, None), ("D", "full_time", None))
    rng = random.Random(11)
    first = deduct(app, "A", "2019-07", "-2.33", "daily", "office")
    for m in MONTHS:
        for _ in range(10):
            deduct(app, rng.choice("ABCD"), m, rng.choice(["-0.5", "-1", "-3.25", "-0.01"]), "political", "party_mass")
        approve(app, m)
    app.approve_quarter(period="2019Q3", actor="appr")
    app.correct_entry(entry_id=str(first), points="-1", reason="r", actor="committee")
    stream = events(app)
    checked = 0
    for cut in range(len(stream) // 2, len(stream) + 1):
        model = AssessmentModel().apply_all(stream[:cut])
        if not model.org["rulebooks"]:
            continue
        assert quarter_json(model, "2019Q3") == _rendered_quarter_view(model, "2019Q3")
        checked += 1
    final = quarter_json(AssessmentModel().apply_all(stream), "2019Q3")
    assert final["status"] == "approved" and any(r["changed_since_approval"] for r in final["branches"])
    assert checked > 10
