"""Issue 14, items 8 and 9, on SQLite and PostgreSQL (FastAPI's test client, in-process):
a branch secretary reads the answer to their own appeal (the decision, the correction it
caused and their receipts; web and HTTP API) and never another branch's events; web log-in
throttling by account and by client address with growing delays, never a hard lock, the
same answers for unknown and known users, on an injected clock (no sleeping)."""
from __future__ import annotations

import re
import warnings
from typing import Any, Iterator

import pytest

from adapters.http import create_app
from adapters.proofs import verify_bundle
from domain.application import Ledger
from tests.helpers import events
from tests.test_web import csrf_of, flash_of, login
from tests.web_fixture import PASSWORD, prepare


@pytest.fixture
def web(app: Ledger, db_url: str) -> Iterator[Any]:
    ids = prepare(app)
    with warnings.catch_warnings():  # starlette's test client announces an httpx successor
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    site = create_app(db_url)

    def client(user: str | None = None, address: str = "testclient") -> Any:
        c = TestClient(site, base_url="http://127.0.0.1", client=(address, 50000))
        if user is not None:
            response = login(c, user)
            assert response.status_code == 303, response.text
        return c
    site.state.client = client
    site.state.ids = ids
    yield site
    site.state.service.close()


def bearer(app: Ledger, user: str) -> dict[str, str]:
    issued = app.command("issue_token", as_user="admin", user=user, actor="admin")
    return {"Authorization": f"Bearer {issued['token']}"}


# -- item 8: the answer to one's own appeal ---------------------------------------------------------
def test_secretary_reads_the_decision_on_their_appeal_and_its_receipts(app: Ledger, web: Any) -> None:
    entry = web.state.ids["w/09/A"]
    api = web.state.client(None)
    sec_a, sec_b, committee = (bearer(app, u) for u in ("sec-a", "sec-b", "committee"))
    filed = api.post("/commands/file_appeal", headers=sec_a,
                     json={"entry_id": entry, "branch": "A", "reason": "支委会已于9月5日召开，记录附后"})
    assert filed.status_code == 201, filed.text
    decided = api.post("/commands/decide_appeal", headers=committee,
                       json={"appeal_id": filed.json()["result"], "decision": "upheld", "points": "0",
                             "reason": "记录属实"})
    assert decided.status_code == 201, decided.text
    log = events(app)
    positions = {name: next(e.position for e in reversed(log) if e.name == name)
                 for name in ("EntryAppeals.Filed", "EntryAppeals.Decided", "AssessmentMonth.EntryCorrected")}
    key = app.recorder.signer().verifier_key  # type: ignore[attr-defined]

    # HTTP API: the filer's secretary reads each event's proof and gets a receipt for each.
    for name, position in positions.items():
        proof = api.get(f"/proofs/{position}", headers=sec_a)
        assert proof.status_code == 200, (name, proof.text)
        receipt = api.post(f"/receipts/{position}", headers=sec_a)
        assert receipt.status_code == 200, (name, receipt.text)
        assert verify_bundle(receipt.json(), key).startswith("成立")
        # Another branch's secretary: refused, with the reason.
        for refused in (api.get(f"/proofs/{position}", headers=sec_b), api.post(f"/receipts/{position}", headers=sec_b)):
            assert refused.status_code == 403 and "无权查看该事件" in refused.text, (name, refused.text)

    # Web: the branch page's decision receipt button, the event pages the explanation links to.
    a = web.state.client("sec-a")
    branch = a.get("/web/branch/A?month=2019-09").text
    decided_at = positions["EntryAppeals.Decided"]
    assert f'action="/web/receipt/{decided_at}"' in branch and "receipt-decided" in branch
    explained = a.get("/web/explain/month/2019-09?branch=A")
    assert explained.status_code == 200, explained.text
    for position in positions.values():
        assert f'href="/web/event/{position}"' in explained.text
        page = a.get(f"/web/event/{position}")
        assert page.status_code == 200, page.text
        receipt = a.post(f"/web/receipt/{position}", data={"csrf": csrf_of(branch)})
        assert receipt.status_code == 200 and receipt.headers["content-disposition"].startswith("attachment")
        assert verify_bundle(receipt.json(), key).startswith("成立")
    b = web.state.client("sec-b")
    csrf_b = csrf_of(b.get("/web/").text)
    for position in positions.values():
        assert b.get(f"/web/event/{position}").status_code == 403
        refused = b.post(f"/web/receipt/{position}", data={"csrf": csrf_b})  # back to the page, with the reason
        assert "content-disposition" not in refused.headers
        assert "error:未能完成：无权查看该事件" in flash_of(refused.text)
