"""The HTTP API through a real server (``ledger serve`` in a subprocess on 127.0.0.1), per
backend: tokens, read scopes, status codes, idempotency, racing approvals, parallel writers.
PostgreSQL runs the server with two worker processes (races cross processes); SQLite with one.

One ledger and one server per backend for the whole module (starting a server is most of
what these tests cost). Each test still has data it can rely on, whatever runs before it:
its own year (2019 the story, 2020 the race, 2021 idempotency, 2022 the parallel writers,
2023 the month of the separation-of-duties check), its own tokens, and counts of events and
refusals taken from where the log stood when it began (tests run one at a time)."""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from adapters.bootstrap import close, make_ledger
from domain.service.application import Ledger
from tests.conftest import fresh_database, isolated_env
from tests.helpers import approve, company, deduct, events, with_users
from tests.server import Server

ROOT = Path(__file__).resolve().parents[2]
Q3 = ("2019-07", "2019-08", "2019-09")
USERS = {  # user → role granted by the admin (secretaries follow appointments)
    "scorer-pm": "scorer:party_mass", "scorer-off": "scorer:office", "approver": "approver",
    "committee": "committee", "auditor": "auditor",
}


@dataclass
class Shared:
    """The module's ledger (acting as migration), its database and the server over it."""

    ledger: Ledger
    url: str
    server: Server
    env: dict[str, str]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """Branches A and B (secretaries sec-a, sec-b), the users of ``USERS``, and ``ledger serve``
    over them, once per backend; keys and stores in the module's own directory."""
    directory = tmp_path_factory.mktemp(f"http-{request.param}")
    env = isolated_env(directory)
    with pytest.MonkeyPatch.context() as patch, fresh_database(request.param, directory) as url:
        for name, value in env.items():
            patch.setenv(name, value)
        app = make_ledger(url)
        try:
            populate(with_users(app))
            running = Server(url, directory / "server.log", workers=2 if url.startswith("postgresql") else 1)
            try:
                yield Shared(app, url, running, env)
            finally:
                running.stop()
        finally:
            close(app)


@pytest.fixture(autouse=True)
def shared_env(shared: Shared, signing_key: Path, keystore: Path, witness_store: Path,
               monkeypatch: pytest.MonkeyPatch) -> None:
    """During each test, the keys and stores of the module's ledger and server (not the test's own)."""
    for name, value in shared.env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def ledger(shared: Shared) -> Ledger:
    return shared.ledger


@pytest.fixture
def server(shared: Shared) -> Server:
    return shared.server


@pytest.fixture
def db_url(shared: Shared) -> str:
    """The module's database (this module's tests do not get a fresh one each)."""
    return shared.url


def since(app: Ledger, start: int) -> list[Any]:
    """The events recorded after the first ``start`` (what the running test wrote)."""
    return events(app)[start:]


def populate(app: Ledger) -> None:
    company(app, ("A", None, None), ("B", None, None))
    for branch in ("A", "B"):
        app.appoint_secretary(branch=branch, name=f"{branch}书记", user=f"sec-{branch.lower()}", mode="full_time",
                              **{"from": "2019-01"}, actor="registrar")
    for user, role in {**USERS, "sec-a": None, "sec-b": None}.items():
        app.command("create_user", as_user="admin", user=user, name=user, actor="admin")
        if role is not None:
            app.command("grant_role", as_user="admin", user=user, role=role, actor="admin")


def token(app: Ledger, user: str) -> dict[str, str]:
    issued = app.command("issue_token", as_user="admin", user=user, actor="admin")
    return {"Authorization": f"Bearer {issued['token']}", "token_id": issued["token_id"]}


def auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


def test_readme_story_scopes_and_status_codes(ledger: Ledger, server: Server) -> None:
    """A secretary files an appeal with a token, the committee decides it, an auditor reads the
    branch's history; the same secretary is refused on another branch (and it is logged)."""
    t = {u: token(ledger, u) for u in (*USERS, "sec-a", "admin")}
    prior = len(ledger.security_log.rows("sec-a"))  # type: ignore[attr-defined]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        def post(user: str, op: str, body: dict[str, Any], **headers: str) -> httpx.Response:
            return http.post(f"/commands/{op}", json=body, headers={**auth(t[user]), **headers})

        score = {"branch": "A", "period": "2019-07", "category": "political", "points": "-5",
                 "reason": "未按时召开支委会", "department": "party_mass"}
        created = post("scorer-pm", "record_score", score)
        assert created.status_code == 201, created.text
        entry_a = created.json()["result"]
        entry_b = post("scorer-pm", "record_score", {**score, "branch": "B"}).json()["result"]

        appeal = post("sec-a", "file_appeal", {"entry_id": entry_a, "branch": "A", "reason": "会议已召开，纪要附后"})
        assert appeal.status_code == 201, appeal.text
        decided = post("committee", "decide_appeal", {"appeal_id": appeal.json()["result"], "decision": "upheld",
                                                      "points": "0", "reason": "扣分依据不足"})
        assert decided.status_code == 201, decided.text
        history = http.get("/history", params={"branch": "A"}, headers=auth(t["auditor"]))
        assert history.status_code == 200
        names = [e["event"] for e in history.json()["events"]]
        assert {"EntryAppeals.Filed", "EntryAppeals.Decided", "AssessmentMonth.EntryCorrected"} <= set(names)
        assert all(e["detail"].get("branch") in ("A", None) for e in history.json()["events"])
        appeals = http.get("/appeals", headers=auth(t["sec-a"])).json()["appeals"]  # own branch by default
        assert [(a["branch"], a["status"], a["decision"]["points"]) for a in appeals] == [("A", "upheld", "0.00")]

        # The same secretary, another branch: refused (403), each refusal in the security log.
        refused = post("sec-a", "file_appeal", {"entry_id": entry_b, "branch": "B", "reason": "不是本支部"})
        assert refused.status_code == 403 and refused.json()["error"] == "PermissionDenied"
        for path, params in (("/history", {"branch": "B"}), ("/entries", {"period": "2019-07", "branch": "B"}),
                             ("/appeals", {"branch": "B"}), ("/explain/month/2019-07", {"branch": "B"})):
            response = http.get(path, params=params, headers=auth(t["sec-a"]))
            assert response.status_code == 403, (path, response.text)
            assert response.json()["field"] == "branch"
        assert [e["branch"] for e in http.get("/entries", params={"period": "2019-07"},
                                              headers=auth(t["sec-a"])).json()["entries"]] == ["A"]
        assert [b["branch"] for b in http.get("/month/2019-07", headers=auth(t["sec-a"])).json()["branches"]] == ["A"]
        log = http.get("/security-log", params={"user": "sec-a"}, headers=auth(t["auditor"])).json()["refusals"]
        assert len(log) == prior + 5 and {r["op"] for r in log[:5]} >= {"file_appeal", "GET /history"}  # newest first

        # Rankings are published to every role once approved; an admin reads only users and roles.
        approve(ledger, *Q3)
        ledger.approve_quarter(period="2019Q3", actor="approver")
        ranking = http.get("/quarter/2019Q3", headers=auth(t["sec-a"])).json()
        assert ranking["status"] == "approved" and [b["branch"] for b in ranking["branches"]] == ["A", "B"]
        assert http.get("/quarter/2019Q3", headers=auth(t["admin"])).status_code == 403
        users = http.get("/users", headers=auth(t["admin"])).json()["users"]
        assert {u["user"]: u["roles"] for u in users}["sec-a"] == ["secretary:A"]
        secret = t["sec-a"]["Authorization"].split()[1]
        assert secret not in str(users) and all(set(k) == {"token_id", "revoked"} for u in users for k in u["tokens"])
        assert http.get("/users", headers=auth(t["sec-a"])).status_code == 403

        # 401: no token, a wrong token, a revoked token.
        assert http.get("/history", params={"branch": "A"}).status_code == 401
        wrong = http.get("/history", params={"branch": "A"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
        assert post("admin", "revoke_token", {"token_id": t["auditor"]["token_id"]}).status_code == 201
        assert http.get("/history", params={"branch": "A"}, headers=auth(t["auditor"])).status_code == 401

        # 422 names the field; 404 for what does not exist; 409 for a state conflict.
        bad = post("scorer-pm", "record_score", {**score, "points": 1.234})
        assert bad.status_code == 422 and bad.json()["field"] == "points", bad.text
        assert post("scorer-pm", "record_score", {**score, "colour": "red"}).json()["field"] == "colour"
        as_of = http.get("/quarter/2019Q3", params={"as_of": "yesterday"}, headers=auth(t["sec-a"]))
        assert as_of.status_code == 422 and as_of.json()["field"] == "as_of"
        missing = post("sec-a", "file_appeal", {"entry_id": "00000000-0000-0000-0000-000000000000", "branch": "A",
                                                "reason": "x"})
        assert missing.status_code == 404 and missing.json()["error"] == "EntryNotFound"
        late = post("scorer-pm", "record_score", score)
        assert late.status_code == 409 and late.json()["error"] == "MonthNotOpenForEntries"


def test_idempotency_key_applies_a_retried_write_once(ledger: Ledger, server: Server) -> None:
    t = token(ledger, "scorer-pm")
    start = len(events(ledger))
    body = {"branch": "A", "period": "2021-08", "category": "political", "points": "-1.5", "reason": "r",
            "department": "party_mass"}
    with httpx.Client(base_url=server.url, timeout=30, headers=auth(t)) as http:
        first = http.post("/commands/record_score", json=body, headers={"Idempotency-Key": "req-1"})
        again = http.post("/commands/record_score", content=b'{"branch": "A", "period": "2021-08", '
                          b'"category": "political", "points": -1.50, "reason": "r", "department": "party_mass"}',
                          headers={"Idempotency-Key": "req-1"})  # same content (-1.50 = "-1.5"), retried
        other = http.post("/commands/record_score", json={**body, "points": "-2"}, headers={"Idempotency-Key": "req-1"})
        batch = "\n".join(['{"op": "record_score", "branch": "B", "period": "2021-08", "category": "political", '
                           '"points": "-1", "reason": "r", "department": "party_mass", "actor": "s"}'] * 2)
        imported = [http.post("/import", content=batch, headers={"Idempotency-Key": "batch-1"}) for _ in range(2)]
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json() == {**first.json(), "duplicate": True}
    assert other.json()["error"] == "DuplicateKey" and other.json()["field"] == "key"
    assert [(r.status_code, r.json()["appended"], r.json()["skipped"]) for r in imported] == [(201, 2, 0), (200, 0, 2)]
    recorded = [e for e in since(ledger, start) if e.name == "AssessmentMonth.ScoreRecorded"]
    assert [str(e.data["entry_id"]) for e in recorded].count(first.json()["result"]) == 1
    assert len(recorded) == 3


def test_racing_approvals_one_wins_the_other_gets_409(ledger: Ledger, server: Server) -> None:
    start = len(events(ledger))
    deduct(ledger, "A", "2020-07", "-1")
    approve(ledger, "2020-07", "2020-08", "2020-09")
    t = token(ledger, "approver")
    barrier, results = threading.Barrier(2), []

    def approve_quarter() -> None:
        with httpx.Client(base_url=server.url, timeout=30, headers=auth(t)) as http:
            barrier.wait()
            results.append(http.post("/commands/approve_quarter", json={"period": "2020Q3"}))
    threads = [threading.Thread(target=approve_quarter) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["error"] in ("QuarterAlreadyApproved", "ConcurrentWrite") and loser["reason"]
    assert sum(e.name == "AssessmentQuarter.Approved" for e in since(ledger, start)) == 1


def test_parallel_writers_every_acknowledged_write_is_in_the_log_once(ledger: Ledger, server: Server,
                                                                      db_url: str) -> None:
    """8 clients × N score entries (N = 200 on PostgreSQL, 40 on SQLite, whose writers queue on
    one file lock), each with an Idempotency-Key; every fifth is sent twice (a retry after a
    lost response), and a refused write (409, lost race) is retried with its key."""
    clients, per_client = 8, 200
    t = token(ledger, "scorer-off")
    start = len(events(ledger))
    acknowledged: dict[str, str] = {}  # key → entry id
    lock = threading.Lock()

    def write(client: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60, headers=auth(t)) as http:
            for i in range(per_client):
                key = f"c{client}-{i}"
                body = {"branch": "AB"[i % 2], "period": "2022-10", "category": "daily", "points": "-0.01",
                        "reason": f"并发 {key}", "department": "office"}
                for _ in range(2 if i % 5 == 0 else 1):
                    while True:
                        response = http.post("/commands/record_score", json=body, headers={"Idempotency-Key": key})
                        if response.status_code != 409:
                            break
                        assert response.json()["error"] == "ConcurrentWrite", response.text
                    assert response.status_code in (200, 201), response.text
                    with lock:
                        assert acknowledged.setdefault(key, response.json()["result"]) == response.json()["result"]
    started = time.monotonic()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - started
    recorded = Counter(str(e.data["entry_id"]) for e in since(ledger, start)
                       if e.name == "AssessmentMonth.ScoreRecorded")
    assert len(acknowledged) == clients * per_client
    assert all(recorded[entry] == 1 for entry in acknowledged.values())
    assert sum(recorded.values()) == clients * per_client
    print(f"{clients}×{per_client} writes in {elapsed:.1f} s")


def test_summaries_batches_separation_of_duties_and_docs(ledger: Ledger, server: Server) -> None:
    """Talk summaries: the branch secretary and the committee read the text, the auditor does
    not; a batch with a line the user may not send is refused whole (403); the same user
    submitting and approving a month is refused (403); OpenAPI at /docs."""
    start = len(events(ledger))
    ledger.command("enrol_member", person="A-M01", name="张三", branch="A", actor="registrar",
                   **{"class": "B", "from": "2019-01"})
    ledger.command("create_user", as_user="admin", user="clerk", name="clerk", actor="admin")
    for role in ("aggregator", "approver"):
        ledger.command("grant_role", as_user="admin", user="clerk", role=role, actor="admin")
    t = {u: token(ledger, u) for u in ("sec-a", "committee", "auditor", "clerk")}
    summary = "谈心谈话：工作压力已疏导"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        raised = http.post("/commands/raise_occasion", headers=auth(t["sec-a"]), json={
            "occasion": "work_setback", "person": "A-M01", "branch": "A", "date": "2019-07-01"})
        assert raised.status_code == 201, raised.text
        answered = http.post("/commands/answer_occasion", headers=auth(t["sec-a"]), json={
            "occasion_id": raised.json()["result"], "branch": "A", "conducted_by": "A书记", "date": "2019-07-03",
            "summary": summary})
        assert answered.status_code == 201, answered.text
        seen = {}
        for user in ("sec-a", "committee", "auditor"):
            response = http.get("/talks", params={"branch": "A", "today": "2019-07-31"}, headers=auth(t[user]))
            assert response.status_code == 200, response.text
            seen[user] = [(o["summary_state"], summary in response.text) for o in response.json()["occasions"]]
        assert seen == {"sec-a": [("shown", True)], "committee": [("shown", True)], "auditor": [("hidden", False)]}

        batch = [{"op": "raise_occasion", "occasion": "emotional", "person": "A-M01", "branch": b,
                  "date": "2019-07-05", "actor": "书记"} for b in ("A", "B")]
        refused = http.post("/import", json=batch, headers=auth(t["sec-a"]))
        assert refused.status_code == 403 and [e["line"] for e in refused.json()["errors"]] == [2], refused.text
        invalid = http.post("/import", content='{"op": "raise_occasion"}\nnot json', headers=auth(t["sec-a"]))
        assert invalid.status_code == 422 and [e["line"] for e in invalid.json()["errors"]] == [2]
        assert sum(e.name == "Occasion.Raised" for e in since(ledger, start)) == 1

        assert http.post("/commands/submit_month", json={"period": "2023-08"}, headers=auth(t["clerk"])).status_code == 201
        same = http.post("/commands/approve_month", json={"period": "2023-08"}, headers=auth(t["clerk"]))
        assert same.status_code == 403 and same.json()["error"] == "SeparationOfDuties", same.text

        assert http.get("/quarter/2019Q3/diff", headers=auth(t["sec-a"])).status_code == 403
        assert http.get("/verify", headers=auth(t["sec-a"])).status_code == 403
        assert http.get("/verify", headers=auth(t["auditor"])).json()["ok"] is True
        assert http.get("/docs").status_code == 200
        spec = http.get("/openapi.json").json()
        body = spec["paths"]["/commands/file_appeal"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert {"entry_id", "branch", "reason"} <= set(body["properties"]) and "actor" not in body["required"]
