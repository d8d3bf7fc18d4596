"""Tamper evidence: each mutation of the stored ledger, named after it, must be caught by
``ledger verify`` at the right place; proofs check offline and fail when altered."""
from __future__ import annotations

import copy
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import text

from adapters.bootstrap import engine_of
from adapters.integrity.verify import verify_ledger
from adapters.store.proofs import ProofError, TreeReader, consistency_bundle, inclusion_bundle, verify_bundle
from adapters.store.tree import APPEND_ONLY
from domain.ids import month_id
from domain.integrity.note import generate_key, load_signer, sign_note
from tests.contract import forge
from tests.helpers import approve, company, deduct, events


@pytest.fixture
def ledger(app) -> Any:
    """A small quarter, approved (three month checkpoints and a quarter checkpoint), then
    one more entry and an on-demand checkpoint."""
    company(app, ("A", "full_time", None), ("B", "part_time", None), ("C", "full_time", None))
    for m in ("2019-07", "2019-08", "2019-09"):
        deduct(app, "A", m, "-1")
        deduct(app, "B", m, "-2.5", "conduct", "discipline_inspection")
        deduct(app, "C", m, "-0.5")
    approve(app, "2019-07", "2019-08", "2019-09")
    app.approve_quarter(period="2019Q3", actor="appr")
    deduct(app, "A", "2019-10", "-1")
    app.recorder.make_checkpoint("test")
    return app


def keys(app: Any) -> list[str]:
    return [app.recorder.signer().verifier_key]


def verified(engine: Any, trusted: list[str], **options: Any) -> Any:
    """``verify_ledger``'s report, after checking that its plain path (the root at every tree
    size, nothing remembered) reports the same problems at the same positions with the same
    words, and the same counts (the verifier's clock named in ``timestamp_in_future`` aside)."""
    fast = verify_ledger(engine, trusted, **options)
    plain = verify_ledger(engine, trusted, plain=True, **options)

    def seen(report: Any) -> list[tuple[Any, ...]]:
        return [(p.kind, p.position, "" if p.kind == "timestamp_in_future" else p.detail) for p in report.problems]
    assert seen(fast) == seen(plain)
    assert (fast.events, fast.checkpoints, fast.approvals, fast.signatures, fast.view_sections) == \
        (plain.events, plain.checkpoints, plain.approvals, plain.signatures, plain.view_sections)
    return fast


def drop_triggers(conn: Any, dialect: str) -> None:
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"))
        else:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))


def score_positions(conn: Any) -> list[int]:
    return [r[0] for r in conn.execute(text("SELECT id FROM ledger_events WHERE topic LIKE '%ScoreRecorded' ORDER BY id"))]


def state_of(conn: Any, position: int) -> bytes:
    return bytes(conn.execute(text("SELECT state FROM ledger_events WHERE id = :p"), {"p": position}).scalar())


def set_state(conn: Any, position: int, state: bytes) -> None:
    conn.execute(text("UPDATE ledger_events SET state = :s WHERE id = :p"), {"s": state, "p": position})


def payload_byte_changed(conn: Any, app: Any) -> tuple[str, int]:
    p = score_positions(conn)[1]
    s = bytearray(state_of(conn, p))
    s[s.index(b"reason") + 10] ^= 0x01
    set_state(conn, p, bytes(s))
    return "payload_changed", p


def score_points_changed(conn: Any, app: Any) -> tuple[str, int]:
    p = score_positions(conn)[0]
    set_state(conn, p, state_of(conn, p).replace(b'"-1.00"', b'"-0.10"'))
    return "payload_changed", p


def event_deleted(conn: Any, app: Any) -> tuple[str, int]:
    p = score_positions(conn)[2]
    conn.execute(text("DELETE FROM ledger_events WHERE id = :p"), {"p": p})
    return "event_missing", p


def event_inserted(conn: Any, app: Any) -> tuple[str, int]:
    p = score_positions(conn)[0]
    row = conn.execute(text("SELECT originator_id, topic, state FROM ledger_events WHERE id = :p"), {"p": p}).one()
    new = conn.execute(text("SELECT MAX(id) FROM ledger_events")).scalar() + 1
    conn.execute(text("INSERT INTO ledger_events (id, originator_id, originator_version, topic, state) "
                      "VALUES (:i, :a, 999, :t, :s)"), {"i": new, "a": row[0], "t": row[1], "s": row[2]})
    return "event_inserted", new


def two_events_swapped(conn: Any, app: Any) -> tuple[str, int]:
    a, b = [r for r in conn.execute(text(
        "SELECT id, originator_version, state FROM ledger_events WHERE topic LIKE '%ScoreRecorded' "
        "ORDER BY id LIMIT 2"))]
    for (pos, _, _), (_, version, state) in ((a, b), (b, a)):
        conn.execute(text("UPDATE ledger_events SET originator_version = :v, state = :s WHERE id = :p"),
                     {"v": -version, "s": state, "p": pos})  # negative first: the (id, version) index is unique
    conn.execute(text("UPDATE ledger_events SET originator_version = -originator_version WHERE originator_version < 0"))
    return "order_changed", b[0]


def last_event_truncated(conn: Any, app: Any) -> tuple[str, int | None]:
    last = conn.execute(text("SELECT MAX(id) FROM ledger_events")).scalar()
    conn.execute(text("DELETE FROM ledger_events WHERE id = :p"), {"p": last})
    conn.execute(text("DELETE FROM ledger_positions WHERE position = :p"), {"p": last})
    return "event_missing", None


def checkpoint_root_altered(conn: Any, app: Any) -> tuple[str, int | None]:
    conn.execute(text("UPDATE ledger_checkpoints SET root = :r WHERE number = 2"), {"r": b"\x07" * 32})
    return "checkpoint_root_altered", None


def checkpoint_signed_by_another_key(conn: Any, app: Any) -> tuple[str, int | None]:
    note = conn.execute(text("SELECT note FROM ledger_checkpoints WHERE number = 1")).scalar()
    body = note.split("\n\n")[0] + "\n"
    other = load_signer(generate_key(app.recorder.signer().name)[0], app.recorder.signer().name)
    conn.execute(text("UPDATE ledger_checkpoints SET note = :n WHERE number = 1"), {"n": sign_note(body, other)})
    return "signature_bad", None


def swap_two_aggregates(conn: Any, app: Any) -> tuple[str, int | None]:
    """Two entries of different months trade aggregates (and versions): the earlier one now
    names a month not yet opened at its position."""
    early, late = [r for r in conn.execute(text(
        "SELECT id, originator_id, originator_version FROM ledger_events WHERE topic LIKE '%ScoreRecorded' "
        "ORDER BY id"))][::6][:2]
    for pos, agg, version in ((early[0], late[1], -late[2]), (late[0], early[1], -early[2])):
        conn.execute(text("UPDATE ledger_events SET originator_id = :a, originator_version = :v WHERE id = :p"),
                     {"a": agg, "v": version, "p": pos})
    conn.execute(text("UPDATE ledger_events SET originator_version = -originator_version WHERE originator_version < 0"))
    return "unknown_aggregate", early[0]


def garbage_payload_appended(conn: Any, app: Any) -> tuple[str, int | None]:
    """Bytes that are not JSON appended as the next event of the open month, leaf and tree row correct."""
    p = score_positions(conn)[-1]
    return "undecodable_payload", forge.append(conn, forge.aggregate_of(conn, p), "domain.assessment.month_and_quarter:"
                                               "AssessmentMonth.ScoreRecorded", b'{"branch": "A", \xff garbage')


def unknown_topic_appended(conn: Any, app: Any) -> tuple[str, int | None]:
    """An event whose topic names no event class (nor a module of the domain)."""
    p = score_positions(conn)[-1]
    return "unknown_topic", forge.append(conn, forge.aggregate_of(conn, p), "os:system", b'{"by": "migration"}')


def fields_missing_appended(conn: Any, app: Any) -> tuple[str, int | None]:
    """A score entry of the open month whose payload lacks branch, category and points."""
    p = score_positions(conn)[-1]
    return "unfoldable_event", forge.append(conn, forge.aggregate_of(conn, p), "domain.assessment.month_and_quarter:"
                                            "AssessmentMonth.ScoreRecorded", b'{"by": "migration"}')


MUTATIONS: dict[str, Callable[[Any, Any], tuple[str, int | None]]] = {f.__name__: f for f in (
    payload_byte_changed, score_points_changed, event_deleted, event_inserted, two_events_swapped,
    last_event_truncated, checkpoint_root_altered, checkpoint_signed_by_another_key,
    swap_two_aggregates, garbage_payload_appended, unknown_topic_appended, fields_missing_appended)}


def test_an_untouched_ledger_verifies(ledger) -> None:
    report = verified(engine_of(ledger), keys(ledger))
    assert report.ok, report.problems
    assert report.events == len(events(ledger)) and report.checkpoints == 5 and report.approvals == 4


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_mutation_is_detected_where_it_happened(mutation: str, ledger) -> None:
    engine = engine_of(ledger)
    with engine.begin() as conn:
        drop_triggers(conn, engine.dialect.name)
        kind, position = MUTATIONS[mutation](conn, ledger)
    report = verified(engine, keys(ledger))
    assert not report.ok
    kinds = {(p.kind, p.position) for p in report.problems}
    if position is None:
        assert kind in {k for k, _ in kinds}, report.problems
    else:
        assert (kind, position) in kinds, report.problems
        assert report.first().position <= position


def test_triggers_refuse_update_and_delete(ledger) -> None:
    engine = engine_of(ledger)
    for sql in ("UPDATE ledger_events SET topic = 'x'", "DELETE FROM ledger_events",
                "DELETE FROM ledger_positions", "UPDATE ledger_checkpoints SET note = ''"):
        with pytest.raises(Exception) as err:
            with engine.begin() as conn:
                conn.execute(text(sql))
        assert "append-only" in str(err.value)
    assert verify_ledger(engine, keys(ledger)).ok


def test_an_approval_whose_result_was_rewritten_is_caught(ledger) -> None:
    engine = engine_of(ledger)
    with engine.begin() as conn:
        drop_triggers(conn, engine.dialect.name)
        p = conn.execute(text("SELECT id FROM ledger_events WHERE topic LIKE '%AssessmentQuarter.Approved'")).scalar()
        state = state_of(conn, p)
        forged = state.replace(b'"result_hash":"', b'"result_hash":"0')
        set_state(conn, p, forged)
    problems = {q.kind for q in verify_ledger(engine, keys(ledger)).problems}
    assert {"payload_changed", "approval_mismatch"} <= problems


PROOF_TAMPERS = {
    "sibling_changed": lambda b: b["proof"].__setitem__(0, "00" * 32),
    "proof_for_different_leaf": lambda b: b.__setitem__("leaf_index", b["leaf_index"] + 1),
    "truncated_proof": lambda b: b["proof"].pop(),
    "event_payload_changed": lambda b: b["event"].__setitem__("version", b["event"]["version"] + 1),
}


def test_inclusion_and_consistency_bundles_verify_offline(ledger) -> None:
    reader = TreeReader(engine_of(ledger))
    vkey = keys(ledger)[0]
    for position in (1, 7, max(e.position for e in events(ledger)) - 1):
        assert "成立" in verify_bundle(inclusion_bundle(reader, position), vkey)
    assert "成立" in verify_bundle(consistency_bundle(reader, 1, 5), vkey)
    assert "成立" in verify_bundle(consistency_bundle(reader, 2, 3), vkey)
    other = load_signer(generate_key("dangjian-ledger")[0], "dangjian-ledger").verifier_key
    with pytest.raises(ProofError):
        verify_bundle(inclusion_bundle(reader, 7), other)  # a key inside nothing: only the one given counts


@pytest.mark.parametrize("tamper", sorted(PROOF_TAMPERS))
def test_a_tampered_proof_fails(tamper: str, ledger) -> None:
    bundle = inclusion_bundle(TreeReader(engine_of(ledger)), 9, 5)
    assert "成立" in verify_bundle(bundle, keys(ledger)[0])
    bad = copy.deepcopy(bundle)
    PROOF_TAMPERS[tamper](bad)
    with pytest.raises(ProofError):
        verify_bundle(bad, keys(ledger)[0])


def test_audit_bundle_and_key_rotation(ledger, tmp_path) -> None:
    from adapters.store.proofs import audit_bundle
    from adapters.store.tree import load_or_create_signer
    reader = TreeReader(engine_of(ledger))
    old = keys(ledger)[0]
    bundle = audit_bundle(reader, 5, 12)
    assert len(bundle["events"]) == 8 and "成立" in verify_bundle(bundle, old)
    bad = copy.deepcopy(bundle)
    bad["events"][3]["event"]["topic"] += "x"
    with pytest.raises(ProofError):
        verify_bundle(bad, old)
    new = load_or_create_signer(tmp_path / "new.key", ledger.recorder.signer().name)
    ledger.command("rotate_signing_key", as_user="admin", verifier_key=new.verifier_key, reason="轮换", actor="admin")
    rotation = ledger.recorder.make_checkpoint("key rotation", extensions=[f"new-key {new.verifier_key}"], signer=new)
    ledger.recorder.cosign(rotation["number"], ledger.recorder.signer())
    ledger.recorder._signer = new  # what pointing LEDGER_SIGNING_KEY at the new key does
    deduct(ledger, "B", "2019-10", "-1")
    ledger.recorder.make_checkpoint("after rotation")
    report = verify_ledger(engine_of(ledger), [old])  # trusting only the first key: the log declares the next
    assert report.ok, report.problems
    assert report.signatures[rotation["number"]] == [ledger.recorder.signer().name]
    untrusted = verify_ledger(engine_of(ledger), [new.verifier_key])  # the log's first key is not this one
    assert [p.kind for p in untrusted.problems] == ["key_untrusted"]


def test_least_privilege_writer_role_can_write_and_not_rewrite(ledger, db_url) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import main
    printed = CliRunner().invoke(main, ["writer-role", "ledger_writer"], env={"LEDGER_DATABASE_URL": db_url})
    assert printed.exit_code == 0 and "GRANT SELECT, INSERT ON ledger_events" in printed.output
    if not db_url.startswith("postgresql"):
        return  # SQLite has no roles: the statements are printed, nothing more applies
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from adapters.bootstrap import close, make_ledger
    from adapters.store.tree import writer_role_sql
    role = f"ledger_writer_{uuid.uuid4().hex[:8]}"
    engine = engine_of(ledger)
    schema = db_url.rsplit("%3D", 1)[1]
    with engine.begin() as conn:
        for statement in writer_role_sql(role):
            conn.execute(text(statement))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
    try:
        url = db_url.replace("postgres@", f"{role}@")
        writer = make_ledger(url)
        deduct(writer, "C", "2019-10", "-1")  # locks, inserts, grows the tree
        with pytest.raises(DBAPIError):  # permission denied: the writer role may not drop triggers
            with create_engine(url).begin() as conn:
                conn.execute(text("DROP TRIGGER ledger_events_append_only ON ledger_events"))
        close(writer)
        assert verify_ledger(engine, keys(ledger)).ok
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def test_cli_walkthrough_receipt_verify_proof_and_verify(ledger, db_url, tmp_path) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import main
    env = {"LEDGER_DATABASE_URL": db_url}
    run = CliRunner().invoke
    pub = tmp_path / "pub.txt"
    pub.write_text(run(main, ["key", "show"], env=env).output.splitlines()[0] + "\n", encoding="utf-8")
    entry = next(e for e in events(ledger) if e.name == "AssessmentMonth.ScoreRecorded").data["entry_id"]
    assert run(main, ["receipt", str(entry), "--out", str(tmp_path / "r.json")], env=env).exit_code == 0
    checked = run(main, ["verify-proof", str(tmp_path / "r.json"), "--key", str(pub)])
    assert checked.exit_code == 0 and "成立" in checked.output
    assert run(main, ["prove", "--consistency", "1", "5", "--out", str(tmp_path / "c.json")], env=env).exit_code == 0
    assert run(main, ["verify-proof", str(tmp_path / "c.json"), "--key", str(pub)]).exit_code == 0
    ok = run(main, ["verify", "--key", str(pub), "--json"], env=env)
    assert ok.exit_code == 0 and '"ok": true' in ok.output
    engine = engine_of(ledger)
    with engine.begin() as conn:
        drop_triggers(conn, engine.dialect.name)
        _, position = score_points_changed(conn, ledger)
    bad = run(main, ["verify", "--key", str(pub)], env=env)
    assert bad.exit_code == 1 and f"位置 {position}" in bad.output


def test_witness_cosignature_is_listed_and_explain_carries_proofs(ledger, db_url, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from adapters.cli.main import main
    from adapters.store.tree import load_or_create_signer
    env = {"LEDGER_DATABASE_URL": db_url}
    run = CliRunner().invoke
    witness_pub = tmp_path / "w.txt"
    made = run(main, ["key", "generate", "--out", str(tmp_path / "w.key"), "--name", "jijian-witness"], env=env)
    witness_pub.write_text(made.output, encoding="utf-8")
    cosign = ["checkpoint", "cosign", "--key", str(tmp_path / "w.key"), "--name", "jijian-witness"]
    refused = run(main, cosign, env=env)  # the migration user is no auditor: cosigning is the auditor's
    assert refused.exit_code != 0 and "auditor" in refused.output
    ledger.command("create_user", as_user="admin", user="jijian", name="纪检审计", actor="admin")
    ledger.command("grant_role", as_user="admin", user="jijian", role="auditor", actor="admin")
    assert run(main, cosign, env={**env, "LEDGER_USER": "jijian"}).exit_code == 0
    out = json.loads(run(main, ["verify", "--witness-key", str(witness_pub), "--json"], env=env).output)
    assert out["ok"] and out["signatures"]["5"] == sorted(["dangjian-ledger", "jijian-witness"])
    assert load_or_create_signer(tmp_path / "w.key", "jijian-witness").verifier_key == made.output.strip()
    explained = json.loads(run(main, ["explain", "quarter", "2019Q3", "--branch", "B", "--json", "--with-proofs"],
                               env=env).output)
    entry = explained["months"][0]["entries"][0]
    bundle = {"format": "dangjian-ledger-proof/1", "kind": "inclusion", "checkpoint": explained["checkpoint"],
              "leaf_index": entry["proof"]["leaf_index"], "proof": entry["proof"]["hashes"],
              "event": TreeReader(engine_of(ledger)).event_at(entry["position"])}
    bundle["event"].pop("leaf_index")
    assert "成立" in verify_bundle(bundle, keys(ledger)[0])


READS = (["month", "show", "2019-10"], ["month", "show", "2019-10", "--json"], ["quarter", "show", "2019Q4"],
         ["entries", "--period", "2019-10"], ["explain", "month", "2019-10", "--branch", "A"],
         ["history", "--branch", "A"])


@pytest.mark.parametrize("mutation", ["garbage_payload_appended", "fields_missing_appended", "swap_two_aggregates"])
def test_reads_meeting_an_unreadable_event_name_it_and_stop(mutation: str, ledger, db_url) -> None:
    """Every read that meets the event stops with its position in Chinese, exit 1, no traceback;
    the HTTP API answers 500 with the refusal's JSON body; verify still reports (exit 1)."""
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from adapters.cli.main import main
    from adapters.http.app import create_app
    engine = engine_of(ledger)
    with engine.begin() as conn:
        drop_triggers(conn, engine.dialect.name)
        _, position = MUTATIONS[mutation](conn, ledger)
    env = {"LEDGER_DATABASE_URL": db_url}
    runner = CliRunner()
    for args in READS:
        result = runner.invoke(main, args, env=env)
        if result.exit_code == 0 and args[0] in ("entries", "history"):
            continue  # a read of one branch or month that never meets the event (it names neither)
        assert result.exit_code == 1, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert f"日志位置 {position} 的事件无法读取" in result.output and "Traceback" not in result.output, args
    checked = runner.invoke(main, ["verify"], env=env)
    assert checked.exit_code == 1 and f"位置 {position}" in checked.output and "Traceback" not in checked.output
    ledger.command("create_user", as_user="admin", user="jijian", name="纪检审计", actor="admin")
    ledger.command("grant_role", as_user="admin", user="jijian", role="auditor", actor="admin")
    issued = ledger.command("issue_token", as_user="admin", user="jijian", actor="admin")
    with TestClient(create_app(db_url), raise_server_exceptions=False) as client:
        answer = client.get("/month/2019-10", headers={"Authorization": f"Bearer {issued['token']}"})
    assert answer.status_code == 500, answer.text
    assert answer.json()["error"] == "CorruptLog" and f"日志位置 {position}" in answer.json()["reason"]


# -- the maintained view (issue 19.2): what month show, quarter show and the rest print --------
def _section(conn: Any, name: str) -> dict[str, Any]:
    import orjson
    body = conn.execute(text("SELECT body FROM ledger_view_sections WHERE section = :s"), {"s": name}).scalar()
    return dict(orjson.loads(bytes(body)))


def _store(conn: Any, name: str, value: Any) -> None:
    import orjson
    conn.execute(text("UPDATE ledger_view_sections SET body = :b WHERE section = :s"),
                 {"b": orjson.dumps(value), "s": name})


def view_row_zeroed(conn: Any) -> tuple[str, ...]:
    """The draft month's −1.00 of branch A set to zero in the stored view (month show: 100.00)."""
    month = _section(conn, "month:2019-10")
    month["sums"]["A"] = {k: 0 for k in month["sums"]["A"]}
    _store(conn, "month:2019-10", month)
    return "2019-10", "支部 A"


def view_section_deleted(conn: Any) -> tuple[str, ...]:
    """A month's section removed (reads of it would start from nothing)."""
    conn.execute(text("DELETE FROM ledger_view_sections WHERE section = 'month:2019-08'"))
    return ("month:2019-08",)


def view_approval_rewritten(conn: Any) -> tuple[str, ...]:
    """An approved month's frozen results (what month show and the diffs print as approved) and
    its sums changed together, B's score up by 2.5, so the two agree with each other."""
    month = _section(conn, "month:2019-07")
    for row in month["approval"]["results"]:
        if row["branch"] == "B":
            row["score"] = "100.00"
    month["sums"]["B"] = {k: 0 for k in month["sums"]["B"]}
    _store(conn, "month:2019-07", month)
    return "2019-07", "结果摘要不符"


def view_ghost_quarter(conn: Any) -> tuple[str, ...]:
    """A quarter section no event made (a ranking that was never approved)."""
    conn.execute(text("INSERT INTO ledger_view_sections (view, section, body) SELECT view, 'quarter:2019Q4', body "
                      "FROM ledger_view_sections WHERE section = 'quarter:2019Q3'"))
    return ("quarter:2019Q4",)


def view_ranking_rewritten(conn: Any) -> tuple[str, ...]:
    """The quarter's stored ranking (what quarter show prints while the view is current) with
    B's quarter score changed, the sections it is computed from left alone."""
    ranking = _section(conn, "quarter-shown:2019Q3")
    for row in ranking["branches"]:
        if row["branch"] == "B":
            row["score"] = "100.00"
    _store(conn, "quarter-shown:2019Q3", ranking)
    return ("quarter-shown:2019Q3",)


VIEW_MUTATIONS: dict[str, Callable[[Any], tuple[str, ...]]] = {f.__name__: f for f in (
    view_row_zeroed, view_section_deleted, view_approval_rewritten, view_ghost_quarter, view_ranking_rewritten)}


@pytest.mark.parametrize("mutation", sorted(VIEW_MUTATIONS))
def test_every_view_mutation_is_detected(mutation: str, ledger) -> None:
    """The writer role may UPDATE and DELETE the view's rows (it keeps them); verify refolds
    the log to the view's position and names the period (and branch) that differ."""
    from adapters.store.views import MaintainedView
    engine = engine_of(ledger)
    MaintainedView(engine).model()  # the view caught up, as any read does
    assert verified(engine, keys(ledger)).ok
    with engine.begin() as conn:
        words = VIEW_MUTATIONS[mutation](conn)
    report = verified(engine, keys(ledger))
    found = [p.detail for p in report.problems if p.kind == "view_mismatch"]
    assert found and all(any(w in d for d in found) for w in words), report.problems
    assert {p.kind for p in report.problems} == {"view_mismatch"}, report.problems
    assert report.view_sections > 0


def test_a_view_behind_the_log_is_compared_at_its_own_position(ledger) -> None:
    """The view saved, then more events: the stored sections are compared with the fold at
    the view's position, not at the log's end (a view behind is not a mismatch)."""
    from adapters.store.views import MaintainedView
    engine = engine_of(ledger)
    MaintainedView(engine).model()
    deduct(ledger, "C", "2019-10", "-1")
    assert verify_ledger(engine, keys(ledger)).ok
    with engine.begin() as conn:
        view_row_zeroed(conn)
    assert [p.kind for p in verify_ledger(engine, keys(ledger)).problems] == ["view_mismatch"]


# -- forged events (issue 19.3): INSERTs a writer may make, leaves and tree rows correct ---------
def _score_of(app: Any, period: str, branch: str) -> int:
    with engine_of(app).connect() as conn:
        return [p for p in score_positions(conn) if forge.aggregate_of(conn, p) == month_id(period)
                and forge.payload_of(conn, p)["branch"] == branch][0]


def _forged(app: Any, like: int, **changes: Any) -> int:
    with engine_of(app).begin() as conn:
        return forge.forge_like(conn, like, **changes)


def forged_ghost_entry(app: Any) -> tuple[str, int]:
    """A +5 bonus for A in the open month by ``ghost``, a user that never existed."""
    like = _score_of(app, "2019-10", "A")
    return "unauthorized_event", _forged(app, like, by="ghost", category="bonus",
                                         points={"_type_": "decimal_str", "_data_": "5.00"})


def forged_entry_by_admin(app: Any) -> tuple[str, int]:
    """An entry by the admin, who exists but holds no scorer role."""
    return "unauthorized_event", _forged(app, _score_of(app, "2019-10", "A"), by="admin")


def forged_migration_after_revocation(app: Any) -> tuple[str, int]:
    """An entry marked as a migration by ``migration`` after its migrator role was revoked."""
    app.command("revoke_role", as_user="admin", user="migration", role="migrator", actor="admin")
    return "unauthorized_event", _forged(app, _score_of(app, "2019-10", "A"), by="migration", migrated=True)


def forged_entry_in_sealed_month(app: Any) -> tuple[str, int]:
    """An entry by the (authorized) migration user into 2019-07, approved: listed by entries."""
    return "invariant_broken", _forged(app, _score_of(app, "2019-07", "A"))


def forged_second_quarter_approval(app: Any) -> tuple[str, int]:
    """The quarter's approval event again (same ranking): a second approval the domain refuses."""
    with engine_of(app).connect() as conn:
        like = conn.execute(text("SELECT id FROM ledger_events WHERE topic LIKE '%AssessmentQuarter.Approved'")).scalar()
    return "invariant_broken", _forged(app, like)


def forged_second_appeal_decision(app: Any) -> tuple[str, int]:
    """An appeal upheld, then a second decision (rejecting it) appended."""
    with engine_of(app).connect() as conn:
        entry = forge.payload_of(conn, _score_of(app, "2019-08", "C"))["entry_id"]["_data_"]
    appeal = app.file_appeal(entry_id=str(uuid.UUID(entry)), branch="C", reason="已整改", actor="C书记")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="0", reason="属实", actor="committee")
    with engine_of(app).connect() as conn:
        like = conn.execute(text("SELECT MAX(id) FROM ledger_events WHERE topic LIKE '%EntryAppeals.Decided'")).scalar()
    return "invariant_broken", _forged(app, like, decision="rejected", points=None)


FORGERIES: dict[str, Callable[[Any], tuple[str, int]]] = {f.__name__: f for f in (
    forged_ghost_entry, forged_entry_by_admin, forged_migration_after_revocation, forged_entry_in_sealed_month,
    forged_second_quarter_approval, forged_second_appeal_decision)}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_every_forged_event_is_caught_where_it_was_appended(forgery: str, ledger) -> None:
    """No trigger dropped: INSERT only. The hashes all hold, so only the replay of the
    directory and of the aggregates' rules catches the event, at its position."""
    engine = engine_of(ledger)
    kind, position = FORGERIES[forgery](ledger)
    report = verified(engine, keys(ledger))
    assert (kind, position) in {(p.kind, p.position) for p in report.problems}, report.problems
    hashes = {"payload_changed", "event_missing", "event_inserted", "order_changed", "tree_altered", "leaf_missing"}
    assert not hashes & {p.kind for p in report.problems}, report.problems


def test_a_ghost_entry_sealed_by_a_normal_approval_is_still_caught(ledger, db_url) -> None:
    """The issue's case: the forged +5 moves the draft month, a normal submit and approve then
    seal it (the approval's digest is of the forged month, so it matches); verify names the
    forged position in Chinese with its kind, and exits 1."""
    from click.testing import CliRunner

    from adapters.cli.main import main
    from tests.helpers import month
    before = month(ledger, "2019-10")["A"]["score"]
    _, position = forged_ghost_entry(ledger)
    assert month(ledger, "2019-10")["A"]["score"] == "104.00" != before  # the forged +5 counts
    approve(ledger, "2019-10")
    result = CliRunner().invoke(main, ["verify"], env={"LEDGER_DATABASE_URL": db_url})
    assert result.exit_code == 1, result.output
    assert f"位置 {position}：事件的操作用户无权执行该操作（unauthorized_event）" in result.output, result.output
    assert "ghost" in result.output


# -- the appeals' attached files (kept outside the log, their SHA-256 in it) -----------------------
SCAN = b"%PDF-1.4\n% " + "整改单扫描件".encode() + b"\n" + bytes(range(256)) * 8  # a PDF by its first bytes


def _appeal_with_scan(app: Any) -> tuple[int, dict[str, Any]]:
    """An appeal against B's entry of the approved 2019-08 with the scan attached: its position and attachment."""
    attachment = app.attachments.put(SCAN, "整改单.pdf")
    with engine_of(app).connect() as conn:
        entry = forge.payload_of(conn, _score_of(app, "2019-08", "B"))["entry_id"]["_data_"]
    app.file_appeal(entry_id=str(uuid.UUID(entry)), branch="B", reason="已整改，扫描件附后", actor="B书记",
                    attachment=attachment)
    with engine_of(app).connect() as conn:
        position = conn.execute(text("SELECT MAX(id) FROM ledger_events WHERE topic LIKE '%EntryAppeals.Filed'")).scalar()
    return int(position), attachment


def attachment_replaced(folder: Path, sha: str) -> str:
    """The stored scan overwritten by another PDF (same name, same folder, other bytes)."""
    (folder / sha[:2] / sha).write_bytes(SCAN.replace("整改单".encode(), "伪造单".encode()))
    return "attachment_altered"


def attachment_truncated(folder: Path, sha: str) -> str:
    """The stored scan cut short (its first bytes still a PDF's)."""
    path = folder / sha[:2] / sha
    path.write_bytes(path.read_bytes()[:100])
    return "attachment_altered"


def attachment_deleted(folder: Path, sha: str) -> str:
    (folder / sha[:2] / sha).unlink()
    return "attachment_missing"


def attachment_folder_removed(folder: Path, sha: str) -> str:
    """The whole attachment folder gone (or verify pointed elsewhere): nothing can be checked."""
    shutil.rmtree(folder)
    return "attachments_unchecked"


ATTACHMENT_MUTATIONS: dict[str, Callable[[Path, str], str]] = {f.__name__: f for f in (
    attachment_replaced, attachment_truncated, attachment_deleted, attachment_folder_removed)}


@pytest.mark.parametrize("mutation", sorted(ATTACHMENT_MUTATIONS))
def test_every_attachment_mutation_is_detected(mutation: str, ledger, attachment_store: Path) -> None:
    """Whoever can write the attachment folder (not the database) replaces or removes a file:
    verify, given the folder, names the appeal's position; a folder that is not there is never
    read as all well, and verify does not create it."""
    position, attachment = _appeal_with_scan(ledger)
    engine = engine_of(ledger)
    before = verified(engine, keys(ledger), attachments=attachment_store)
    assert before.ok and before.attachments == before.attachments_checked == 1, before.problems
    kind = ATTACHMENT_MUTATIONS[mutation](attachment_store, attachment["sha256"])
    report = verified(engine, keys(ledger), attachments=attachment_store)
    expected = None if kind == "attachments_unchecked" else position
    assert [(p.kind, p.position) for p in report.problems] == [(kind, expected)], report.problems
    assert kind != "attachments_unchecked" or (report.attachments_checked == 0 and not attachment_store.exists())


def test_cli_verify_checks_the_attachments_and_says_when_it_could_not(ledger, db_url, attachment_store: Path,
                                                                      tmp_path: Path) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import main
    position, attachment = _appeal_with_scan(ledger)
    env = {"LEDGER_DATABASE_URL": db_url, "LEDGER_ATTACHMENTS": str(attachment_store)}
    run = CliRunner().invoke
    ok = run(main, ["verify"], env=env)
    assert ok.exit_code == 0 and "1 个附件。全部相符" in ok.output, ok.output
    elsewhere = tmp_path / "nowhere"
    unchecked = run(main, ["verify", "--attachments", str(elsewhere)], env=env)
    assert unchecked.exit_code == 1 and "附件未核验" in unchecked.output and "全部相符" not in unchecked.output
    assert not elsewhere.exists()
    attachment_deleted(attachment_store, attachment["sha256"])
    missing = run(main, ["verify"], env=env)
    assert missing.exit_code == 1 and f"位置 {position}：事件所附的文件在附件库中缺失（attachment_missing）" in missing.output


# -- times (a forged event placed back or forward in time): INSERTs only, hashes all correct -------
def _last(app: Any) -> int:
    with engine_of(app).connect() as conn:
        return int(conn.execute(text("SELECT MAX(position) FROM ledger_positions")).scalar())


def forged_entry_recorded_before_its_predecessor(app: Any) -> tuple[str, int]:
    """An authorized user's entry whose recorded-at (and own time) is the log's first: as if it
    had been recorded before everything after that."""
    with engine_of(app).connect() as conn:
        first = forge.recorded_at(conn, 1)
    return "timestamp_out_of_order", _forged(app, _score_of(app, "2019-10", "A"), recorded_at_us=first,
                                             timestamp=forge.tagged_us(first))


def forged_entry_recorded_in_the_future(app: Any) -> tuple[str, int]:
    """An entry recorded (and stamped) a day ahead: every honest event after it would be too."""
    ahead = time.time_ns() // 1000 + 86_400_000_000
    return "timestamp_in_future", _forged(app, _score_of(app, "2019-10", "A"), recorded_at_us=ahead,
                                          timestamp=forge.tagged_us(ahead))


def forged_migration_stamped_before_revocation(app: Any) -> tuple[str, int]:
    """The migrator role revoked; then an entry by ``migration``, recorded in order, whose own
    time is an hour back, before the revocation (the role check reads that time)."""
    app.command("revoke_role", as_user="admin", user="migration", role="migrator", actor="admin")
    with engine_of(app).connect() as conn:
        revoked = forge.recorded_at(conn, _last(app))
    return "timestamp_mismatch", _forged(app, _score_of(app, "2019-10", "A"), by="migration", migrated=True,
                                         timestamp=forge.tagged_us(revoked - 3_600_000_000))


TIME_FORGERIES: dict[str, Callable[[Any], tuple[str, int]]] = {f.__name__: f for f in (
    forged_entry_recorded_before_its_predecessor, forged_entry_recorded_in_the_future,
    forged_migration_stamped_before_revocation)}


@pytest.mark.parametrize("forgery", sorted(TIME_FORGERIES))
def test_every_forged_time_is_caught_where_it_was_appended(forgery: str, ledger) -> None:
    engine = engine_of(ledger)
    kind, position = TIME_FORGERIES[forgery](ledger)
    report = verified(engine, keys(ledger))
    assert (kind, position) in {(p.kind, p.position) for p in report.problems}, report.problems
    assert report.first().position == position, report.problems  # nothing wrong before it
    hashes = {"payload_changed", "event_missing", "event_inserted", "order_changed", "tree_altered", "leaf_missing"}
    assert not hashes & {p.kind for p in report.problems}, report.problems


def test_time_problems_show_both_times_in_beijing_time(ledger) -> None:
    _, position = forged_entry_recorded_before_its_predecessor(ledger)
    found = [p.detail for p in verify_ledger(engine_of(ledger), keys(ledger)).problems
             if p.kind == "timestamp_out_of_order"]
    assert len(found) == 1 and found[0].count("（北京时间）") == 2 and f"位置 {position}" in found[0], found
