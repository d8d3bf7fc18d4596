"""A ledger prepared like the demo, but small, for the web pages, exports and browser tests.

Three branches (A 熔炼 full-time secretary ``sec-a``, B 电解 part-time ``sec-b``, C 机修
full-time without a user), 2019-04 … 2019-09 loaded as a migration (history), every month
approved and 2019Q2, 2019Q3 ranked; one user per role, each with the password
``PASSWORD``. In 2019Q3 A is last and fined (97.33); upholding A's appeal against its
September deduction (−5) makes it 99.00, second, and B (98.83) last but not fined.
"""
from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from argon2 import PasswordHasher
from sqlalchemy import insert

from adapters.bootstrap import engine_of
from adapters.credentials import CREDENTIALS, Credentials
from domain.service.application import Ledger

PASSWORD = "dangjian-2019"
USERS = {  # user → (Chinese name, granted role or None: a secretary follows the appointment)
    "sec-a": ("周建国", None), "sec-b": ("陈志强", None), "scorer-pm": ("党群考核员小王", "scorer:party_mass"),
    "scorer-di": ("纪检考核员小李", "scorer:discipline_inspection"), "aggregator": ("党群汇总员", "aggregator"),
    "approver": ("公司党委书记", "approver"), "committee": ("公司党委会", "committee"),
    "auditor": ("纪检监察部审计", "auditor"),
}
BRANCHES = [("A", "熔炼车间党支部", "周建国", "full_time", None, "sec-a"),
            ("B", "电解车间党支部", "陈志强", "part_time", "800", "sec-b"),
            ("C", "机修车间党支部", "李建军", "full_time", None, None)]
ENTRIES = [  # key, branch, month, category, department, points, reason
    ("w/05/B", "B", "2019-05", "political", "party_mass", "-2", "理论学习中心组缺课"),
    ("w/06/C", "C", "2019-06", "daily", "office", "-1", "报表迟报"),
    ("w/07/A", "A", "2019-07", "political", "party_mass", "-2", "第一议题学习记录不全"),
    ("w/07/B", "B", "2019-07", "organizational", "party_mass", "-3.5", "三会一课记录不规范"),
    ("w/08/A", "A", "2019-08", "conduct", "discipline_inspection", "-1", "会风会纪不严"),
    ("w/08/C", "C", "2019-08", "bonus", "party_mass", "1", "技术攻关获公司表彰"),
    ("w/09/A", "A", "2019-09", "organizational", "party_mass", "-5", "支委会未按时召开"),
]
MONTHS = ("2019-04", "2019-05", "2019-06", "2019-07", "2019-08", "2019-09")


def lines() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for code, name, secretary, mode, allowance, user in BRANCHES:
        out.append({"op": "register_branch", "key": f"w/branch/{code}", "code": code, "name": name, "members": 20,
                    "actor": "登记员"})
        line = {"op": "appoint_secretary", "key": f"w/sec/{code}", "branch": code, "name": secretary, "mode": mode,
                "from": "2019-01", "actor": "登记员"}
        if allowance:
            line["allowance"] = allowance
        if user:
            line["user"] = user
        out.append(line)
    for month in MONTHS:
        for key, branch, period, category, department, points, reason in ENTRIES:
            if period == month:
                out.append({"op": "record_score", "key": key, "branch": branch, "period": period,
                            "category": category, "points": points, "reason": reason, "department": department,
                            "actor": f"{department}-考核员"})
        out.append({"op": "submit_month", "key": f"w/{month}/submit", "period": month, "actor": "党群工作部"})
        out.append({"op": "approve_month", "key": f"w/{month}/approve", "period": month, "actor": "公司党委书记"})
        if month.endswith(("06", "09")):
            quarter = f"2019Q{int(month[5:]) // 3}"
            out.append({"op": "approve_quarter", "key": f"w/{quarter}", "period": quarter, "actor": "公司党委书记"})
    return out


def prepare(app: Ledger) -> dict[str, str]:
    """Users and passwords, then the history as one migrated batch (``app`` acts as the
    migration user). Returns entry id by key."""
    for user, (name, role) in USERS.items():
        app.command("create_user", as_user="admin", user=user, name=name, actor="admin")
        if role is not None:
            app.command("grant_role", as_user="admin", user=user, role=role, actor="admin")
    result = app.import_batch(list(enumerate(lines(), start=1)))
    set_passwords(app, list(USERS))
    return {k: str(v) for k, v in result.ids.items()}


_HASHED: list[str] = []


def set_passwords(app: Ledger, users: list[str]) -> None:
    """``PASSWORD`` for each user, as ``ledger user password`` stores it; hashed once per test
    run (argon2 takes ~0.1 s by design), so every user's row holds the same hash."""
    Credentials(engine_of(app))  # the tables
    if not _HASHED:
        _HASHED.append(PasswordHasher().hash(PASSWORD))
    with engine_of(app).begin() as conn:
        conn.execute(insert(CREDENTIALS), [{"user_id": u, "hash": _HASHED[0], "updated_at_us": 0, "failures": 0,
                                            "locked_until_us": 0} for u in users])


# -- the pages' test client ------------------------------------------------------------------------
def login(client: Any, user: str, password: str = PASSWORD, next_: str = "/web/") -> Any:
    page = client.get("/web/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post("/web/login", data={"user": user, "password": password, "login_csrf": token, "next": next_},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def flash_of(html: str) -> str:
    found = re.search(r'<div class="flash (\w+)"[^>]*>(.*?)</div>', html, re.S)
    assert found, "no message on the page"
    return found.group(1) + ":" + re.sub(r"<[^>]+>|\s+", "", found.group(2))


@dataclass
class Site:
    """The prepared ledger, its entry ids by key, a test client per user (``client(None)``:
    not logged in) and the web application."""

    ledger: Ledger
    ids: dict[str, str]
    client: Callable[[str | None], Any]
    web: Any


@contextmanager
def open_site(app: Ledger, db_url: str, ids: dict[str, str]) -> Iterator[Site]:
    """The pages over the ledger at ``db_url`` (``app``, prepared: ``ids`` from :func:`prepare`),
    in-process (FastAPI's test client); the application's service closed after."""
    from adapters.http.app import create_app
    with warnings.catch_warnings():  # starlette's test client announces an httpx successor
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    web = create_app(db_url)

    def client(user: str | None = None) -> Any:
        c = TestClient(web, base_url="http://127.0.0.1")
        if user is not None:
            response = login(c, user)
            assert response.status_code == 303, response.text
        return c
    try:
        yield Site(app, ids, client, web)
    finally:
        web.state.service.close()
