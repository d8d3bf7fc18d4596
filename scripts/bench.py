"""Benchmark: ``python scripts/bench.py --branches 1000 --months 12 --entries 20 [--url URL]``.

Builds the workload in a fresh database (SQLite temp file by default; with a PostgreSQL URL,
a fresh schema that is dropped afterwards) and prints JSON:

* ``*_per_cpu_s``: the same figures per CPU-second of this process (``time.process_time``;
  the database server's CPU not counted), which a machine shared with other work disturbs
  far less than the wall clock;
* ``commands_per_s``: single ``record_score`` commands, one at a time (each its own
  transaction, the Merkle tree maintained in it), through the application service;
* ``import_events_per_s``: batch import (one batch per month) through the same service,
  tree maintained;
* ``rebuild_events_per_s``: full rebuild of the maintained projection from position 0
  (read, decode, fold, store); ``rebuild_peak_mb``: Python heap peak during a rebuild;
* ``quarter_show_ms``: median time to show one quarter from the maintained projection (the
  ranking it stores); ``quarter_computed_ms``: the same computed from its sections;
* ``verify_events_per_s``: ``ledger verify`` (every leaf recomputed, tree rebuilt,
  checkpoints and every approval's result recomputed);
* ``library_replay_events_per_s``: the library's default path (``repository.get`` of every
  aggregate, no cache), for the ratio ``rebuild_vs_library``;
* ``rebuild_rss_mb``: peak resident memory of a fresh process that rebuilds the view (its
  imports alone: ``rebuild_rss_base_mb``);
* ``asof_quarter_ms``, ``quarter_diff_ms``, ``quarter_whatif_ms``, ``explain_quarter_ms``
  (median of 5, in process) and their Python heap peaks (``*_peak_mb``): the first quarter
  shown as of the moment of its approval, its diff, a what-if without one of its entries,
  the explanation of one branch's quarter — the paths the CLI and HTTP take;
* with ``--quarter-only``: the workload is built (imports and approvals) and the view rebuilt, then
  only ``quarter_show_ms`` (and its fastest, ``quarter_show_fastest_ms``) is measured: no
  single commands, verify, library replay or memory figures (minutes less at 1,000 branches);
* with ``--verify-only``: the workload is built (imports and approvals, the view rebuilt), then only
  ``verify_events_per_s`` is measured (three runs: the median, the fastest as
  ``verify_fastest_events_per_s``, and ``verify_events_per_cpu_s``); ``--profile FILE`` writes a cProfile of one more run there;
* with ``--anchor``: ``library_commits_per_s``, the bare library (its own SQLAlchemy
  recorder and JSON transcoder, a fresh database of the same kind) saving one new event of
  one aggregate per transaction, and ``commands_vs_library``.
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
    parser.add_argument("--anchor", action="store_true", help="同时测量裸 eventsourcing 库的单事件提交速度")
    parser.add_argument("--quarter-only", action="store_true", help="只测季度展示（quarter_show_ms）")
    parser.add_argument("--verify-only", action="store_true", help="只测核验（verify_events_per_s）")
    parser.add_argument("--profile", type=Path, help="与 --verify-only 同用：核验的 cProfile 写入此文件")
    args = parser.parse_args()
    url, cleanup = fresh_url(args.url)
    try:
        figures = run(url, args)
    finally:
        if cleanup:
            cleanup()
    if args.anchor:
        figures.update(anchor(args.url, args.commands, figures["commands_per_s"]))
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures, ensure_ascii=False, indent=2))


def anchor(url: str | None, commands: int, ours: float) -> dict[str, Any]:
    """The bare library's single-event commits/s on a fresh database of the same kind."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Counter(Aggregate):
        @event("Counted")
        def count(self, n: int) -> None:
            self.n = n

    fresh, cleanup = fresh_url(url)
    try:
        app = Application(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": fresh,
                               "CREATE_TABLE": "y"})
        counter = Counter()
        app.save(counter)
        t = time.perf_counter()
        for i in range(commands):
            counter.count(i)
            app.save(counter)
        rate = commands / (time.perf_counter() - t)
        app.close()
    finally:
        if cleanup:
            cleanup()
    return {"library_commits_per_s": round(rate, 1), "commands_vs_library": round(ours / rate, 2)}


def rebuild_rss(url: str) -> tuple[float, float]:
    """(peak RSS MB of a fresh process rebuilding the view, its RSS before the rebuild)."""
    import subprocess
    # VmHWM (kB), the peak of this process's own memory: ru_maxrss survives exec on Linux, so
    # a child started from this (large) process would report this process's peak instead.
    code = ("import re, sys, sqlalchemy; sys.path.insert(0, %r); "
            "hwm = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
            "from adapters.store.views import MaintainedView; "
            "v = MaintainedView(sqlalchemy.create_engine(%r)); "
            "base = hwm(); v.rebuild(); print(hwm(), base)"
            % (str(Path(__file__).resolve().parent.parent), url))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return round(int(out[0]) / 1024, 1), round(int(out[1]) / 1024, 1)


def timed_read(work: Any) -> tuple[float, float]:
    """(median ms of 5 runs, Python heap peak MB of one)."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        work()
        times.append((time.perf_counter() - t) * 1000)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(statistics.median(times), 1), round(peak / 2**20, 1)


def quarter_show_ms(view: MaintainedView, shown: str, runs: int = 7, stored_ranking: bool = True) -> list[float]:
    """Each time, in ms, to show quarter ``shown`` live from the maintained view, the garbage
    collector paused, as ``ledger quarter show`` and ``GET /quarter/{period}`` do: the ranking
    the current view stores (projections/views.py ``SHOWN``); with ``stored_ranking`` false,
    computed from the sections it is made of (the organization, three months, the quarter),
    as when the view is behind or after ``--as-of``."""
    from adapters.store.gcpause import gc_paused
    sections = [f"month:{m}" for m in month_range(shown[:4] + "-" + f"{(int(shown[-1]) - 1) * 3 + 1:02d}", 3)]
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        with gc_paused():
            if stored_ranking and view.shown_quarter(shown) is None:
                raise SystemExit(f"the view stores no ranking of {shown}")
            if not stored_ranking:
                quarter_json(view.model([*sections, f"quarter:{shown}"]), shown)
        out.append((time.perf_counter() - t) * 1000)
    return out


def quarter_only(engine: Any, args: argparse.Namespace, import_events: int, quarters: list[str]) -> dict[str, Any]:
    """``--quarter-only``: the view rebuilt, then the first quarter shown (15 times)."""
    view = MaintainedView(engine)
    view.rebuild()
    show_ms = quarter_show_ms(view, quarters[0], 15) if quarters else []
    computed_ms = quarter_show_ms(view, quarters[0], 15, stored_ranking=False) if quarters else []
    return {"database": engine.dialect.name,
            "workload": {"branches": args.branches, "months": args.months, "entries_per_branch_month": args.entries,
                         "score_events": import_events},
            "quarter_show_ms": round(statistics.median(show_ms), 2) if show_ms else None,
            "quarter_show_fastest_ms": round(min(show_ms), 2) if show_ms else None,
            "quarter_computed_ms": round(statistics.median(computed_ms), 2) if computed_ms else None,
            "quarter_computed_fastest_ms": round(min(computed_ms), 2) if computed_ms else None}


def verify_only(app: Any, args: argparse.Namespace, import_events: int) -> dict[str, Any]:
    """``--verify-only``: the view rebuilt, then ``ledger verify`` run three times (and once
    more under cProfile with ``--profile``)."""
    from adapters.integrity.verify import verify_ledger
    engine = engine_of(app)
    MaintainedView(engine).rebuild()
    with engine.connect() as conn:
        total_events = conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM ledger_events")).scalar_one()
    keys = [app.recorder.signer().verifier_key]
    rates, cpu_rates = [], []
    for _ in range(3):
        t, cpu = time.perf_counter(), time.process_time()
        report = verify_ledger(engine, keys)
        rates.append(total_events / (time.perf_counter() - t))
        cpu_rates.append(total_events / (time.process_time() - cpu))
        assert report.ok, report.problems[:3]
    if args.profile:
        import cProfile
        cProfile.runctx("verify_ledger(engine, keys)", globals(), {"verify_ledger": verify_ledger, "engine": engine,
                                                                   "keys": keys}, str(args.profile))
    return {"database": engine.dialect.name,
            "workload": {"branches": args.branches, "months": args.months, "entries_per_branch_month": args.entries,
                         "score_events": import_events, "total_events": total_events},
            "verify_events_per_s": round(statistics.median(rates), 1),
            "verify_fastest_events_per_s": round(max(rates), 1),
            "verify_events_per_cpu_s": round(statistics.median(cpu_rates), 1),
            "verify_approvals_checked": report.approvals}


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    app = make_ledger(url)
    app.default_user = migration_user(app)
    app.import_batch(enumerate(org_lines(args.branches), start=1))
    months = month_range("2019-01", args.months)

    import_events, import_s, import_cpu = 0, 0.0, 0.0
    for m in months:
        lines = list(enumerate(month_lines(m, args.branches, args.entries), start=1))
        t, cpu = time.perf_counter(), time.process_time()
        result = app.import_batch(lines)
        import_s += time.perf_counter() - t
        import_cpu += time.process_time() - cpu
        import_events += result.appended

    t = time.perf_counter()
    for m in months:
        app.submit_month(period=m, actor="agg")
        app.approve_month(period=m, actor="appr")
    approve_months_s = time.perf_counter() - t
    quarters = sorted({quarter_of(m) for m in months if m[5:] in ("03", "06", "09", "12")})
    for q in quarters:
        app.approve_quarter(period=q, actor="appr")

    if args.quarter_only:
        return quarter_only(engine_of(app), args, import_events, quarters)
    if args.verify_only:
        return verify_only(app, args, import_events)
    command_month = month_range(months[-1], 2)[1]
    t, cpu = time.perf_counter(), time.process_time()
    for i in range(args.commands):
        app.record_score(branch=f"B{i % args.branches:05d}", period=command_month, category="daily",
                         points="-0.5", reason="逐条录入", department="office", actor="bench")
    commands_s, commands_cpu = time.perf_counter() - t, time.process_time() - cpu

    engine = engine_of(app)
    with engine.connect() as conn:
        total_events = conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM ledger_events")).scalar_one()
    view = MaintainedView(engine)
    t, cpu = time.perf_counter(), time.process_time()
    view.rebuild()
    rebuild_s, rebuild_cpu = time.perf_counter() - t, time.process_time() - cpu
    tracemalloc.start()
    view.rebuild()
    rebuild_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    shown = quarters[0] if quarters else None
    show_ms = quarter_show_ms(view, shown) if shown else []
    computed_ms = quarter_show_ms(view, shown, stored_ranking=False) if shown else []

    reads: dict[str, Any] = {}
    if shown:
        from adapters.diffs import quarter_diff_now, quarter_whatif_now
        from adapters.exports.explanations import explain_quarter_at
        from adapters.store.logreader import LogReader
        from adapters.store.slices import quarter_sections, sliced_model
        from domain.ids import entry_id_for_key, quarter_id
        reader = LogReader(engine)
        approval = next(e for e in reader.read(aggregate_id=quarter_id(shown)) if e.name.endswith(".Approved"))
        upto = reader.position_recorded_by(approval.recorded_at_us)
        entry = str(entry_id_for_key(f"{months[1]}/0/0"))
        for name, work in (
                ("asof_quarter", lambda: quarter_json(sliced_model(engine, quarter_sections(shown), upto), shown)),
                ("quarter_diff", lambda: quarter_diff_now(engine, shown)),
                ("quarter_whatif", lambda: quarter_whatif_now(engine, shown, {entry}, {})),
                ("explain_quarter", lambda: explain_quarter_at(engine, sliced_model(engine, quarter_sections(shown)),
                                                               shown, "B00000"))):
            reads[name + "_ms"], reads[name + "_peak_mb"] = timed_read(work)
    rss, rss_base = rebuild_rss(url)

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
        "commands_per_cpu_s": round(args.commands / commands_cpu, 1),
        "import_events_per_s": round(import_events / import_s, 1),
        "import_events_per_cpu_s": round(import_events / import_cpu, 1),
        "approve_month_s": round(approve_months_s / max(len(months), 1), 3),
        "rebuild_events_per_s": round(total_events / rebuild_s, 1),
        "rebuild_events_per_cpu_s": round(total_events / rebuild_cpu, 1),
        "verify_events_per_s": round(total_events / verify_s, 1),
        "verify_approvals_checked": report.approvals,
        "rebuild_peak_mb": round(rebuild_peak / 2**20, 1),
        "rebuild_rss_mb": rss, "rebuild_rss_base_mb": rss_base,
        **reads,
        "quarter_show_ms": round(statistics.median(show_ms), 2) if show_ms else None,
        "quarter_computed_ms": round(statistics.median(computed_ms), 2) if computed_ms else None,
        "library_replay_events_per_s": round(replayed / library_s, 1),
        "rebuild_vs_library": round((total_events / rebuild_s) / (replayed / library_s), 1),
    }


if __name__ == "__main__":
    main()
