"""As-of replay: the ledger as it was known at a moment, by the recording clock."""
from __future__ import annotations

import random

import pytest

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.asof import parse_as_of
from domain.errors import InvalidInput
from projections.model import AssessmentModel
from projections.views import month_json, quarter_json
from tests.helpers import approve, company, deduct, events


def test_as_of_parsing() -> None:
    assert parse_as_of("1970-01-01T00:00:01Z") == 1_000_000
    assert parse_as_of("1970-01-01T08:00:00+08:00") == 0
    assert parse_as_of("1970-01-01") == 16 * 3600 * 1_000_000 - 1  # end of the day in Shanghai
    for bad in ("2019-07-01T00:00:00", "yesterday", "2019-13-01"):
        with pytest.raises(InvalidInput):
            parse_as_of(bad)


def as_of(app, moment_us: int) -> AssessmentModel:
    reader = LogReader(engine_of(app))
    return AssessmentModel().apply_all(reader.read(upto=reader.position_recorded_by(moment_us)))


def test_as_of_equals_the_log_up_to_then_and_the_approval_moment_equals_the_approval(app) -> None:
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", "full_time", None))
    for m in ("2019-07", "2019-08", "2019-09"):
        deduct(app, "B", m, "-1")
    deduct(app, "C", "2019-07", "-3")
    approve(app, "2019-07", "2019-08", "2019-09")
    app.approve_quarter(period="2019Q3", actor="appr")
    deduct(app, "A", "2019-10", "-4")
    log = events(app)
    approval = next(e for e in log if e.name == "AssessmentQuarter.Approved")
    at_approval = quarter_json(as_of(app, approval.recorded_at_us), "2019Q3")
    assert at_approval["status"] == "approved"
    recorded = [(r["branch"], str(r["score"]), r["rank"], str(r["award"]), str(r["fine"]))
                for r in approval.data["ranking"]]
    assert [(b["branch"], b["score"], b["rank"], b["award"], b["fine"]) for b in at_approval["branches"]] == recorded
    rng = random.Random(3)
    for _ in range(15):  # property: as-of a random moment = the fold of what was recorded by then
        cut = rng.choice(log)
        moment = cut.recorded_at_us + rng.choice([-1, 0, 1])
        expected = AssessmentModel().apply_all(e for e in log if e.recorded_at_us <= moment)
        got = as_of(app, moment)
        assert got.position == expected.position
        for m in ("2019-07", "2019-10"):
            if got.org["rulebooks"]:
                assert month_json(got, m) == month_json(expected, m)
    before = as_of(app, log[0].recorded_at_us - 1)
    assert before.position == 0 and not before.branches


def test_explain_month_and_quarter_and_as_of_through_the_cli(app, db_url) -> None:
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    deduct(app, "A", "2019-07", "-9")
    deduct(app, "A", "2019-07", "-8")  # political carries 15: this one counts 6
    app.record_score(branch="A", period="2019-07", category="bonus", points="4", reason="表彰",
                     department="party_mass", actor="s")
    app.record_score(branch="A", period="2019-07", category="bonus", points="3", reason="表彰",
                     department="party_mass", actor="s")  # bonus cap 5: counts 1
    approve(app, "2019-07", "2019-08", "2019-09")
    app.approve_quarter(period="2019Q3", actor="appr")
    env = {"LEDGER_DATABASE_URL": db_url}
    run = CliRunner().invoke
    out = json.loads(run(main, ["explain", "quarter", "2019Q3", "--branch", "A", "--json"], env=env).output)
    assert (out["score"], out["rank"], out["fine"], out["rulebook"]["version"]) == ("96.67", 2, "2000.00", 1)
    july = out["months"][0]
    assert july["score"] == "90.00"  # 100 − 9 − 6 + 4 + 1
    assert [(e["points"], e["counted_points"]) for e in july["entries"]] == [
        ("-9.00", "-9.00"), ("-8.00", "-6.00"), ("4.00", "4.00"), ("3.00", "1.00")]
    assert all({"entry_id", "position", "recorded_at", "reason", "actor"} <= set(e) for e in july["entries"])
    assert out["rules"][0]["rule"] == "quarter.last_place_below_threshold_fine"
    first = min(e.recorded_at_us for e in events(app) if e.name == "AssessmentMonth.ScoreRecorded")
    from datetime import datetime, timedelta, timezone
    moment = (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=first)).isoformat()
    early = json.loads(run(main, ["month", "show", "2019-07", "--as-of", moment, "--json"], env=env).output)
    assert early["status"] == "draft" and early["as_of"] == moment
    assert {b["branch"]: b["score"] for b in early["branches"]} == {"A": "91.00", "B": "100.00"}
    assert run(main, ["quarter", "show", "2019Q3", "--as-of", "2019-07-01T00:00:00"], env=env).exit_code != 0
    hist = json.loads(run(main, ["history", "--branch", "B", "--json"], env=env).output)["events"]
    assert hist[0]["event"] == "Organization.BranchRegistered"
    assert any(h["event"] == "AssessmentQuarter.Approved" for h in hist)


def test_every_quarter_of_the_demo_year_as_of_its_approval_equals_what_it_recorded(app) -> None:
    from scripts.demo import demo_lines
    app.import_batch(enumerate(demo_lines(), start=1))
    approvals = [e for e in events(app) if e.name == "AssessmentQuarter.Approved"]
    assert len(approvals) == 4
    for approval in approvals:
        period = approval.data["ranking"] and as_of(app, approval.recorded_at_us).names[approval.aggregate_id]
        shown = quarter_json(as_of(app, approval.recorded_at_us), period)
        assert shown["status"] == "approved" and shown["rulebook_version"] == approval.data["rulebook_version"]
        assert [(b["branch"], b["score"], b["rank"], b["award"], b["fine"]) for b in shown["branches"]] == [
            (r["branch"], str(r["score"]), r["rank"], str(r["award"]), str(r["fine"])) for r in approval.data["ranking"]]
        assert approval.data["proof"]["code_version"] and len(approval.data["proof"]["rulebook_hash"]) == 64
