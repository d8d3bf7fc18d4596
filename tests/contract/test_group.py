"""The group ledger (issue 17.2): three companies' ledgers on one machine, each with its own
key and origin; the group registers them, collects and cosigns their checkpoints, accepts
their quarter results and ranks every branch with inclusion proofs. One company rewrites its
history and re-signs with its own key (tamper cases of tests/contract/rewrite.py): the group catches
it, flags it with both checkpoints and accepts nothing more from it."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy
from click.testing import CliRunner

from adapters.bootstrap import close, engine_of, make_ledger
from adapters.cli.main import main
from adapters.integrity.monitor import fetch_publication, publication
from adapters.store.proofs import event_leaf
from domain.integrity.merkle import verify_inclusion
from domain.integrity.note import open_note, parse_checkpoint
from tests.conftest import PG_URL
from tests.contract.rewrite import MUTATIONS, rewrite
from tests.helpers import approve, company, deduct, with_users

COMPANIES = {"company-a": ("甲公司", {"A1": "-1", "A2": "-3"}), "company-b": ("乙公司", {"B1": "-0.5", "B2": "-2"}),
             "company-c": ("丙公司", {"C1": "-1.5", "C2": "-4"})}


@pytest.fixture
def urls(db_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """One database per company on the test's backend (the first is ``db_url``)."""
    origins = list(COMPANIES)
    if db_url.startswith("sqlite"):
        yield {o: (db_url if i == 0 else f"sqlite:///{tmp_path / f'{o}.sqlite3'}") for i, o in enumerate(origins)}
        return
    admin = sqlalchemy.create_engine(PG_URL)
    schemas = [f"g_{uuid.uuid4().hex[:12]}" for _ in origins[1:]]
    with admin.begin() as conn:
        for s in schemas:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA {s}"))
    sep = "&" if "?" in PG_URL else "?"
    yield {origins[0]: db_url, **{o: f"{PG_URL}{sep}options=-csearch_path%3D{s}" for o, s in zip(origins[1:], schemas)}}
    with admin.begin() as conn:
        for s in schemas:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {s} CASCADE"))
    admin.dispose()


def company_ledgers(urls: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    histories: dict[str, Callable[[Any], None]]) -> Iterator[dict[str, Any]]:
    """Each company's ledger (origin → application): its own origin and signing key (``init``
    creates it, named by the origin, and pins it), ``histories[origin](app)`` recorded, a
    checkpoint covering it, its public key in ``<origin>.pub``; closed after."""
    apps = {}
    for origin, history in histories.items():
        monkeypatch.setenv("LEDGER_ORIGIN", origin)
        monkeypatch.setenv("LEDGER_SIGNING_KEY", str(tmp_path / f"{origin}.key"))
        app = make_ledger(urls[origin])
        with_users(app)
        history(app)
        app.recorder.make_checkpoint("before the group collects")
        apps[origin] = app
        (tmp_path / f"{origin}.pub").write_text(app.recorder.signer().verifier_key + "\n", encoding="utf-8")
    monkeypatch.delenv("LEDGER_ORIGIN")
    yield apps
    for app in apps.values():
        close(app)


def _quarter_history(scores: dict[str, str]) -> Callable[[Any], None]:
    def history(app: Any) -> None:
        company(app, *((code, "full_time", None) for code in scores))
        for m in ("2019-07", "2019-08", "2019-09"):
            for code, points in scores.items():
                deduct(app, code, m, points)
        approve(app, "2019-07", "2019-08", "2019-09")
        app.approve_quarter(period="2019Q3", actor="appr")
        deduct(app, next(iter(scores)), "2019-10", "-1")  # a draft month after the quarter
    return history


@pytest.fixture
def companies(urls: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Three companies, each with its own signing key and origin, a quarter 2019Q3 approved."""
    yield from company_ledgers(urls, tmp_path, monkeypatch,
                               {origin: _quarter_history(scores) for origin, (_, scores) in COMPANIES.items()})


def _collect(origin: str, app: Any, tmp_path: Path, held: int = 0) -> Any:
    path = tmp_path / f"{origin}-publication.json"
    path.write_text(json.dumps(publication(engine_of(app), held)), encoding="utf-8")
    return CliRunner().invoke(main, ["group", "collect", origin, "--from", str(path), "--json"])


def _results_file(origin: str, app: Any, tmp_path: Path) -> Path:
    from adapters.integrity.group import results_bundle
    path = tmp_path / f"{origin}-2019Q3.json"
    path.write_text(json.dumps(results_bundle(engine_of(app), "quarter", "2019Q3")), encoding="utf-8")
    return path


def _accept(origin: str, app: Any, tmp_path: Path, path: Path | None = None) -> Any:
    path = path or _results_file(origin, app, tmp_path)
    return CliRunner().invoke(main, ["group", "accept", origin, "--from", str(path)])


def _register(companies: dict[str, Any], tmp_path: Path) -> None:
    for origin, (name, _) in COMPANIES.items():
        done = CliRunner().invoke(main, ["group", "register", name, "--origin", origin, "--key",
                                         str(tmp_path / f"{origin}.pub")])
        assert done.exit_code == 0, done.output


def test_the_group_ranks_every_branch_with_proofs(companies, urls, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from adapters.http.app import create_app
    from adapters.integrity.monitor import observe
    _register(companies, tmp_path)
    refused = CliRunner().invoke(main, ["group", "register", "冒名公司", "--origin", "company-b", "--key",
                                        str(tmp_path / "company-a.pub")])
    assert refused.exit_code == 1 and "公钥名称" in refused.output
    for origin in ("company-b", "company-c"):
        collected = _collect(origin, companies[origin], tmp_path)
        assert collected.exit_code == 0, collected.output
        assert all(a["cosigned"] for a in json.loads(collected.stdout)["accepted"])
        assert _accept(origin, companies[origin], tmp_path).exit_code == 0
    # company A over HTTP from its ledger serve
    a = companies["company-a"]
    a.command("create_user", as_user="admin", user="group", name="集团", actor="admin")
    a.command("grant_role", as_user="admin", user="group", role="auditor", actor="admin")
    headers = {"Authorization": f"Bearer {a.command('issue_token', as_user='admin', user='group', actor='admin')['token']}"}
    from adapters.integrity.group import group_signer, open_group
    group = open_group(create=False)
    with TestClient(create_app(urls["company-a"])) as client:
        def get(path: str) -> Any:
            return client.get(path, headers=headers).json()
        assert observe(group.store, "company-a", fetch_publication(get, 0), group_signer(create=False)).ok
        group.accept_results("company-a", get("/publication/quarter/2019Q3"))
    group.store.close()
    ranked = CliRunner().invoke(main, ["group", "quarter", "2019Q3", "--json"])
    assert ranked.exit_code == 0, ranked.output
    data = json.loads(ranked.stdout)
    assert [(r["branch"], r["score"], r["group_rank"]) for r in data["rows"]] == [
        ("B1", "99.50", 1), ("A1", "99.00", 2), ("C1", "98.50", 3), ("B2", "98.00", 4), ("A2", "97.00", 5),
        ("C2", "96.00", 6)]
    for row in data["rows"]:  # each row: its company's approval, included in the checkpoint the group witnessed
        p = row["proof"]
        cp = parse_checkpoint(open_note(p["checkpoint"], [(tmp_path / f"{row['origin']}.pub").read_text().strip()])[0])
        assert verify_inclusion(event_leaf(p["event"]), p["leaf_index"], cp.size,
                                [bytes.fromhex(h) for h in p["hashes"]], cp.root)
    assert "99.50" in CliRunner().invoke(main, ["group", "quarter", "2019Q3"]).output
    assert CliRunner().invoke(main, ["group", "members"]).exit_code == 0
    # the same reads over the group's own HTTP interface (ledger group serve)
    from adapters.http.group_app import create_group_app
    with TestClient(create_group_app()) as group_http:
        assert group_http.get("/group/quarter/2019Q3").json() == data
        members = group_http.get("/group/members").json()["members"]
        assert sorted(m["origin"] for m in members) == sorted(COMPANIES) and not any(m["flagged"] for m in members)
        assert group_http.get("/group/year/2019").json()["missing"]  # no company published its year
        refused = group_http.get("/group/quarter/2019-07")
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "period"


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_company_that_rewrites_and_resigns_is_caught(mutation: str, companies, tmp_path, monkeypatch) -> None:
    _register(companies, tmp_path)
    held = {}
    for origin, app in companies.items():
        collected = _collect(origin, app, tmp_path)
        assert collected.exit_code == 0, collected.output
        held[origin] = json.loads(collected.stdout)["held"]
    c = companies["company-c"]
    published_before = _results_file("company-c", c, tmp_path)  # C's results as published before the rewrite
    monkeypatch.setenv("LEDGER_ORIGIN", "company-c")
    rewrite(c, mutation, "C1")  # company C's operator, with C's own key
    for origin, app in companies.items():
        again = _collect(origin, app, tmp_path, held[origin]["size"])
        if origin != "company-c":
            assert again.exit_code == 0, again.output
            continue
        assert again.exit_code == 2, again.output
        evidence = json.loads(again.stdout)["evidence"]
        assert evidence["held"] == held[origin]["note"] and evidence["new"] != evidence["held"]
        assert "company-c" in evidence["new"]
    members = CliRunner().invoke(main, ["group", "members", "--json"])
    assert members.exit_code == 2
    flagged = {m["origin"]: m["flagged"] for m in json.loads(members.stdout)["members"]}
    assert flagged == {"company-a": False, "company-b": False, "company-c": True}
    refused = _accept("company-c", c, tmp_path, published_before)
    assert refused.exit_code == 1 and "证据" in refused.output
    for origin in ("company-a", "company-b"):
        assert _accept(origin, companies[origin], tmp_path).exit_code == 0
    data = json.loads(CliRunner().invoke(main, ["group", "quarter", "2019Q3", "--json"]).stdout)
    assert {r["origin"] for r in data["rows"]} == {"company-a", "company-b"}
    assert data["flagged"] == [{"origin": "company-c", "company": "丙公司"}]
    assert _collect("company-c", c, tmp_path, held["company-c"]["size"]).exit_code == 2, "still refused"


def test_group_reads_create_nothing_and_init_creates_the_store_and_key(witness_store, monkeypatch) -> None:
    """A read of a group ledger or a witness store that does not exist is an error naming it,
    and leaves no file behind; ``ledger group init`` creates both and prints the key."""
    import os

    from fastapi.testclient import TestClient

    from adapters.http.group_app import create_group_app
    store = os.environ["LEDGER_GROUP_DATABASE_URL"].removeprefix("sqlite:///")
    key = Path(os.environ["LEDGER_GROUP_KEY"])
    run = CliRunner().invoke
    for args in (["group", "members"], ["group", "quarter", "2019Q3"], ["group", "key"], ["monitor", "evidence"]):
        refused = run(main, args)
        assert refused.exit_code == 1 and "不存在" in refused.output, (args, refused.output)
    with TestClient(create_group_app()) as client:
        answer = client.get("/group/members")
        assert answer.status_code == 503 and answer.json()["error"]["field"] == "store"
    assert not Path(store).exists() and not key.exists() and not witness_store.exists()
    made = run(main, ["group", "init"])
    assert made.exit_code == 0 and Path(store).exists() and key.exists()
    assert run(main, ["group", "key"]).output == made.output  # the same key, not a new one
    assert run(main, ["group", "members"]).output.strip() == "尚无成员公司"

