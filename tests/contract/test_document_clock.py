"""The two clocks (issue 17.1): ``--as-of`` replays what the ledger had recorded by a
moment, ``--documented-by`` what the documents said by a date. A late migration of a
correction dated before the quarter's approval makes them disagree, and both are right."""
from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.bootstrap import engine_of, migration_user
from adapters.cli.main import main
from adapters.store.replay import model_at, stamp
from domain.asof import AsOf, replay_point
from domain.errors import InvalidInput
from projections.views import month_json, quarter_json
from tests.helpers import events


def _migrate_quarter(app: Any) -> str:
    """2019Q3 of branches A (full-time) and B (part-time), as documents dated on paper:
    B −4.00 in July (inspected 07-10), A −1.00 in August; months approved the 5th of the
    next month, the quarter on 10-10. A bonus for A in September has no document date.
    Returns the id of B's July entry."""
    def on(day: str, **fields: Any) -> dict[str, Any]:
        return {**fields, "occurred_at": day}
    app.register_branch(**on("2019-01-02", code="A", name="A支部", members=20))
    app.register_branch(**on("2019-01-02", code="B", name="B支部", members=20))
    app.appoint_secretary(**on("2019-01-02", branch="A", name="甲", mode="full_time", from_month="2019-01", actor="r"))
    app.appoint_secretary(**on("2019-01-02", branch="B", name="乙", mode="part_time", allowance="800",
                               from_month="2019-01", actor="r"))
    entry = app.record_score(**on("2019-07-10", branch="B", period="2019-07", category="political", points="-4",
                                  reason="缺课", department="party_mass", actor="scorer"))
    app.record_score(**on("2019-08-12", branch="A", period="2019-08", category="political", points="-1",
                          reason="记录不全", department="party_mass", actor="scorer"))
    app.record_score(branch="A", period="2019-09", category="bonus", points="1", reason="表彰",
                     department="party_mass", actor="scorer")  # migrated, no document date
    for month, submitted, approved in (("2019-07", "2019-08-03", "2019-08-05"), ("2019-08", "2019-09-03", "2019-09-05"),
                                       ("2019-09", "2019-10-03", "2019-10-05")):
        app.submit_month(**on(submitted, period=month, actor="aggregator"))
        app.approve_month(**on(approved, period=month, actor="approver"))
    app.approve_quarter(**on("2019-10-10", period="2019Q3", actor="approver"))
    return str(entry)


@pytest.fixture
def two_clocks(make_app: Any) -> tuple[Any, int]:
    """The migrated quarter, then (later in the log) the correction of B's July entry to 0,
    decided on paper on 2019-10-08: after July's approval, before the quarter's. Returns the
    ledger and the log time between the two migrations."""
    app = make_app()
    app.default_user = migration_user(app, documented_at="2019-01-02")
    entry = _migrate_quarter(app)
    between = events(app)[-1].recorded_at_us
    app.correct_entry(entry_id=entry, points="0", reason="整改单属实", actor="公司党委会", occurred_at="2019-10-08")
    return app, between


def _scores(data: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {b["branch"]: (b["score"], bool(b.get("changed_since_approval"))) for b in data["branches"]}


def test_the_clocks_disagree_on_a_late_migrated_correction_and_both_are_right(two_clocks) -> None:
    app, between = two_clocks
    engine = engine_of(app)

    def quarter(point: AsOf | None) -> dict[str, Any]:
        model = model_at(engine, None, point)
        return stamp(quarter_json(model, "2019Q3"), model, point)

    # The log clock: before the late migration the approved quarter stood as approved (B 98.67
    # with July's −4); now the correction counts and B's row says it changed since the approval.
    known = quarter(AsOf("between", between))
    assert known["status"] == "approved" and _scores(known)["B"] == ("98.67", False)
    now = quarter(None)
    assert now["status"] == "approved" and _scores(now)["B"] == ("100.00", True)
    # The document clock: on 10-09 the correction (10-08) was decided and the quarter (10-10)
    # not yet approved — B's quarter is 100.00 and nothing is flagged; from 10-10 the approval
    # is on paper, and B's row says the approval did not count a correction dated before it.
    on_0909 = quarter(replay_point(None, "2019-10-09"))
    assert on_0909["status"] == "draft" and _scores(on_0909)["B"] == ("100.00", False)
    on_1010 = quarter(replay_point(None, "2019-10-10"))
    assert on_1010["status"] == "approved" and _scores(on_1010)["B"] == ("100.00", True)
    # A's September bonus has no document date: counted on the log clock, said on the other.
    assert _scores(now)["A"][0] == "100.00"  # (100 + 99 + 101 capped at 100) / 3
    assert on_1010["document_clock"]["unplaced"] == 1 and on_1010["documented_by"] == "2019-10-10"
    assert _scores(on_1010)["A"][0] == "99.67"  # (100 + 99 + 100) / 3 without the undated bonus
    # Before July's approval on paper (08-05) July was a draft with B's −4 (inspected 07-10).
    july = month_json(model_at(engine, ["month:2019-07"], replay_point(None, "2019-08-01")), "2019-07")
    assert july["status"] == "draft" and {b["branch"]: b["score"] for b in july["branches"]}["B"] == "96.00"
    # The log clock at the same date knows nothing yet: all of it was recorded in 2026.
    with pytest.raises(Exception, match="考核细则"):
        quarter_json(model_at(engine, None, replay_point("2019-10-10")), "2019Q3")


def test_every_surface_asks_either_clock(two_clocks, db_url) -> None:
    app, _ = two_clocks
    env = {"LEDGER_DATABASE_URL": db_url}
    run = CliRunner().invoke
    out = run(main, ["quarter", "show", "2019Q3", "--documented-by", "2019-10-09", "--json"], env=env)
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert shown["documented_by"] == "2019-10-09" and shown["as_of"] is None and shown["status"] == "draft"
    text = run(main, ["quarter", "show", "2019Q3", "--documented-by", "2019-10-09"], env=env).output
    assert "按单据日期截至 2019-10-09" in text and "1 个迁移事件没有原始单据日期" in text
    explained = json.loads(run(main, ["explain", "month", "2019-07", "--branch", "B", "--documented-by", "2019-10-09",
                                      "--json"], env=env).output)
    assert explained["score"] == "100.00" and [e["counted_points"] for e in explained["entries"]] == ["0.00"]
    before = json.loads(run(main, ["explain", "month", "2019-07", "--branch", "B", "--documented-by", "2019-10-07",
                                   "--json"], env=env).output)
    assert before["score"] == "96.00" and [e["counted_points"] for e in before["entries"]] == ["-4.00"]
    diff = json.loads(run(main, ["quarter", "diff", "2019Q3", "--documented-by", "2019-10-10", "--json"], env=env).output)
    b = next(r for r in diff["branches"] if r["branch"] == "B")
    assert b["changed"] and [c["event"] for c in b["causes"]] == ["EntryCorrected"]
    refused = run(main, ["quarter", "diff", "2019Q3", "--documented-by", "2019-10-09"], env=env)
    assert refused.exit_code == 1 and "尚未审批" in refused.output
    both = run(main, ["month", "show", "2019-07", "--documented-by", "2019-10-09", "--as-of", "2019-10-09"], env=env)
    assert both.exit_code == 1 and "只能择一" in both.output

    from adapters.http.app import create_app
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    app.command("create_user", as_user="admin", user="auditor", name="纪检", actor="admin")
    app.command("grant_role", as_user="admin", user="auditor", role="auditor", actor="admin")
    issued = app.command("issue_token", as_user="admin", user="auditor", actor="admin")
    client = TestClient(create_app(db_url), base_url="http://127.0.0.1")
    head = {"Authorization": f"Bearer {issued['token']}"}
    got = client.get("/quarter/2019Q3", params={"documented_by": "2019-10-09"}, headers=head)
    assert got.status_code == 200, got.text
    assert _scores(got.json())["B"] == ("100.00", False) and got.json()["document_clock"]["unplaced"] == 1
    assert client.get("/quarter/2019Q3", params={"documented_by": "x"}, headers=head).status_code in (400, 422)
    whatif = client.get("/quarter/2019Q3/whatif", params={"documented_by": "2019-10-09", "without": "1"}, headers=head)
    assert whatif.status_code == 200 and whatif.json()["documented_by"] == "2019-10-09"

    from tests.web_fixture import login, set_passwords
    set_passwords(app, ["auditor"])
    browser = TestClient(create_app(db_url), base_url="http://127.0.0.1")
    assert login(browser, "auditor").status_code == 303
    page = browser.get("/web/quarter/2019Q3", params={"documented_by": "2019-10-09"})
    assert page.status_code == 200 and "按单据日期截至 2019-10-09" in page.text
    assert "documented_by=2019-10-09" in page.text  # its links ask the explanations for the same replay
    explained = browser.get("/web/explain/month/2019-07", params={"branch": "B", "documented_by": "2019-10-07"})
    assert explained.status_code == 200 and "按单据日期截至 2019-10-07" in explained.text and "96.00" in explained.text
    assert browser.get("/web/month/2019-07", params={"documented_by": "2019-10-07", "as_of": "2019-10-07"}
                       ).status_code == 422  # InvalidInput, as every refused input


def test_init_dates_the_setting_up_only_when_asked(make_app) -> None:
    app = make_app()
    with pytest.raises(InvalidInput) as refused:
        migration_user(app, documented_at="2019/01/02")
    assert refused.value.field == "documented_at"
    migration_user(app, documented_at="2019-01-02")
    dated = [e for e in events(app) if e.name == "Organization.RulebookAdopted"]
    assert dated and all(e.raw.get("occurred_at") == "2019-01-02" for e in dated)
