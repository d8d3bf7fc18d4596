"""Crash mid-import (issue 10, item 1): a batch import killed with SIGKILL anywhere in its
life leaves the ledger with all of the file or none of it, and re-running the import then
appends it exactly once. Both backends.

Each crash point imports a fresh file of ``LINES`` keyed lines (``c<n>/<line>``) with
``ledger import`` in a forked child and kills it:

* at each named point of the write (``adapters/store/recorder.py: HOOK``), the child paused there:
  ``begin`` (transaction open, no lock), ``locked`` (write lock held, head read), ``written``
  (every row inserted, commit not yet done), ``committed``;
* at random delays from the child's start through its commit (calibrated by a first, unkilled
  import), most landing in start-up, validation and the handlers;
* at random delays from ``begin`` through commit, landing inside the transaction;
* once in a separately executed ``python -m adapters.cli.main import`` paused by the environment
  hook ``LEDGER_TEST_PAUSE=locked``.

After each kill the file's events and key rows are counted: 0 and 0, or all and all —
never part. A kill before ``written`` must leave none; one after ``committed``, all. Then
the parent re-imports the same file: it appends what is missing and skips what is there,
so the file is in the ledger exactly once. At the end ``verify_ledger`` holds (leaves,
tree, checkpoints, approvals) and the maintained view equals a full fold.

How it fails if the guarantee breaks: were the events, position rows or key rows written in
separate transactions (or committed per page), a kill at ``locked``/``written`` or a random
one inside the transaction would leave a partial count (the first assertion), position rows
without events (``bookkeeping``), or a re-import that appends the file's lines a second
time (keys lost with the rolled-back part; the ``exactly once`` assertion). Shown once in a
scratch copy where ``_append_sqlite`` committed the events before writing the position and
key rows: the first crash point after that commit failed with ``2025 events but 1825
position rows`` (200 events without leaves, invisible to every reader, and the file about
to be appended a second time).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import engine_of
from adapters.cli.main import read_jsonl
from adapters.store import recorder as store
from adapters.store.logreader import LogReader
from tests.helpers import MIGRATION, company
from tests.reliability.helpers import assert_verifies, assert_view_is_full_fold, bookkeeping, keyed, seed

pytestmark = pytest.mark.reliability

LINES = 200
PHASES = ("start", "begin", "locked", "written", "committed", "exited")
ROOT = Path(__file__).resolve().parents[2]


def batch(path: Path, n: int) -> Path:
    """A file of ``LINES`` keyed lines: entries over a year and three branches, and
    business scores."""
    lines = []
    for j in range(LINES):
        month = f"2019-{j % 12 + 1:02d}"
        if j % 20 == 19:
            lines.append({"op": "record_business_score", "key": f"c{n}/{j}", "branch": "ABC"[j % 3],
                          "period": month, "score": "9%d.5" % (j % 10), "actor": "经营"})
        else:
            category, department = [("political", "party_mass"), ("daily", "office"),
                                    ("conduct", "discipline_inspection")][j % 3]
            lines.append({"op": "record_score", "key": f"c{n}/{j}", "branch": "ABC"[j % 3], "period": month,
                          "category": category, "points": f"-0.{j % 9 + 1}", "reason": f"第 {n} 批第 {j} 行",
                          "department": department, "actor": "考核员"})
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    return path


def _child(url: str, path: str, pause_at: str | None, phase: Any, times: Any) -> None:
    """``ledger import`` in a forked process; the store's hook records each point reached
    (shared memory, no latency) and pauses at ``pause_at``."""
    def hook(point: str) -> None:
        i = PHASES.index(point)
        times[i] = time.monotonic()
        phase.value = i
        if point == pause_at:
            time.sleep(600)
    store.HOOK = hook
    os.environ["LEDGER_DATABASE_URL"] = url
    code = 0
    try:
        from adapters.cli.main import main
        main(["import", path], standalone_mode=False)
    except SystemExit as e:  # pragma: no cover - a refused import would show in the parent
        code = int(e.code or 0)
    except BaseException:  # noqa: BLE001
        code = 3
    times[5] = time.monotonic()
    phase.value = 5
    os._exit(code)  # no clean-up of the connections inherited from the parent


def _wait(cond: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("the child never reached the expected point")
        time.sleep(0.0002)


def crash(url: str, path: Path, strategy: tuple[str, Any]) -> tuple[str, dict[str, float]]:
    """Run one import child and kill it as ``strategy`` says; returns the last phase it
    reached and the phase times relative to its start."""
    ctx = mp.get_context("fork")
    phase, times = ctx.Value("i", 0, lock=False), ctx.Array("d", len(PHASES), lock=False)
    kind, arg = strategy
    proc = ctx.Process(target=_child, args=(url, str(path), arg if kind == "pause" else None, phase, times))
    t0 = time.monotonic()
    proc.start()
    if kind == "pause":
        _wait(lambda: phase.value == PHASES.index(arg))
    elif kind == "from_start":
        _wait(lambda: time.monotonic() >= t0 + arg or phase.value == 5)
    elif kind == "from_begin":
        _wait(lambda: phase.value >= 1)
        _wait(lambda: time.monotonic() >= times[1] + arg or phase.value == 5)
    if kind != "none":
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover - already gone
            pass
    proc.join(30)
    assert not proc.is_alive()
    if kind == "none":
        assert proc.exitcode == 0, proc.exitcode
    reached = PHASES[phase.value]
    return reached, {PHASES[i]: times[i] - t0 for i in range(len(PHASES)) if times[i]}


def crash_exec(url: str, path: Path) -> str:
    """A separate ``python -m adapters.cli.main import`` paused by ``LEDGER_TEST_PAUSE=locked``,
    killed when it says it holds the lock."""
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_TEST_PAUSE": "locked", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli.main", "import", str(path)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = ""
    for line in proc.stderr:
        if line.startswith("ledger-hook locked"):
            break
    proc.kill()
    proc.wait(30)
    return "locked" if line.startswith("ledger-hook locked") else f"never paused: {line!r}"


def test_an_import_killed_anywhere_lands_whole_or_not_at_all(app, db_url: str, tmp_path: Path) -> None:
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", "full_time", None))
    engine = engine_of(app)
    rng = random.Random(run_seed := seed("crash"))

    def check(n: int, strategy: tuple[str, Any], reached: str) -> str:
        """The file is wholly in or wholly out; re-importing makes it exactly once."""
        where = f"crash point {n} {strategy} reached {reached!r} (seed {run_seed})"
        prefix = f"c{n}/"
        n_events, n_keys = keyed(engine, prefix, after=last[0])
        assert (n_events, n_keys) in ((0, 0), (LINES, LINES)), f"{where}: events {n_events}, keys {n_keys}"
        if PHASES.index(reached) < PHASES.index("written"):
            assert n_events == 0, f"{where}: events landed before the rows were written"
        if PHASES.index(reached) >= PHASES.index("committed"):
            assert n_events == LINES, f"{where}: the commit was lost"
        bookkeeping(engine)
        lines, errors = read_jsonl(path)
        assert not errors
        result = app.import_batch(lines, MIGRATION)
        expected = (0, LINES) if n_events else (LINES, 0)
        assert (result.appended, result.skipped) == expected, where
        assert keyed(engine, prefix, after=last[0]) == (LINES, LINES), f"{where}: not exactly once after re-import"
        bookkeeping(engine)
        last[0] = LogReader(engine).last_position()
        return "all" if n_events else "none"

    last = [LogReader(engine).last_position()]  # count only what came after
    path = batch(tmp_path / "c0.jsonl", 0)
    reached, times = crash(db_url, path, ("none", None))  # calibration: an import that finishes
    assert reached == "exited"
    check(0, ("none", None), reached)
    to_commit, in_tx = times["committed"], times["committed"] - times["begin"]

    strategies: list[tuple[str, Any]] = [("pause", p) for p in ("begin", "locked", "written", "committed")]
    strategies += [("from_start", rng.uniform(0, to_commit * 1.1)) for _ in range(10)]
    strategies += [("from_begin", rng.uniform(0, in_tx * 1.5)) for _ in range(10)]
    rng.shuffle(strategies)
    outcomes: list[tuple[tuple[str, Any], str, str]] = []
    for n, strategy in enumerate(strategies, start=1):
        path = batch(tmp_path / f"c{n}.jsonl", n)
        reached, _ = crash(db_url, path, strategy)
        outcomes.append((strategy, reached, check(n, strategy, reached)))
    n = len(strategies) + 1
    path = batch(tmp_path / f"c{n}.jsonl", n)
    reached = crash_exec(db_url, path)
    assert reached == "locked", reached
    outcomes.append((("exec", "locked"), reached, check(n, ("exec", "locked"), reached)))

    landed = {p: sum(r == p for _, r, _ in outcomes) for p in PHASES}
    print(f"\n[{db_url.split(':')[0]}] {len(outcomes)} crash points (seed {run_seed}); last phase reached: "
          f"{landed}; outcomes: {sum(o == 'all' for *_, o in outcomes)} all, "
          f"{sum(o == 'none' for *_, o in outcomes)} none; calibration: commit at {to_commit * 1000:.0f} ms, "
          f"transaction {in_tx * 1000:.1f} ms")
    assert len(outcomes) >= 20
    assert landed["begin"] + landed["locked"] + landed["written"] >= 3, landed  # inside the transaction
    assert_verifies(app)
    assert_view_is_full_fold(engine)
