"""The witness (issue 19.4): an operator holding the signing key rewrites the log and
re-signs — plain ``verify`` stays green, but ``verify --against`` the published checkpoint,
``prove --consistency`` from it, ``ledger monitor`` and ``checkpoint cosign`` catch it; the
witness cosigns only what extends what it cosigned; ``verify --require-witness``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from adapters.bootstrap import engine_of
from adapters.cli.main import main
from adapters.integrity.monitor import WitnessStore, fetch_publication, observe, publication, store_url
from adapters.integrity.verify import verify_ledger
from adapters.integrity.verify_witness import check_against
from domain.integrity.merkle import consistency_proof, leaf_hash
from domain.integrity.note import generate_key, load_signer
from domain.integrity.witness import EXTENDS, FIRST, ROLLBACK, SAME, SPLIT_VIEW, Tree, judge
from tests.contract.rewrite import MUTATIONS, rewrite
from tests.contract.test_tamper import ledger  # noqa: F401 - the fixture: an approved quarter and more

EXPECTED = {"truncate_and_resign": ("published_checkpoint_missing", ROLLBACK),
            "rewrite_and_resign_all": ("published_checkpoint_mismatch", SPLIT_VIEW),
            "fork": ("published_checkpoint_mismatch", SPLIT_VIEW)}


def _witness(tmp_path: Path) -> tuple[Path, Path, Any]:
    pem, vkey = generate_key("jijian-witness")
    (tmp_path / "w.key").write_bytes(pem)
    (tmp_path / "w.pub").write_text(vkey + "\n", encoding="utf-8")
    return tmp_path / "w.key", tmp_path / "w.pub", load_signer(pem, "jijian-witness")


def _files(app: Any, tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    env = {"LEDGER_DATABASE_URL": str(engine_of(app).url.render_as_string(hide_password=False))}
    pub = tmp_path / "ledger.pub"
    pub.write_text(app.recorder.signer().verifier_key + "\n", encoding="utf-8")
    published = tmp_path / "published.note"
    published.write_text(CliRunner().invoke(main, ["checkpoint", "show"], env=env).output, encoding="utf-8")
    return env, pub, published


def test_the_witness_rule() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(7)]
    from domain.integrity.merkle import root_from_leaves
    t3, t7 = Tree(3, root_from_leaves(leaves[:3])), Tree(7, root_from_leaves(leaves))
    proof = consistency_proof(3, 7, leaves.__getitem__)
    assert judge(None, t3, None) == FIRST and judge(t3, t3, None) == SAME
    assert judge(t3, t7, proof) == EXTENDS and judge(t7, t3, proof) == ROLLBACK
    assert judge(t3, Tree(7, b"\x01" * 32), proof) == SPLIT_VIEW == judge(t3, Tree(3, b"\x02" * 32), None)
    assert judge(t3, t7, [b"\x00" * 32]) == SPLIT_VIEW


def test_an_honest_log_is_followed_cosigned_and_required(ledger, tmp_path) -> None:  # noqa: F811
    env, pub, published = _files(ledger, tmp_path)
    key, wpub, _ = _witness(tmp_path)
    run = CliRunner().invoke
    watch = ["monitor", "--log-key", str(pub), "--key", str(key), "--name", "jijian-witness"]
    bundle = tmp_path / "pub.json"
    assert run(main, ["publish", "checkpoint", "--out", str(bundle)], env=env).exit_code == 0
    first = run(main, [*watch, "--from", str(bundle), "--json", "--cosigned-out", str(tmp_path / "c1.json")])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["accepted"][0]["verdict"] == FIRST
    # the ledger enrols the witness (an auditor), grows, and publishes again from the size held
    ledger.command("create_user", as_user="admin", user="jijian", name="纪检审计", actor="admin")
    ledger.command("grant_role", as_user="admin", user="jijian", role="auditor", actor="admin")
    assert run(main, ["witness", "enroll", "--witness-key", str(wpub)], env={**env, "LEDGER_USER": "jijian"}).exit_code == 0
    ledger.record_score(branch="A", period="2019-11", category="political", points="-1", reason="测试扣分",
                        department="party_mass", actor="scorer")
    ledger.recorder.make_checkpoint("grown")
    held = json.loads(first.stdout)["held"]["size"]
    assert run(main, ["publish", "checkpoint", "--from-size", str(held), "--out", str(bundle)], env=env).exit_code == 0
    second = run(main, [*watch, "--from", str(bundle), "--json", "--cosigned-out", str(tmp_path / "c2.json")])
    assert second.exit_code == 0, second.output
    assert [a["verdict"] for a in json.loads(second.stdout)["accepted"]] == [EXTENDS, EXTENDS]
    required = ["verify", "--key", str(pub), "--witness-key", str(wpub), "--require-witness", "jijian-witness"]
    missing = run(main, required, env=env)
    assert missing.exit_code == 1 and "缺少见证方会签" in missing.output  # not yet handed back
    added = run(main, ["witness", "add-cosignatures", str(tmp_path / "c2.json")], env=env)
    assert added.exit_code == 0 and "2 个" in added.output
    assert run(main, required, env=env).exit_code == 0
    assert run(main, ["verify", "--key", str(pub), "--against", str(published)], env=env).exit_code == 0
    ledger.recorder.make_checkpoint("not witnessed")  # after enrolment, a checkpoint without cosignature
    late = run(main, [*required, "--json"], env=env)
    assert late.exit_code == 1 and json.loads(late.stdout)["problems"][0]["kind"] == "witness_missing"
    never = run(main, ["verify", "--require-witness", "someone-else", "--json"], env=env)
    assert never.exit_code == 1 and json.loads(never.stdout)["problems"][0]["kind"] == "witness_not_enrolled"
    consistent = run(main, ["prove", "--consistency", str(published), "latest", "--out", str(tmp_path / "p.json")],
                     env=env)
    assert consistent.exit_code == 0
    assert "成立" in run(main, ["verify-proof", str(tmp_path / "p.json"), "--key", str(pub)]).output


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_rewriting_operator_with_the_key_is_caught(mutation: str, ledger, tmp_path) -> None:  # noqa: F811
    env, pub, published = _files(ledger, tmp_path)
    key, _, witness = _witness(tmp_path)
    store = WitnessStore(store_url(str(tmp_path / "own.sqlite3")))
    origin = ledger.recorder.signer().name
    assert observe(store, origin, publication(engine_of(ledger)), witness, pub.read_text().strip()).ok
    held = store.held(origin)
    rewrite(ledger, mutation)
    keys = [ledger.recorder.signer().verifier_key]
    assert verify_ledger(engine_of(ledger), keys).ok, "the attack re-signs: plain verify stays green"
    kind, verdict = EXPECTED[mutation]
    problems = check_against(engine_of(ledger), [("published.note", published.read_text())], keys)
    assert [p.kind for p in problems] == [kind]
    run = CliRunner().invoke
    against = run(main, ["verify", "--key", str(pub), "--against", str(published)], env=env)
    assert against.exit_code == 1 and "已公布的检查点" in against.output
    assert run(main, ["prove", "--consistency", str(published), "latest"], env=env).exit_code == 1
    # the monitor, from a published file: a split view (or rollback) with both signed checkpoints
    bundle = tmp_path / "after.json"
    assert run(main, ["publish", "checkpoint", "--from-size", str(held.tree.size), "--out", str(bundle)],
               env=env).exit_code == 0
    caught = run(main, ["monitor", "--store", str(tmp_path / "own.sqlite3"), "--key", str(key), "--name",
                        "jijian-witness", "--from", str(bundle), "--json"])
    assert caught.exit_code == 2, caught.output
    evidence = json.loads(caught.stdout)["evidence"]
    assert evidence["verdict"] == verdict and held.note in evidence["held"] and evidence["new"] != evidence["held"]
    assert store.held(origin).tree == held.tree, "nothing accepted"
    assert run(main, ["monitor", "--store", str(tmp_path / "own.sqlite3"), "evidence"]).exit_code == 2
    # checkpoint cosign (a witness cosigning straight from the ledger) refuses too, and writes nothing
    ledger.command("create_user", as_user="admin", user="jijian", name="纪检审计", actor="admin")
    ledger.command("grant_role", as_user="admin", user="jijian", role="auditor", actor="admin")
    cosign_env = {**env, "LEDGER_USER": "jijian", "LEDGER_MONITOR_STORE": str(tmp_path / "own.sqlite3")}
    with engine_of(ledger).connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM ledger_cosignatures")).scalar()
    refused = run(main, ["checkpoint", "cosign", "--key", str(key), "--name", "jijian-witness"], env=cosign_env)
    assert refused.exit_code == 2 and "证据" in refused.output
    with engine_of(ledger).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ledger_cosignatures")).scalar() == before


def test_monitor_over_http_from_ledger_serve(ledger, db_url, tmp_path) -> None:  # noqa: F811
    from fastapi.testclient import TestClient

    from adapters.http.app import create_app
    _, _, witness = _witness(tmp_path)
    ledger.command("create_user", as_user="admin", user="jijian", name="纪检审计", actor="admin")
    ledger.command("grant_role", as_user="admin", user="jijian", role="auditor", actor="admin")
    issued = ledger.command("issue_token", as_user="admin", user="jijian", actor="admin")
    headers = {"Authorization": f"Bearer {issued['token']}"}
    store = WitnessStore(store_url(str(tmp_path / "own.sqlite3")))
    origin = ledger.recorder.signer().name
    with TestClient(create_app(db_url)) as client:
        def get(path: str) -> Any:
            return client.get(path, headers=headers).json()
        first = observe(store, origin, fetch_publication(get, 0), witness, ledger.recorder.signer().verifier_key)
        assert first.ok and first.accepted[-1]["cosigned"]
        added = client.post("/cosignatures", headers=headers, json={"notes": [a["cosigned"] for a in first.accepted]})
        assert added.status_code == 201 and added.json()["added"] == len(first.accepted)
        assert client.post("/cosignatures", headers=headers, json={"notes": ["x\n\n— a b\n"]}).status_code == 422
        rewrite(ledger, "fork")
        second = observe(store, origin, fetch_publication(get, store.held(origin).tree.size), witness)
        assert second.evidence is not None and second.evidence["verdict"] == SPLIT_VIEW
