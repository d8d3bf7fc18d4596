"""Benchmark: ``python scripts/bench.py --branches 1000 --months 12 --entries 20 [--url URL]``.

Builds the workload in a fresh database (SQLite temp file by default; with a PostgreSQL URL,
a fresh schema that is dropped afterwards) and prints JSON:

* ``commands_per_s``: single ``record_score`` commands, one at a time (each its own
  transaction, the Merkle tree maintained in it), through the application service;
* ``import_events_per_s``: batch import (one batch per month) through the same service,
  tree maintained;
* ``rebuild_events_per_s``: full rebuild of the maintained projection from position 0
  (read, decode, fold, store); ``rebuild_peak_mb``: Python heap peak during a rebuild;
* ``quarter_show_ms``: median time to show one quarter from the maintained projection;
* ``verify_events_per_s``: ``ledger verify`` (every leaf recomputed, tree rebuilt,
  checkpoints and every approval's result recomputed);
* ``library_replay_events_per_s``: the library's default path (``repository.get`` of every
  aggregate, no cache), for the ratio ``rebuild_vs_library``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy  # noqa: E402

from adapters.bootstrap import engine_of, make_ledger, migration_user  # noqa: E402
from adapters.store.views import MaintainedView  # noqa: E402
from domain.ids import month_id, organization_id  # noqa: E402
from domain.periods import month_range, quarter_of  # noqa: E402
from projections.views import quarter_json  # noqa: E402

CATEGORIES = [("political", "party_mass"), ("organizational", "party_mass"), ("conduct", "discipline_inspection"),
              ("discipline", "discipline_inspection"), ("governance", "office"), ("daily", "office")]


def org_lines(branches: int) -> Iterator[dict[str, Any]]:
    for b in range(branches):
        code = f"B{b:05d}"
        yield {"op": "register_branch", "code": code, "name": f"第{b}党支部", "members": 10 + b % 40}
        mode = "part_time" if b % 3 == 0 else "full_time"
        line = {"op": "appoint_secretary", "branch": code, "name": f"书记{b}", "mode": mode, "from": "2019-01"}
        if mode == "part_time":
            line["allowance"] = "800"
        yield line


def month_lines(month: str, branches: int, entries: int) -> Iterator[dict[str, Any]]:
    for b in range(branches):
        for n in range(entries):
            category, department = CATEGORIES[(b + n) % len(CATEGORIES)]
            yield {"op": "record_score", "key": f"{month}/{b}/{n}", "branch": f"B{b:05d}", "period": month,
                   "category": category, "points": f"-0.{(b * 7 + n) % 9 + 1}", "reason": "例行检查扣分",
                   "department": department, "actor": "bench"}


def fresh_url(url: str | None) -> tuple[str, Any]:
    if not url or url.startswith("sqlite"):
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description="账本性能基准（输出 JSON）")
    parser.add_argument("--branches", type=int, default=1000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--entries", type=int, default=20, help="每支部每月条目数")
    parser.add_argument("--commands", type=int, default=2000, help="逐条命令的数量")
    parser.add_argument("--url", default=os.environ.get("LEDGER_DATABASE_URL"))
    args = parser.parse_args()
    url, cleanup = fresh_url(args.url)
    try:
        print(json.dumps(run(url, args), ensure_ascii=False, indent=2))
    finally:
        if cleanup:
            cleanup()


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    app = make_ledger(url)
    app.default_user = migration_user(app)
    app.import_batch(enumerate(org_lines(args.branches), start=1))
    months = month_range("2019-01", args.months)

    import_events, import_s = 0, 0.0
    for m in months:
        lines = list(enumerate(month_lines(m, args.branches, args.entries), start=1))
        t = time.perf_counter()
        result = app.import_batch(lines)
        import_s += time.perf_counter() - t
        import_events += result.appended

    t = time.perf_counter()
    for m in months:
        app.submit_month(period=m, actor="agg")
        app.approve_month(period=m, actor="appr")
    approve_months_s = time.perf_counter() - t
    quarters = sorted({quarter_of(m) for m in months if m[5:] in ("03", "06", "09", "12")})
    for q in quarters:
        app.approve_quarter(period=q, actor="appr")

    command_month = month_range(months[-1], 2)[1]
    t = time.perf_counter()
    for i in range(args.commands):
        app.record_score(branch=f"B{i % args.branches:05d}", period=command_month, category="daily",
                         points="-0.5", reason="逐条录入", department="office", actor="bench")
    commands_s = time.perf_counter() - t

    engine = engine_of(app)
    with engine.connect() as conn:
        total_events = conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM ledger_events")).scalar_one()
    view = MaintainedView(engine)
    t = time.perf_counter()
    view.rebuild()
    rebuild_s = time.perf_counter() - t
    tracemalloc.start()
    view.rebuild()
    rebuild_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    shown = quarters[0] if quarters else None
    show_ms = []
    if shown:
        sections = [f"month:{m}" for m in month_range(shown[:4] + "-" + f"{(int(shown[-1]) - 1) * 3 + 1:02d}", 3)]
        for _ in range(7):
            t = time.perf_counter()
            quarter_json(view.model([*sections, f"quarter:{shown}"]), shown)
            show_ms.append((time.perf_counter() - t) * 1000)

    from adapters.integrity.verify import verify_ledger
    t = time.perf_counter()
    report = verify_ledger(engine, [app.recorder.signer().verifier_key])
    verify_s = time.perf_counter() - t
    assert report.ok, report.problems[:3]

    library = make_ledger(url)  # a new instance: no aggregate cache warm
    library.repository.cache = None
    t = time.perf_counter()
    replayed = 0
    for aggregate_id in [organization_id(), *(month_id(m) for m in [*months, command_month])]:
        replayed += library.repository.get(aggregate_id).version
    library_s = time.perf_counter() - t

    return {
        "database": engine.dialect.name,
        "workload": {"branches": args.branches, "months": args.months, "entries_per_branch_month": args.entries,
                     "score_events": import_events, "total_events": total_events},
        "commands_per_s": round(args.commands / commands_s, 1),
        "import_events_per_s": round(import_events / import_s, 1),
        "approve_month_s": round(approve_months_s / max(len(months), 1), 3),
        "rebuild_events_per_s": round(total_events / rebuild_s, 1),
        "verify_events_per_s": round(total_events / verify_s, 1),
        "verify_approvals_checked": report.approvals,
        "rebuild_peak_mb": round(rebuild_peak / 2**20, 1),
        "quarter_show_ms": round(statistics.median(show_ms), 2) if show_ms else None,
        "library_replay_events_per_s": round(replayed / library_s, 1),
        "rebuild_vs_library": round((total_events / rebuild_s) / (replayed / library_s), 1),
    }


if __name__ == "__main__":
    main()
