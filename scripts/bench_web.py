"""Server time per web page on the demo ledger, as JSON.

Run after ``scripts/demo.py`` and ``scripts/demo_web.py`` (same ``LEDGER_DATABASE_URL``)::

    python scripts/bench_web.py [--repeat 5] [--out bench-web.json]

Every page of every role (the GET routes under /web/, with the demo's branches, periods and
people) is requested in-process through the ASGI app (FastAPI's test client: no network, no
browser), ``--repeat`` times after one warm-up; the time is from the request to the last
byte of the answer. Reads of the ledger now are kept per process until the log head moves
(``adapters/store/replay.FoldCache``): ``median_ms`` is a page read again with the log
unchanged; ``cold_ms`` its first read after one new event (a member-points entry of the
secretary's, recorded through the application as a write from another session would be:
the cache catches up on that event); ``fresh_ms`` its first read with the cache emptied (as
in a freshly started process: every fold and whole-log read of the page redone; the
maintained view stays caught up). **The cold measure writes**: one member-points entry per
page (+1 point, 2019-12, a REPAIR member) — run it on a copy of the demo ledger. Sessions
are opened directly in the credential store (no password is needed or changed). Output: per
page the role, the status, the median, the slowest, the cold and fresh times in ms, and a
summary (pages over the 100 ms target, warm, cold and fresh).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.bootstrap import database_url  # noqa: E402
from adapters.http.app import create_app  # noqa: E402
from adapters.store.replay import FoldCache  # noqa: E402
from adapters.web.base import COOKIE  # noqa: E402
from domain.commands import parse_command  # noqa: E402
from scripts.demo_branches import secretary  # noqa: E402

TARGET_MS = 100
Y, Q, M, H = "2019", "2019Q3", "2019-09", "2019H1"
PAGES: dict[str, list[str]] = {  # role's user → pages it reads in its day
    "sec-repair": ["/web/", "/web/branch/REPAIR?month=" + M, "/web/branch/REPAIR/people", "/web/branch/REPAIR/points",
                   "/web/branch/REPAIR/points?person=REPAIR-M10", "/web/branch/REPAIR/talks",
                   "/web/branch/REPAIR/links", "/web/branch/REPAIR/projects", "/web/branch/REPAIR/mentors",
                   "/web/branch/REPAIR/meetings", f"/web/branch/REPAIR/dues?period={H}", f"/web/quarter/{Q}"],
    "scorer-pm": ["/web/scoring?month=" + M, "/web/innovation", "/web/selections",
                  "/web/selections?selection=2019-JP-01"],
    "aggregator": ["/web/scoring?month=" + M],
    "committee": ["/web/committee?year=" + Y, "/web/committee/work", "/web/rulebook", f"/web/month/{M}",
                  f"/web/quarter/{Q}", f"/web/year/{Y}", f"/web/print/quarter/{Q}",
                  f"/web/explain/quarter/{Q}?branch=REPAIR", f"/web/explain/month/{M}?branch=REPAIR",
                  f"/web/explain/year/{Y}?branch=REPAIR", "/web/event/1345"],
    "auditor": ["/web/audit", "/web/audit?branch=REPAIR&period=2019Q3", "/web/log",
                "/web/log?event=AssessmentMonth.ScoreRecorded&period=2019Q3", "/web/log?user=sec-repair",
                "/web/admin", "/web/admin/security"],
    "registrar": ["/web/registry", "/web/registry/people?branch=REPAIR"],
    "perf": ["/web/performance?month=" + M],
}


def session_client(app: Any, user: str) -> Any:
    from fastapi.testclient import TestClient
    client = TestClient(app, base_url="http://127.0.0.1")
    token = app.state.web.credentials.open_session(user)
    client.cookies.set(COOKIE, token)
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description="每个网页在演示账本上的服务器耗时（JSON）")
    parser.add_argument("--repeat", type=int, default=5, help="每页请求次数（另加一次预热）")
    parser.add_argument("--out", type=Path, default=None, help="同时写入此 JSON 文件")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    app = create_app(database_url())
    known = {u["user"] for u in app.state.web.api.get("/users", _request(app), _admin_caller())["users"]}
    rows = []
    for user, pages in PAGES.items():
        if user not in known:
            rows.append({"user": user, "skipped": "用户不存在（先运行 scripts/demo_web.py）"})
            continue
        client = session_client(app, user)
        for page in pages:
            service = app.state.service
            service.folds = FoldCache(service.engine)  # fresh: as a new process, every fold and read of the page redone
            start = time.perf_counter()
            status = client.get(page).status_code  # also the warm-up (templates)
            fresh = (time.perf_counter() - start) * 1000
            client.get(page)  # the cache holds what this page reads
            write_one(service, len(rows))
            start = time.perf_counter()
            _ = client.get(page).content
            cold = (time.perf_counter() - start) * 1000
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                response = client.get(page)
                _ = response.content
                times.append((time.perf_counter() - start) * 1000)
                status = response.status_code
            rows.append({"user": user, "page": page, "status": status,
                         "median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                         "cold_ms": round(cold, 1), "fresh_ms": round(fresh, 1)})
    timed = [r for r in rows if "median_ms" in r]
    slow = [r["page"] for r in timed if r["median_ms"] > TARGET_MS]
    report = {"database": app.state.service.engine.dialect.name, "repeat": args.repeat, "target_ms": TARGET_MS,
              "pages": rows, "summary": {"pages": len(timed), "over_target": len(slow), "slow_pages": slow,
                                         "median_of_medians_ms": round(statistics.median(r["median_ms"] for r in timed), 1)
                                         if timed else None,
                                         "cold_over_target": [r["page"] for r in timed if r["cold_ms"] > TARGET_MS],
                                         "fresh_over_target": [r["page"] for r in timed if r["fresh_ms"] > TARGET_MS]}}
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    app.state.service.close()


def write_one(service: Any, n: int) -> None:
    """One new event, as another session's write: a member-points entry of REPAIR's secretary
    (+1, 2019-12; ``n`` makes its import key new)."""
    service.execute(parse_command({"op": "record_member_points", "key": f"bench-web/{time.time_ns()}/{n}",
                                   "branch": "REPAIR", "person": "REPAIR-M10", "month": "2019-12",
                                   "item": "assigned_tasks", "points": "1", "reason": "完成宣讲任务",
                                   "actor": secretary("REPAIR")}), "sec-repair")


def _request(app: Any) -> Any:
    from starlette.requests import Request
    return Request({"type": "http", "method": "GET", "path": "/bench", "headers": [], "query_string": b"", "app": app})


def _admin_caller() -> Any:
    from adapters.http.deps import Caller
    return Caller("bench", frozenset({"auditor"}))


if __name__ == "__main__":
    main()
