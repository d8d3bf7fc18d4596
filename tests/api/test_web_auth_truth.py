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

from adapters.credentials import ACCOUNT, ADDRESS
from adapters.http.app import create_app
from adapters.store.proofs import verify_bundle
from domain.service.application import Ledger
from tests.helpers import events
from tests.web_fixture import PASSWORD, csrf_of, flash_of, login, prepare


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


# -- item 9: log-in throttling ------------------------------------------------------------------------
class Clock:
    """An injected clock (µs since the epoch) that tests move by hand."""

    def __init__(self) -> None:
        self.now = 1_600_000_000 * 1_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


@pytest.fixture
def clock(web: Any) -> Clock:
    c = Clock()
    web.state.web.credentials.clock = c
    return c


WRONG = "not-the-password"


def attempt(web: Any, address: str, user: str, password: str = PASSWORD) -> tuple[int, str | None, str]:
    """(status, Retry-After, the page with its one-off token and the typed name taken out)."""
    response = login(web.state.client(None, address), user, password)
    body = re.sub(r'name="login_csrf" value="[^"]+"', "", response.text).replace(user, "USER")
    return response.status_code, response.headers.get("retry-after"), body


def test_the_right_password_passes_after_the_delay(web: Any, clock: Clock) -> None:
    """Delays grow (1 s after the third failure, doubling), the right password waits them
    out and then logs in, and a success starts the count again; never a hard lock."""
    waits = []
    for round_ in range(3):
        for _ in range(ACCOUNT.free if round_ == 0 else 1):
            assert attempt(web, "10.0.0.1", "sec-a", WRONG)[0] == 401
        status, retry, body = attempt(web, "10.0.0.1", "sec-a")  # right password, too early
        assert status == 429 and "秒后再试" in body
        waits.append(int(retry))  # type: ignore[arg-type]
        clock.advance(int(retry) - 0.5)  # type: ignore[arg-type]
        assert attempt(web, "10.0.0.1", "sec-a")[0] == 429  # still early
        clock.advance(0.5)
    assert waits == [1, 2, 4]
    assert attempt(web, "10.0.0.1", "sec-a")[0] == 303  # after the delay: in
    for _ in range(ACCOUNT.free):  # the count started again: three free failures
        assert attempt(web, "10.0.0.1", "sec-a", WRONG)[0] == 401
    # Many more failures: the delay stops at its cap, and the right password still passes after it.
    for _ in range(12):
        clock.advance(ACCOUNT.cap_seconds)
        assert attempt(web, f"10.1.0.{_}", "sec-a", WRONG)[0] == 401
    status, retry, _ = attempt(web, "10.2.0.1", "sec-a")
    assert status == 429 and int(retry) == ACCOUNT.cap_seconds  # type: ignore[arg-type]
    clock.advance(ACCOUNT.cap_seconds)
    assert attempt(web, "10.2.0.1", "sec-a")[0] == 303


def test_unknown_and_known_users_get_identical_answers(web: Any, clock: Clock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The same sequence against a known and an unknown name: the same statuses, waits and
    pages, and as many password checks (unknown names against a dummy hash)."""
    import adapters.credentials as credentials
    checks: list[str] = []
    real = credentials._matches
    monkeypatch.setattr(credentials, "_matches", lambda h, p: checks.append(h[:9]) or real(h, p))

    def story(user: str, address: str) -> list[tuple[int, str | None, str]]:
        start = clock.now
        seen = []
        for step in ("wrong", "wrong", "wrong", "right", "wait", "wrong", "right", "wait", "wrong"):
            if step == "wait":
                clock.advance(int(seen[-1][1]))
                continue
            seen.append(attempt(web, address, user, WRONG if step == "wrong" else PASSWORD))
        clock.now = start
        return seen

    known, known_checks = story("sec-b", "10.3.0.1"), len(checks)
    unknown = story("nobody-here", "10.3.0.2")
    assert [s for s, _, _ in known] == [401, 401, 401, 429, 401, 429, 401]
    assert known == unknown  # statuses, Retry-After and the page itself
    assert known_checks == len(checks) - known_checks == 5  # each non-waiting attempt checks one hash
    assert checks[known_checks:] == [checks[known_checks]] * 5 and checks[0] == checks[known_checks]  # argon2id


def test_password_spraying_from_one_address_is_slowed(web: Any, clock: Clock) -> None:
    """One password tried against many names (each tried once) from one address: after the
    address's free failures every further try waits, the waits doubling; another address is
    not slowed."""
    statuses, waits = [], []
    for i in range(ADDRESS.free + 5):
        status, retry, _ = attempt(web, "10.4.0.1", f"user-{i}", "dangjian-2020")
        statuses.append(status)
        if status == 429:  # the sprayer must wait before trying the next name
            waits.append(int(retry))  # type: ignore[arg-type]
            clock.advance(int(retry))  # type: ignore[arg-type]
            assert attempt(web, "10.4.0.1", f"user-{i}", "dangjian-2020")[0] == 401
    assert statuses[:ADDRESS.free] == [401] * ADDRESS.free and statuses[ADDRESS.free:] == [429] * 5
    assert waits == [1, 2, 4, 8, 16]
    assert attempt(web, "10.4.0.2", "sec-a")[0] == 303  # a colleague elsewhere logs in at once
    assert attempt(web, "10.4.0.1", "sec-a")[0] == 429  # the sprayer's address waits, whatever the name


def test_a_second_address_waits_only_the_accounts_delay(web: Any, clock: Clock) -> None:
    """Failures from one address on an account: a second address waits the account's delay
    (no longer), is not slowed on other accounts, and the first address waits longer."""
    for _ in range(ADDRESS.free + 6):
        status, retry, _ = attempt(web, "10.5.0.1", "sec-a", WRONG)
        if status == 429:
            clock.advance(int(retry))  # type: ignore[arg-type]
            assert attempt(web, "10.5.0.1", "sec-a", WRONG)[0] == 401
    assert attempt(web, "10.5.0.2", "sec-b")[0] == 303  # another account, another address: at once
    status, retry, _ = attempt(web, "10.5.0.2", "sec-a")
    assert status == 429 and int(retry) == ACCOUNT.cap_seconds  # type: ignore[arg-type]
    clock.advance(ACCOUNT.cap_seconds)
    assert attempt(web, "10.5.0.1", "sec-a")[0] == 429  # the guessing address still waits (its own delay)
    assert attempt(web, "10.5.0.2", "sec-a")[0] == 303


def test_the_dummy_hash_is_not_made_at_import() -> None:
    """Importing the CLI and the credentials module hashes nothing (argon2 costs ~0.1 s per
    process); the dummy hash is made on the first unknown log-in, once."""
    import subprocess
    import sys
    from pathlib import Path
    code = ("import argon2\n"
            "def refuse(*a, **k): raise SystemExit('hashed at import')\n"
            "argon2.PasswordHasher.hash = refuse\n"
            "import adapters.credentials, adapters.cli.main, adapters.http.app\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from adapters import credentials
    assert credentials._dummy_hash() is credentials._dummy_hash()
