"""The quarter rankings the maintained view stores beside its sections (projections/views.py
``SHOWN``): while the view is current, ``quarter show`` (CLI and HTTP) prints the stored one;
it is always what ``quarter_json`` computes from the sections at the view's position — after
entries, approvals, a new branch (the organization changes every quarter's inputs) and a
rebuild. ``ledger verify`` compares each with the refold (tests/contract/test_tamper.py)."""
from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.cli.main import main
from adapters.store.fastview import current_shown
from adapters.store.logreader import LogReader
from adapters.store.views import MaintainedView
from domain.service.application import Ledger
from projections.model import AssessmentModel
from projections.views import SHOWN, quarter_json, shown_names
from tests.helpers import approve, company, deduct


def computed(engine: Any, period: str) -> dict[str, Any]:
    """``quarter_json`` of a fresh fold of the whole log (no view involved)."""
    model = AssessmentModel().apply_all(LogReader(engine).read())
    return json.loads(json.dumps(quarter_json(model, period)))


def stored(engine: Any, period: str) -> dict[str, Any] | None:
    view = MaintainedView(engine)
    view.model()  # caught up, as any read does
    found = view.shown_quarter(period)
    assert found is None or found[1] == LogReader(engine).last_position()
    return None if found is None else found[0]


def test_the_stored_ranking_follows_every_input(app: Ledger, db_url: str, monkeypatch: Any) -> None:
    engine = engine_of(app)
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", "full_time", None))
    deduct(app, "A", "2019-07", "-1")
    assert stored(engine, "2019Q3") == computed(engine, "2019Q3")  # a draft quarter, one month folded
    for m in ("2019-07", "2019-08", "2019-09"):
        deduct(app, "B", m, "-2.5", "conduct", "discipline_inspection")
    first = stored(engine, "2019Q3")
    assert first == computed(engine, "2019Q3")
    approve(app, "2019-07", "2019-08", "2019-09")
    app.approve_quarter(period="2019Q3", actor="appr")
    approved = stored(engine, "2019Q3")
    assert approved == computed(engine, "2019Q3") and approved != first and approved["status"] == "approved"
    app.command("register_branch", code="D", name="新支部", members=12, actor="admin")  # the organization moved
    assert stored(engine, "2019Q3") == computed(engine, "2019Q3")
    deduct(app, "A", "2019-10", "-1")
    assert stored(engine, "2019Q4") == computed(engine, "2019Q4")
    assert stored(engine, "2019Q3") == computed(engine, "2019Q3")
    rebuilt = MaintainedView(engine).rebuild()
    assert shown_names(rebuilt) == {SHOWN + "2019Q3", SHOWN + "2019Q4"}
    assert stored(engine, "2019Q3") == computed(engine, "2019Q3")

    # the CLI prints the stored ranking (read over the bare driver), stamped as before
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_url)
    assert current_shown(db_url, "2019Q3") is not None
    out = CliRunner().invoke(main, ["quarter", "show", "2019Q3", "--json"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert shown == {**computed(engine, "2019Q3"), "as_of": None, "position": LogReader(engine).last_position()}


def test_a_quarter_with_nothing_folded_stores_no_ranking(app: Ledger) -> None:
    """No month of the quarter folded, no approval: no stored ranking (the read computes it)."""
    engine = engine_of(app)
    company(app, ("A", "full_time", None))
    deduct(app, "A", "2019-07", "-1")
    view = MaintainedView(engine)
    view.model()
    assert view.shown_quarter("2019Q3") is not None and view.shown_quarter("2019Q4") is None
