"""Concurrency (issue 10, item 3): processes racing mixed commands on the same months,
through the application (``Ledger.command``; the HTTP API will get the same run later).

8 processes × 200 commands on each backend, on the three months of
2019Q3 and four branches: score entries (deductions large enough to pass the category
caps, bonuses past the bonus cap), retries of a command with the same import key (from the
same process and, through a shared pool of keys with fixed content, from other processes at
the same moment), month submissions, returns and approvals, appeals filed and decided
(several processes deciding the same appeal), quarter approvals, and maintained-view
catch-ups in between. A command that loses its race five times (``ConcurrentWrite``) is
retried by its client, as a client would.

Afterwards, from the log alone:

* no entry (or void) lands in a month that is not a draft at that point of the log;
* no appeal is decided twice, none decided without being filed; the quarter approved once;
* every import key produced exactly one event, every acknowledged write is in the log
  once, and no refused or abandoned command left anything (counts per op);
* every branch-month score shown equals 100 − Σ min(deductions, category cap) +
  min(bonus, bonus cap) recomputed here from the raw events (and some sums did pass their
  caps, so the cap was exercised); each approval's frozen results equal that recomputation
  over the events before it (``verify_ledger``);
* the maintained view (caught up concurrently during the run) equals a full fold.

How it fails if a guarantee breaks: an entry saved without the month's version check (the
library's unique (originator_id, version)) would land after a ``Submitted`` in the log (the
first assertion); a key index outside the write transaction lets a raced retry append twice
(the exactly-once count); an appeal decided without its aggregate's version guard would show
two ``Decided``. Shown in scratch copies: with ``AssessmentMonth.record_score`` accepting
entries in a submitted month, ``entry at 143 in 2019-08 while submitted``; with the
PostgreSQL insert swallowing a version conflict (``ON CONFLICT DO NOTHING``), ``entry at 251
in 2019-07 while submitted``; without the digest fix below, the retried shared key was
refused as ``DuplicateKey``.
"""
from __future__ import annotations

import multiprocessing as mp
import random
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from adapters.bootstrap import engine_of
from adapters.store.logreader import LogReader
from domain.assessment.rulebook import RULEBOOK_V1
from domain.errors import ConcurrentWrite, LedgerError
from domain.ids import appeal_id_for_key
from projections.views import month_json
from tests.helpers import company
from tests.reliability.helpers import assert_verifies, assert_view_is_full_fold, seed

pytestmark = pytest.mark.reliability

MONTHS = ("2019-07", "2019-08", "2019-09")
BRANCHES = "ABCD"
CATEGORIES = (("political", "party_mass"), ("ideological", "party_mass"), ("daily", "office"),
              ("conduct", "discipline_inspection"))
SHARED_KEYS = 40  # keys every process may send, always with the same content
CLIENT_RETRIES = 20


def entry(key: str) -> dict[str, Any]:
    """The fixed content of the entry with import key ``key`` (any process can rebuild it)."""
    rng = random.Random(key)
    branch, period = rng.choice(BRANCHES), rng.choice(MONTHS)
    if rng.random() < 0.15:
        return {"op": "record_score", "key": key, "branch": branch, "period": period, "category": "bonus",
                "points": rng.choice(["1", "2", "3.5"]), "reason": f"加分 {key}", "department": "party_mass",
                "actor": "党群工作部"}
    category, department = rng.choice(CATEGORIES)
    return {"op": "record_score", "key": key, "branch": branch, "period": period, "category": category,
            "points": rng.choice(["-1", "-2.5", "-4", "-6.25"]), "reason": f"扣分 {key}",
            "department": department, "actor": "考核员"}


def commands(worker: int, count: int, workers: int, rng: random.Random) -> list[dict[str, Any]]:
    """A worker's mixed command list (fields as ``Ledger.command`` takes them). Months are
    submitted and returned throughout, approved only in the last third (an approved month is
    closed for good), so entries race with submissions, returns and approvals; appeals target
    early entries, so several processes file and decide the same appeal."""
    out: list[dict[str, Any]] = []
    own: list[dict[str, Any]] = []
    ops = ("entry", "again", "shared", "submit", "return", "approve", "appeal", "decide", "quarter", "view")
    for i in range(count):
        late = i > count * 2 // 3
        weights = (30, 5, 5, 10, 3, 10, 10, 15, 3, 2) if late else (55, 7, 8, 2, 8, 0, 10, 8, 0, 2)
        kind = rng.choices(ops, weights)[0]
        target = f"e/{rng.randrange(workers)}/{rng.randrange(max(1, min(i, 30)))}"
        if kind == "entry" or (kind == "again" and not own):
            cmd = entry(f"e/{worker}/{i}")
            own.append(cmd)
        elif kind == "again":
            cmd = rng.choice(own)  # the same command, same key, sent again
        elif kind == "shared":
            cmd = entry(f"shared/{rng.randrange(SHARED_KEYS)}")
        elif kind == "submit":
            cmd = {"op": "submit_month", "period": rng.choice(MONTHS), "actor": "汇总"}
        elif kind == "return":
            cmd = {"op": "return_month", "period": rng.choice(MONTHS), "reason": "退回补录", "actor": "审批"}
        elif kind == "approve":
            cmd = {"op": "approve_month", "period": rng.choice(MONTHS), "actor": "审批"}
        elif kind == "appeal":
            cmd = {"op": "file_appeal", "key": f"appeal/{target}", "entry_key": target,
                   "branch": entry(target)["branch"], "reason": "申诉理由", "actor": "支部书记"}
        elif kind == "decide":
            upheld = rng.random() < 0.5
            cmd = {"op": "decide_appeal", "key": f"decide/{target}/{worker}/{i}", "appeal_key": f"appeal/{target}",
                   "decision": "upheld" if upheld else "rejected", "reason": "党委决定", "actor": "党委",
                   **({"points": "0"} if upheld else {})}
        elif kind == "quarter":
            cmd = {"op": "approve_quarter", "period": "2019Q3", "actor": "审批"}
        else:
            cmd = {"op": "view"}
        out.append(cmd)
    return out


def _worker(url: str, worker: int, count: int, workers: int, run_seed: int, barrier: Any, out: Any) -> None:
    from adapters.bootstrap import make_ledger
    from adapters.store.views import MaintainedView
    app = make_ledger(url, user="migration")
    rng = random.Random(run_seed * 1000 + worker)
    log: list[tuple[str, str | None, str, Any]] = []  # op, key, outcome, result
    try:
        for i, cmd in enumerate(commands(worker, count, workers, rng)):
            if i == count * 2 // 3 + 1:
                barrier.wait(120)  # everyone's entries race before anyone may approve a month
            op = cmd["op"]
            if op == "view":
                MaintainedView(engine_of(app)).model()
                continue
            fields = {k: v for k, v in cmd.items() if k != "op"}
            for _ in range(CLIENT_RETRIES):
                try:
                    result = app.command(op, **fields)
                    log.append((op, cmd.get("key"), "written" if result is not None else "skipped",
                                None if result is None else str(result)))
                    break
                except ConcurrentWrite:
                    log.append((op, cmd.get("key"), "lost_race", None))  # counted, not an outcome
                    time.sleep(rng.uniform(0, 0.01))  # the client retries the same command
                except LedgerError as e:
                    log.append((op, cmd.get("key"), type(e).__name__, None))
                    break
            else:
                log.append((op, cmd.get("key"), "gave_up", None))
        out.put((worker, log, None))
    except BaseException as e:  # noqa: BLE001 - reported in the parent
        out.put((worker, log, repr(e)))


def independent_score(sums: dict[str, int]) -> Decimal:
    """100 − Σ min(deductions, cap) + min(bonus, cap), from cents (rulebook v1)."""
    caps = RULEBOOK_V1.category_cents
    score = RULEBOOK_V1.base_cents
    for category, cents in sums.items():
        if category == "bonus":
            score += min(max(cents, 0), RULEBOOK_V1.bonus_cap_cents)
        elif cents < 0:
            score -= min(-cents, caps[category])
    return Decimal(score).scaleb(-2)


WORKERS, EACH = 8, 200


def test_racing_processes_keep_every_invariant(app, db_url: str) -> None:
    workers, count = WORKERS, EACH
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", "full_time", None), ("D", None, None))
    engine = engine_of(app)
    run_seed = seed("concurrency")
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    started = time.monotonic()
    barrier = ctx.Barrier(workers)
    procs = [ctx.Process(target=_worker, args=(db_url, w, count, workers, run_seed, barrier, out))
             for w in range(workers)]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    elapsed = time.monotonic() - started
    failures = [(w, err) for w, _, err in results if err]
    assert not failures, f"seed {run_seed}: {failures}"
    acks = [entry for _, log, _ in results for entry in log]
    assert not [a for a in acks if a[2] == "gave_up"], f"seed {run_seed}: a command never got through"
    where = f"(seed {run_seed})"

    log = list(LogReader(engine).read())
    names = {e.aggregate_id: e.data["period"] for e in log if e.name.endswith(".Opened") and "period" in e.raw}

    # 1. Nothing lands in a month that is not a draft at that point of the log.
    status: dict[str, str] = {}
    for e in log:
        kind = e.name.partition(".")[2]
        if not e.name.startswith("AssessmentMonth."):
            continue
        period = names[e.aggregate_id]
        if kind in ("ScoreRecorded", "EntryVoided"):
            assert status.get(period, "draft") == "draft", \
                f"entry at {e.position} in {period} while {status[period]} {where}"
        elif kind in ("Submitted", "Returned", "Approved"):
            status[period] = {"Submitted": "submitted", "Returned": "draft", "Approved": "approved"}[kind]

    # 2. Appeals: filed before decided, decided at most once; the quarter approved at most once.
    filed = Counter(e.data["appeal_id"] for e in log if e.name == "EntryAppeals.Filed")
    decided = Counter(e.data["appeal_id"] for e in log if e.name == "EntryAppeals.Decided")
    assert all(n == 1 for n in decided.values()), f"an appeal decided twice {where}"
    assert set(decided) <= set(filed)
    per_entry = Counter(e.aggregate_id for e in log if e.name == "EntryAppeals.Decided")
    assert all(n == 1 for n in per_entry.values())
    assert sum(e.name == "AssessmentQuarter.Approved" for e in log) <= 1

    # 3. Exactly once: every key one event; written acks = events, per op.
    keyed = Counter(e.raw["key"] for e in log if e.raw.get("key") and e.name in (
        "AssessmentMonth.ScoreRecorded", "EntryAppeals.Filed", "EntryAppeals.Decided"))
    assert all(n == 1 for n in keyed.values()), f"duplicated keys {[k for k, n in keyed.items() if n > 1][:5]} {where}"
    written_keys = {a[1] for a in acks if a[2] == "written" and a[1]}
    assert written_keys == set(keyed), f"acknowledged vs logged keys differ {where}"
    for key in {a[1] for a in acks if a[0] == "record_score" and a[2] in ("written", "skipped")}:
        assert keyed[key] == 1, f"acknowledged {key} is not in the log once {where}"
    written = Counter(a[0] for a in acks if a[2] == "written")
    logged = Counter(e.name for e in log)
    for op, event in (("record_score", "AssessmentMonth.ScoreRecorded"), ("submit_month", "AssessmentMonth.Submitted"),
                      ("return_month", "AssessmentMonth.Returned"), ("approve_month", "AssessmentMonth.Approved"),
                      ("file_appeal", "EntryAppeals.Filed"), ("decide_appeal", "EntryAppeals.Decided"),
                      ("approve_quarter", "AssessmentQuarter.Approved")):
        assert written[op] == logged[event], f"{op}: {written[op]} acknowledged, {logged[event]} logged {where}"
    retried = sum(1 for a in acks if a[0] == "record_score" and a[2] == "skipped")
    assert retried > 0, "no retried command was exercised"
    decided_ok = {appeal_id_for_key("appeal/" + a[1].split("/", 1)[1].rsplit("/", 2)[0]) for a in acks
                  if a[0] == "decide_appeal" and a[2] == "written"}
    assert decided_ok == set(decided)

    # 4. Caps: every score recomputed here from the raw events; some sums passed their caps.
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for e in log:
        if e.name in ("AssessmentMonth.ScoreRecorded", "AssessmentMonth.EntryVoided", "AssessmentMonth.EntryCorrected"):
            cats = sums.setdefault((names[e.aggregate_id], e.data["branch"]), {})
            if e.name.endswith("ScoreRecorded"):
                delta = int(e.data["points"] * 100)
            elif e.name.endswith("EntryVoided"):
                delta = -int(e.data["points"] * 100)
            else:
                delta = int((e.data["new_points"] - e.data["old_points"]) * 100)
            cats[e.data["category"]] = cats.get(e.data["category"], 0) + delta
    over = [(k, c) for k, cats in sums.items() for c, v in cats.items()
            if (c == "bonus" and v > RULEBOOK_V1.bonus_cap_cents)
            or (c != "bonus" and -v > RULEBOOK_V1.category_cents[c])]
    assert over, "no category passed its cap: the cap was not exercised"
    full = assert_view_is_full_fold(engine)
    floor = RULEBOOK_V1.base_score - sum(RULEBOOK_V1.category_points.values())
    for period in MONTHS:
        for row in month_json(full, period)["branches"]:
            score = Decimal(row["score"])
            assert score == independent_score(sums.get((period, row["branch"]), {})), (period, row, where)
            assert floor <= score <= RULEBOOK_V1.base_score + RULEBOOK_V1.bonus_cap
    report = assert_verifies(app)  # every approval's frozen result recomputed at its place

    outcomes = Counter(f"{a[0]}:{a[2]}" for a in acks)
    print(f"\n[{db_url.split(':')[0]}] {workers}×{count} commands in {elapsed:.1f} s (seed {run_seed}): "
          f"{dict(outcomes)}; events {len(log)}, approvals checked {report.approvals}, "
          f"appeals filed {len(filed)} decided {len(decided)}, over-cap sums {len(over)}, retried-and-skipped {retried}")


def test_a_command_retried_after_a_lost_race_keeps_its_key_idempotent(app, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (found by the racing test): a command that lost its first save and was
    retried stored a key digest that also covered ``RecordScore.entry_id`` (a cached
    property read on the first attempt), so re-sending the same line was refused as
    ``DuplicateKey`` ("内容不同"), and the racing test saw a retried shared key refused. Here
    the first save of the batch and of a single command lose a (simulated) race."""
    from eventsourcing.persistence import IntegrityError
    company(app, *[(b, "full_time", None) for b in BRANCHES])
    real_save, lost = app.recorder.insert_events, []  # where both paths save (the batch's compact one too)

    def loses_once(*args: Any, **kwargs: Any) -> Any:
        if not lost:
            lost.append(True)
            raise IntegrityError("simulated: another writer took this version")
        return real_save(*args, **kwargs)
    monkeypatch.setattr(app.recorder, "insert_events", loses_once)
    lines = [(n, entry(f"retry/{n}") | {"period": "2019-07"}) for n in range(1, 6)]
    first = app.import_batch(lines)
    assert (first.appended, first.skipped, len(lost)) == (5, 0, 1)
    again = app.import_batch([(n, dict(line)) for n, line in lines])
    assert (again.appended, again.skipped) == (0, 5)
    lost.clear()
    single = entry("retry/single") | {"period": "2019-08"}
    assert app.command(**single) is not None and len(lost) == 1
    assert app.command(**single) is None  # the same line again: skipped, not refused
