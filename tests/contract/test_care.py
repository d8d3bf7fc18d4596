"""Talks and visits (六必谈 / 六必访): occasions, answers, sealed summaries, erasure."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from click.testing import CliRunner

from adapters.bootstrap import engine_of
from adapters.integrity.verify import verify_ledger
from adapters.store.proofs import TreeReader, inclusion_bundle, verify_bundle
from domain.errors import InvalidInput, OccasionNotFound, OccasionRefused, PersonNotFound
from domain.integrity.log import LoggedEvent
from domain.members.care import ErasePersonKey, sealed_hash
from domain.service.application import ImportRefused
from projections.care import CareModel, care_json
from tests.helpers import company, events

SECRET = "住院治疗胃癌，家中老人无人照料"  # a summary that must never be stored in clear


@pytest.fixture
def staff(app: Any) -> Any:
    """Branches A and B; a member and an employee in A, a member in B."""
    company(app, ("A", "full_time", None), ("B", "full_time", None))
    app.command("enrol_member", person="A1", name="张三", branch="A", **{"class": "B", "from": "2019-01"}, actor="r")
    app.command("register_employee", person="A2", name="李四", branch="A", **{"from": "2019-01"}, actor="hr")
    app.command("enrol_member", person="B1", name="王五", branch="B", **{"class": "C", "from": "2019-01"}, actor="r")
    return app


def model(app: Any) -> CareModel:
    m = CareModel()
    m.apply_all(e for e in events(app) if e.topic.split(":")[-1].split(".")[0] in CareModel.TOPICS)
    return m


def rows(app: Any, today: str, **kw: Any) -> dict[str, dict[str, Any]]:
    return {r["occasion_id"]: r for r in care_json(model(app), dt.date.fromisoformat(today), **kw)["occasions"]}


def raise_(app: Any, occasion: str = "work_setback", person: str = "A1", branch: str = "A",
           date: str = "2019-07-01", **kw: Any) -> Any:
    return app.command("raise_occasion", occasion=occasion, person=person, branch=branch, date=date,
                       actor="A书记", **kw)


def answer(app: Any, occasion_id: Any, date: str, branch: str = "A", summary: str = SECRET, **kw: Any) -> Any:
    return app.command("answer_occasion", occasion_id=str(occasion_id), branch=branch, conducted_by="A书记", date=date,
                       summary=summary, actor="A书记", **kw)


def count(app: Any) -> int:
    return len(events(app))


# -- occasions and answers -------------------------------------------------------------------
def test_personnel_event_raises_the_talk_occasion_in_one_unit_of_work(staff: Any) -> None:
    before = count(staff)
    oid = staff.command("record_personnel_event", person="A1", branch="A", kind="sanction", date="2019-08-05",
                        actor="人力资源部")
    new = events(staff)[before:]
    assert [e.name for e in new] == ["Occasion.Raised", "PersonnelDecision.Recorded"]
    assert len({e.recorded_at_us for e in new}) == 1  # one transaction
    assert new[1].data["occasion_id"] == oid and new[0].raw["cause"] == "sanction"
    r = rows(staff, "2019-08-10")[str(oid)]
    assert (r["kind"], r["occasion"], r["number"], r["occasion_name"]) == ("talk", "criticism", 6,
                                                                          "违纪违规受到批评、组织处理或纪律处分")
    assert r["cause_name"] == "纪律处分" and r["status"] == "open" and r["due"] == "2019-08-20"
    promoted = staff.command("record_personnel_event", person="A2", branch="A", kind="promotion",
                             date="2019-08-05", actor="人力资源部")
    assert rows(staff, "2019-08-10")[str(promoted)]["occasion"] == "job_change"
    # a refused personnel event writes neither the decision nor the occasion
    before = count(staff)
    with pytest.raises(OccasionRefused) as e:
        staff.command("record_personnel_event", person="A1", branch="B", kind="demotion", date="2019-08-05",
                      actor="人力资源部")
    assert e.value.field == "branch" and count(staff) == before


def test_days_taken_due_and_overdue_after_the_window(staff: Any) -> None:
    on_time = raise_(staff)  # talk, window 15 days → due 2019-07-16
    late = raise_(staff, occasion="emotional")
    visit_open = raise_(staff, occasion="hospitalised", person="A2")  # visit, window 7 → due 2019-07-08
    answer(staff, on_time, "2019-07-16")
    answer(staff, late, "2019-07-17")
    r = rows(staff, "2019-07-08")
    assert (r[str(on_time)]["days_taken"], r[str(on_time)]["overdue"], r[str(on_time)]["status"]) == (15, False, "answered")
    assert (r[str(on_time)]["conducted_by"], r[str(on_time)]["answer_date"]) == ("A书记", "2019-07-16")
    assert (r[str(late)]["days_taken"], r[str(late)]["overdue"], r[str(late)]["status"]) == (16, True, "answered_late")
    v = r[str(visit_open)]
    assert (v["kind"], v["window_days"], v["due"], v["days_open"], v["overdue"]) == ("visit", 7, "2019-07-08", 7, False)
    v = rows(staff, "2019-07-09")[str(visit_open)]
    assert (v["days_open"], v["overdue"], v["status"]) == (8, True, "overdue")
    due = care_json(model(staff), dt.date(2019, 7, 9), "A", open_only=True)
    assert [o["occasion_id"] for o in due["occasions"]] == [str(visit_open)]
    assert due["counts"] == {"open": 0, "overdue": 1, "answered": 0, "answered_late": 0}


def test_the_window_is_the_rulebook_version_in_force_in_the_occasions_month(staff: Any) -> None:
    staff.command("adopt_rulebook", version=2, **{"from": "2019-10"}, parameters={"talk_window_days": 30},
                  actor="党委")
    september, october = raise_(staff, date="2019-09-30"), raise_(staff, date="2019-10-01")
    r = rows(staff, "2019-11-01")
    assert (r[str(september)]["window_days"], r[str(september)]["overdue"]) == (15, True)
    assert (r[str(october)]["window_days"], r[str(october)]["due"], r[str(october)]["overdue"]) == (30, "2019-10-31", True)
    assert rows(staff, "2019-10-31")[str(october)]["overdue"] is False


def test_refusals_name_the_field_and_write_nothing(staff: Any) -> None:
    oid = raise_(staff)
    answer(staff, oid, "2019-07-02")
    other = raise_(staff, occasion="hardship", person="A2")
    before = count(staff)
    cases = [
        (lambda: raise_(staff, branch="B"), OccasionRefused, "branch"),  # A1 is in A
        (lambda: raise_(staff, person="B1", branch="A"), OccasionRefused, "branch"),
        (lambda: raise_(staff, person="NOBODY"), PersonNotFound, "person"),
        (lambda: raise_(staff, date="2018-12-31"), OccasionRefused, "date"),  # before A1 was registered
        (lambda: raise_(staff, date="2019-7-1"), InvalidInput, "date"),
        (lambda: raise_(staff, date="2019-02-30"), InvalidInput, "date"),
        (lambda: raise_(staff, occasion="gossip"), InvalidInput, "occasion"),
        (lambda: answer(staff, other, "2019-07-05", branch="B"), OccasionRefused, "branch"),
        (lambda: answer(staff, oid, "2019-07-05"), OccasionRefused, "occasion_id"),  # answered already
        (lambda: answer(staff, other, "2019-06-30"), OccasionRefused, "date"),  # before the occasion
        (lambda: answer(staff, "00000000-0000-0000-0000-000000000001", "2019-07-05"), OccasionNotFound, "occasion_id"),
        (lambda: staff.command("answer_occasion", occasion_key="no-such-line", branch="A", conducted_by="x", date="2019-07-05",
                               summary="s", actor="x"), OccasionNotFound, "occasion_key"),
        (lambda: staff.command("answer_occasion", branch="A", conducted_by="x", date="2019-07-05", summary="s",
                               actor="x"),
         InvalidInput, "occasion_id"),
        (lambda: answer(staff, other, "2019-07-05", summary=" "), InvalidInput, "summary"),
        (lambda: staff.command("record_personnel_event", person="A1", branch="A", kind="firing", date="2019-07-01",
                               actor="hr"), InvalidInput, "kind"),
    ]
    for run, error, field in cases:
        with pytest.raises(error) as e:
            run()
        assert e.value.field == field, (error, field, e.value)
    assert count(staff) == before


def test_departed_person_gets_no_new_occasion(staff: Any) -> None:
    staff.command("record_departure", person="A2", reason="调出", **{"from": "2019-09"}, actor="hr")
    raise_(staff, occasion="hardship", person="A2", date="2019-08-31")
    with pytest.raises(OccasionRefused) as e:
        raise_(staff, occasion="hardship", person="A2", date="2019-09-01")
    assert e.value.field == "date"


def test_import_answers_by_the_key_of_the_raising_line_and_is_idempotent(staff: Any) -> None:
    batch = [
        (1, {"op": "record_personnel_event", "key": "hr/1", "person": "B1", "branch": "B", "kind": "job_change",
             "date": "2019-03-01", "actor": "hr"}),
        (2, {"op": "raise_occasion", "key": "t/1", "occasion": "family_accident", "person": "A1", "branch": "A",
             "date": "2019-03-02", "actor": "A书记"}),
        (3, {"op": "answer_occasion", "key": "t/2", "occasion_key": "hr/1", "branch": "B", "conducted_by": "B书记",
             "date": "2019-03-10", "summary": "岗位调整后思想稳定", "actor": "B书记"}),
        (4, {"op": "answer_occasion", "key": "t/3", "occasion_key": "t/1", "branch": "A", "conducted_by": "A书记",
             "date": "2019-03-05", "summary": SECRET, "actor": "A书记"}),
    ]
    assert staff.import_batch(batch).appended == 4
    r = rows(staff, "2019-04-01")
    assert sorted((x["occasion"], x["days_taken"]) for x in r.values()) == [("family_accident", 3), ("job_change", 9)]
    again = staff.import_batch(batch)
    assert (again.appended, again.skipped) == (0, 4)
    # the key digest leaves the summary out: a re-sent line with another summary is the same line
    changed = [(3, {**batch[2][1], "summary": "另一段文字"})]
    assert staff.import_batch(changed).skipped == 1
    with pytest.raises(ImportRefused) as e:  # other content than the summary is still a different line
        staff.import_batch([(3, {**batch[2][1], "date": "2019-03-11"})])
    assert e.value.errors[0].field == "key"


# -- sealed summaries and erasure ------------------------------------------------------------
def _stored_bytes(app: Any, db_url: str) -> bytes:
    """Every value of every table of the ledger's database, plus the SQLite file itself."""
    engine = engine_of(app)
    out = []
    with engine.connect() as conn:
        for table in sqlalchemy.inspect(engine).get_table_names():
            for row in conn.execute(sqlalchemy.text(f'SELECT * FROM "{table}"')):
                for value in row:
                    out.append(bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode())
    if db_url.startswith("sqlite:///"):
        path = Path(db_url.removeprefix("sqlite:///"))
        for extra in ("", "-wal", "-journal"):
            if Path(str(path) + extra).exists():
                out.append(Path(str(path) + extra).read_bytes())
    return b"\n".join(out)


def test_summary_is_never_stored_in_clear(staff: Any, db_url: str, keystore: Path) -> None:
    oid = raise_(staff, occasion="hospitalised", key="visit/1")
    answer(staff, oid, "2019-07-03", key="visit/2")
    stored = _stored_bytes(staff, db_url)
    assert SECRET.encode() not in stored
    assert hashlib.sha256(SECRET.encode()).hexdigest().encode() not in stored  # nor a hash to check guesses against
    assert keystore.exists() and SECRET.encode() not in keystore.read_bytes()
    answered = next(e for e in events(staff) if e.name == "Occasion.Answered")
    assert SECRET not in json.dumps(answered.raw, ensure_ascii=False)
    assert answered.raw["summary_sha256"] == sealed_hash(answered.raw["summary_sealed"])
    assert answered.raw["summary_sealed"].encode() in stored
    assert staff.vault.open("A1", answered.raw["summary_sealed"]) == SECRET
    assert staff.vault.open("A2", answered.raw["summary_sealed"]) is None  # another person's key does not open it
    r = rows(staff, "2019-07-05")[str(oid)]
    assert (r["summary_state"], r["summary"]) == ("hidden", None)  # hidden by default
    r = rows(staff, "2019-07-05", reveal=True, vault=staff.vault)[str(oid)]
    assert (r["summary_state"], r["summary"]) == ("shown", SECRET)


def test_erasure_makes_summaries_unreadable_and_proofs_still_hold(staff: Any, keystore: Path, db_url: str) -> None:
    oid = raise_(staff, occasion="family_discord")
    answer(staff, oid, "2019-07-03")
    kept = raise_(staff, occasion="bereavement", person="A2")
    answer(staff, kept, "2019-07-03", summary="母亲病故，已慰问")
    staff.recorder.make_checkpoint("test")
    answered = next(e for e in events(staff) if e.name == "Occasion.Answered" and str(e.aggregate_id) == str(oid))
    key = staff.vault._key("A1", create=False)
    assert key is not None and key in keystore.read_bytes()

    assert staff.execute(ErasePersonKey(person="A1", actor="管理员", reason="本人申请")) is True
    assert staff.vault.open("A1", answered.raw["summary_sealed"]) is None
    assert key not in keystore.read_bytes()  # deleted and vacuumed: the bytes are gone
    erased = events(staff)[-1]
    assert erased.name == "PersonKey.Erased" and erased.raw["reason"] == "本人申请"
    assert key not in _stored_bytes(staff, db_url)  # no key material in the ledger's database
    r = rows(staff, "2019-07-05", reveal=True, vault=staff.vault)
    assert (r[str(oid)]["summary_state"], r[str(oid)]["summary"]) == ("erased", None)
    assert r[str(kept)]["summary"] == "母亲病故，已慰问"  # others' summaries still open
    only_b = rows(staff, "2019-07-05", reveal=lambda branch: branch == "B", vault=staff.vault)
    assert only_b[str(kept)]["summary_state"] == "hidden"  # a per-branch rule (the roles issue) hides A's

    vkey = staff.recorder.signer().verifier_key
    assert verify_ledger(engine_of(staff), [vkey]).ok
    bundle = inclusion_bundle(TreeReader(engine_of(staff)), answered.position)
    assert "成立" in verify_bundle(bundle, vkey)
    staff.recorder.make_checkpoint("after erasure")
    assert verify_ledger(engine_of(staff), [vkey]).ok
    assert "成立" in verify_bundle(inclusion_bundle(TreeReader(engine_of(staff)), answered.position), vkey)

    before = count(staff)
    assert staff.execute(ErasePersonKey(person="A1", actor="管理员")) is False  # idempotent: nothing new in the log
    assert count(staff) == before
    with pytest.raises(OccasionRefused) as e:
        raise_(staff, occasion="hardship")
    assert e.value.field == "person" and count(staff) == before
    with pytest.raises(PersonNotFound):
        staff.execute(ErasePersonKey(person="NOBODY", actor="管理员"))


def test_an_open_occasion_of_an_erased_person_cannot_be_answered(staff: Any) -> None:
    oid = raise_(staff)
    staff.execute(ErasePersonKey(person="A1", actor="管理员"))
    before = count(staff)
    with pytest.raises(OccasionRefused) as e:
        answer(staff, oid, "2019-07-02")
    assert e.value.field == "summary" and count(staff) == before
    assert not staff.vault.has_key("A1")  # the refused answer created no new key


def test_without_a_vault_nothing_is_sealed_or_written(staff: Any) -> None:
    from domain.errors import VaultUnavailable
    oid = raise_(staff)
    staff.vault = None
    before = count(staff)
    with pytest.raises(VaultUnavailable) as e:
        answer(staff, oid, "2019-07-02")
    assert e.value.field == "summary" and count(staff) == before


# -- the fold without a database, and the CLI -----------------------------------------------
def _event(position: int, agg: str, name: str, **raw: Any) -> LoggedEvent:
    from uuid import UUID
    return LoggedEvent(position, position, UUID(int=int(agg)), 1, f"domain.members.care:{name}", raw)


def test_fold_counts_days_to_today_given_as_an_argument() -> None:
    m = CareModel().apply_all([
        _event(1, "1", "Occasion.Raised", occasion="marriage_childbirth", kind="visit", person="P", branch="X",
               date="2019-12-28", cause=None, actor="a"),
    ])
    assert isinstance(m, CareModel)
    oid = next(iter(m.occasions))
    assert m.row(oid, dt.date(2020, 1, 4))["overdue"] is False  # 7 days: within the window
    r = m.row(oid, dt.date(2020, 1, 5))
    assert (r["overdue"], r["days_open"], r["due"], r["summary_state"]) == (True, 8, "2020-01-04", None)


def test_cli_due_show_and_erase(staff: Any, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the CLI is exercised once, on SQLite")
    from adapters.cli.main import main
    oid = raise_(staff)
    done = raise_(staff, occasion="criticism")
    answer(staff, done, "2019-07-04")
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("LEDGER_USER", staff.default_user or "")
    runner = CliRunner()
    due = runner.invoke(main, ["talks", "due", "--branch", "A", "--today", "2019-07-20", "--json"])
    assert due.exit_code == 0, due.output
    data = json.loads(due.output)
    assert [o["occasion_id"] for o in data["occasions"]] == [str(oid)] and data["occasions"][0]["overdue"] is True
    shown = runner.invoke(main, ["talks", "show", "--branch", "A", "--today", "2019-07-20"])
    assert shown.exit_code == 0 and "摘要已隐藏" in shown.output and SECRET not in shown.output
    reveal = ["talks", "show", "--branch", "A", "--today", "2019-07-20", "--reveal", "--json"]
    refused = runner.invoke(main, reveal)  # the migration user is neither A's secretary nor the committee
    assert refused.exit_code == 1 and SECRET not in refused.output
    staff.command("create_user", as_user="admin", user="boss", name="党委", actor="admin")
    staff.command("grant_role", as_user="admin", user="boss", role="committee", actor="admin")
    revealed = runner.invoke(main, reveal, env={"LEDGER_USER": "boss"})
    assert SECRET in revealed.output
    bad = runner.invoke(main, ["talks", "due", "--today", "2019-7-20"])
    assert bad.exit_code == 1 and "today" in bad.output
    erased = runner.invoke(main, ["person", "erase", "A1", "--actor", "管理员"])
    assert erased.exit_code == 0, erased.output
    revealed = runner.invoke(main, reveal, env={"LEDGER_USER": "boss"})
    assert SECRET not in revealed.output and json.loads(revealed.output)["erased"][0]["person"] == "A1"
