"""The group ledger's write side over HTTP (issue 17.2, ``ledger group serve``): three
companies' ledgers on one machine (SQLite and PostgreSQL), each served by its own ``ledger serve``
(in-process); the group's operator registers them, has the group collect and cosign their
checkpoints (one posted as a publication bundle, two fetched from the companies' servers) and
accept their quarter and year results; the group-wide rankings list every branch, each row's
inclusion proof checked against a checkpoint the group witnessed and cosigned. One company then
rewrites its history and re-signs with its own key: the group answers 409 with both signed
checkpoints, flags it, and accepts nothing more from it. Writes need the operator's token;
neither reads nor writes create the group ledger or its key."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy
from click.testing import CliRunner
from fastapi.testclient import TestClient

from adapters.bootstrap import engine_of
from adapters.cli.main import main
from adapters.http.app import create_app
from adapters.http.group_app import OPERATOR_TOKEN, create_group_app
from adapters.integrity.group import GROUP_RESULTS, results_bundle
from adapters.integrity.monitor import FORMAT, WitnessError, publication
from adapters.store.proofs import event_leaf
from domain.integrity.merkle import verify_inclusion
from domain.integrity.note import open_note, parse_checkpoint
from domain.periods import month_range
from projections.annual import year_json
from projections.views import quarter_json
from tests.contract import test_group as three
from tests.contract.rewrite import MUTATIONS, rewrite
from tests.helpers import approve, company, deduct, model_of

COMPANIES, urls, companies = three.COMPANIES, three.urls, three.companies  # test_group's three companies (fixtures)

TOKEN = "group-operator-" + "0123456789abcdef" * 2
AUTH = {"Authorization": f"Bearer {TOKEN}"}
YEAR_SCORES = {"company-a": {"A1": ("-1", "96", "92"), "A2": ("-3", "99", "97")},
               "company-b": {"B1": ("-0.5", "91", "93"), "B2": ("-2", "98", "95")},
               "company-c": {"C1": ("-1.5", "94", "99"), "C2": ("-4", "97", "90")}}  # Q3 points, unit, debriefing


def _year_history(scores: dict[str, tuple[str, str, str]]) -> Any:
    def history(app: Any) -> None:
        company(app, *((code, "full_time", None) for code in scores))
        for m in ("2019-07", "2019-08", "2019-09"):
            for code, (points, _, _) in scores.items():
                deduct(app, code, m, points)
        approve(app, *month_range("2019-01", 12))
        for q in range(1, 5):
            app.approve_quarter(period=f"2019Q{q}", actor="appr")
        for code, (_, unit, debriefing) in scores.items():
            app.record_unit_performance(branch=code, year="2019", score=unit, actor="perf")
            app.record_debriefing(branch=code, year="2019", score=debriefing, actor="committee")
        app.approve_year(year="2019", actor="公司党委会")
        deduct(app, next(iter(scores)), "2020-01", "-1")  # a draft after the year (what the rewrite changes)
    return history


@pytest.fixture
def year_companies(urls: dict[str, str], tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Three companies with all of 2019 approved (months, the four quarters, the year), a draft
    −1 in 2020-01 after it, and a checkpoint covering everything."""
    yield from three.company_ledgers(urls, tmp_path, monkeypatch,
                                     {origin: _year_history(scores) for origin, scores in YEAR_SCORES.items()})


def _group_token(app: Any) -> str:
    """The company's token for the group (an auditor of its ledger: it reads publications)."""
    app.command("create_user", as_user="admin", user="group", name="集团", actor="admin")
    app.command("grant_role", as_user="admin", user="group", role="auditor", actor="admin")
    return str(app.command("issue_token", as_user="admin", user="group", actor="admin")["token"])


@contextlib.contextmanager
def company_servers(apps: dict[str, Any], urls: dict[str, str]) -> Iterator[tuple[dict[str, TestClient], Any]]:
    """Each company's ``ledger serve`` (in-process), at ``http://<origin>.test``, and the fetcher
    the group app reaches them with (a JSON GET; a refusal is a WitnessError, as over urllib)."""
    with contextlib.ExitStack() as stack:
        clients = {o: stack.enter_context(TestClient(create_app(urls[o]))) for o in apps}

        def fetch(base_url: str, token: str | None) -> Any:
            client = clients[base_url.removeprefix("http://").removesuffix(".test")]

            def get(path: str) -> Any:
                answer = client.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})
                if answer.status_code != 200:
                    raise WitnessError(f"{base_url}{path}：HTTP {answer.status_code} {answer.text}", "url")
                return answer.json()
            return get
        yield clients, fetch


def _init_group() -> str:
    made = CliRunner().invoke(main, ["group", "init"])
    assert made.exit_code == 0, made.output
    return made.output.strip()


def _register(client: TestClient, tmp_path: Path) -> None:
    for origin, (name, _) in COMPANIES.items():
        answer = client.post("/group/members", headers=AUTH, json={
            "name": name, "origin": origin, "key": (tmp_path / f"{origin}.pub").read_text().strip()})
        assert answer.status_code == 201, answer.text


def _stored_results() -> int:
    engine = sqlalchemy.create_engine(os.environ["LEDGER_GROUP_DATABASE_URL"])
    with engine.connect() as conn:
        count = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(GROUP_RESULTS)).scalar_one()
    engine.dispose()
    return int(count)


def _check_row_proofs(rows: list[dict[str, Any]], members: dict[str, Any], group_key: str, tmp_path: Path) -> None:
    """Each row's event is included in its checkpoint, and that checkpoint is the company's, signed
    by its key, and one the group witnessed: the group holds its root at its size, cosigned."""
    for row in rows:
        p = row["proof"]
        company_key = (tmp_path / f"{row['origin']}.pub").read_text().strip()
        cp = parse_checkpoint(open_note(p["checkpoint"], [company_key])[0])
        assert cp.origin == row["origin"]
        assert verify_inclusion(event_leaf(p["event"]), p["leaf_index"], cp.size,
                                [bytes.fromhex(h) for h in p["hashes"]], cp.root), row
        member = members[row["origin"]]
        assert member["size"] >= cp.size
        assert any(a["size"] == cp.size and a["note"].startswith(p["checkpoint"].split("\n\n")[0])
                   for a in member["witnessed"]), row
        cosigned = next(a["cosigned"] for a in member["witnessed"] if a["size"] == cp.size)
        _, signers = open_note(cosigned, [company_key, group_key])
        assert sorted(signers) == sorted([row["origin"], "group-witness"])


def _expected(apps: dict[str, Any], level: str, period: str) -> list[tuple[str, str, str, int]]:
    """Every branch of every company as the company itself ranks it: (origin, branch, score, rank)."""
    out = []
    for origin, app in apps.items():
        view = quarter_json(model_of(app), period) if level == "quarter" else year_json(model_of(app), period)
        assert view["status"] == "approved"
        out += [(origin, b["branch"], b["score"], b["rank"]) for b in view["branches"]]
    return out


def _assert_ranking(data: dict[str, Any], expected: list[tuple[str, str, str, int]]) -> None:
    rows = data["rows"]
    assert sorted((r["origin"], r["branch"], r["score"], r["company_rank"]) for r in rows) == sorted(expected)
    scores = [float(r["score"]) for r in rows]  # order only; the scores compared above are the texts
    assert scores == sorted(scores, reverse=True)
    for r in rows:  # ties share a rank: one more than the rows scoring higher
        assert r["group_rank"] == 1 + sum(float(o["score"]) > float(r["score"]) for o in rows)


def test_three_companies_collected_accepted_and_ranked_over_http(year_companies, urls, tmp_path,
                                                                  monkeypatch) -> None:
    apps = year_companies
    group_key = _init_group()
    monkeypatch.setenv(OPERATOR_TOKEN, TOKEN)
    tokens = {o: _group_token(app) for o, app in apps.items() if o != "company-a"}
    with company_servers(apps, urls) as (_, fetch), TestClient(create_group_app(fetch)) as group:
        _register(group, tmp_path)
        # A posts its publication bundle (as ``ledger publish checkpoint`` writes it); B and C are fetched
        a = group.post("/group/members/company-a/checkpoints", headers=AUTH, json=publication(engine_of(apps["company-a"])))
        assert a.status_code == 200, a.text
        collected = {"company-a": a.json()}
        for origin in ("company-b", "company-c"):
            answer = group.post(f"/group/members/{origin}/checkpoints", headers=AUTH,
                                json={"url": f"http://{origin}.test", "token": tokens[origin]})
            assert answer.status_code == 200, answer.text
            collected[origin] = answer.json()
        for origin, answer in collected.items():
            assert answer["ok"] and answer["accepted"] and all(x["cosigned"] for x in answer["accepted"])
            company_key = (tmp_path / f"{origin}.pub").read_text().strip()
            for x in answer["accepted"]:  # cosigned by the group, over the company's own signature
                assert sorted(open_note(x["cosigned"], [company_key, group_key])[1]) == sorted([origin, "group-witness"])
        # results: A's posted as ``ledger publish quarter|year`` writes them, B's and C's fetched
        before = _stored_results()
        for level, period in (("quarter", "2019Q3"), ("year", "2019")):
            posted = group.post("/group/members/company-a/results", headers=AUTH,
                                json=results_bundle(engine_of(apps["company-a"]), level, period))
            assert posted.status_code == 201, posted.text
            assert posted.json()["accepted"]["period"] == period
            for origin in ("company-b", "company-c"):
                answer = group.post(f"/group/members/{origin}/results", headers=AUTH, json={
                    "url": f"http://{origin}.test", "token": tokens[origin], "level": level, "period": period})
                assert answer.status_code == 201, answer.text
        assert _stored_results() == before + 6

        members = {m["origin"]: m for m in group.get("/group/members").json()["members"]}
        assert not any(m["flagged"] for m in members.values())
        from adapters.integrity.group import open_group
        g = open_group(create=False)
        for origin in members:
            members[origin]["witnessed"] = g.store.seen(origin)
        g.store.close()
        for level, period in (("quarter", "2019Q3"), ("year", "2019")):
            data = group.get(f"/group/{level}/{period}").json()
            assert not data["flagged"] and not data["missing"]
            _assert_ranking(data, _expected(apps, level, period))
            _check_row_proofs(data["rows"], members, group_key, tmp_path)
            assert {(r["origin"], r["branch"]) for r in data["rows"]} == {
                (o, b) for o, scores in YEAR_SCORES.items() for b in scores}
            assert CliRunner().invoke(main, ["group", level, period, "--json"]).exit_code == 0

        # C rewrites its history and re-signs with its own key
        held_c = collected["company-c"]["held"]
        monkeypatch.setenv("LEDGER_ORIGIN", "company-c")
        monkeypatch.setenv("LEDGER_SIGNING_KEY", str(tmp_path / "company-c.key"))
        rewrite(apps["company-c"], "rewrite_and_resign_all", "C1")
        before = _stored_results()
        caught = group.post("/group/members/company-c/checkpoints", headers=AUTH,
                            json={"url": "http://company-c.test", "token": tokens["company-c"]})
        assert caught.status_code == 409, caught.text
        body = caught.json()
        assert body["error"]["field"] == "checkpoint" and "分叉" in body["error"]["reason"]
        assert body["verdict"] == "split_view" and not body["ok"] and not body["accepted"]
        evidence = body["evidence"]
        assert evidence["held"] == held_c["note"] and evidence["new"] != evidence["held"]
        c_key = (tmp_path / "company-c.pub").read_text().strip()
        old, new = (parse_checkpoint(open_note(evidence[k], [c_key])[0]) for k in ("held", "new"))
        assert old.size == new.size and old.root != new.root  # both signed by C's own key: the split view
        assert body["held"]["note"] == held_c["note"]  # the group still holds the checkpoint it witnessed
        # nothing more from C: its results (published before, or fetched now) are refused with the evidence
        for attempt in ({"url": "http://company-c.test", "token": tokens["company-c"], "level": "year", "period": "2019"},
                        results_bundle(engine_of(apps["company-c"]), "quarter", "2019Q3")):
            refused = group.post("/group/members/company-c/results", headers=AUTH, json=attempt)
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["field"] == "origin" and refused.json()["evidence"][0]["new"] == evidence["new"]
        again = group.post("/group/members/company-c/checkpoints", headers=AUTH,
                           json=publication(engine_of(apps["company-c"])))
        assert again.status_code == 409, "still refused"
        assert _stored_results() == before
        for origin in ("company-a", "company-b"):  # the others are collected as before
            answer = group.post(f"/group/members/{origin}/checkpoints", headers=AUTH,
                                json=publication(engine_of(apps[origin]), collected[origin]["held"]["size"]))
            assert answer.status_code == 200 and answer.json()["verdict"] == "same", answer.text
        members_now = {m["origin"]: m for m in group.get("/group/members").json()["members"]}
        assert {o: m["flagged"] for o, m in members_now.items()} == {
            "company-a": False, "company-b": False, "company-c": True}
        assert members_now["company-c"]["evidence"][0]["held"] == evidence["held"]
        for level, period in (("quarter", "2019Q3"), ("year", "2019")):
            data = group.get(f"/group/{level}/{period}").json()
            assert data["flagged"] == [{"origin": "company-c", "company": "丙公司"}]
            assert {r["origin"] for r in data["rows"]} == {"company-a", "company-b"}
            _assert_ranking(data, _expected({o: apps[o] for o in ("company-a", "company-b")}, level, period))


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_rewrite_is_caught_over_http(mutation: str, companies, urls, tmp_path,
                                           monkeypatch) -> None:
    _init_group()
    monkeypatch.setenv(OPERATOR_TOKEN, TOKEN)
    c = companies["company-c"]
    with TestClient(create_group_app()) as group:
        _register(group, tmp_path)
        held = {}
        for origin, app in companies.items():
            answer = group.post(f"/group/members/{origin}/checkpoints", headers=AUTH, json=publication(engine_of(app)))
            assert answer.status_code == 200, answer.text
            held[origin] = answer.json()["held"]
        monkeypatch.setenv("LEDGER_ORIGIN", "company-c")
        rewrite(c, mutation, "C1")
        caught = group.post("/group/members/company-c/checkpoints", headers=AUTH,
                            json=publication(engine_of(c), held["company-c"]["size"]))
        assert caught.status_code == 409, caught.text
        body = caught.json()
        assert body["verdict"] in ("split_view", "rollback") and body["error"]["field"] == "checkpoint"
        c_key = (tmp_path / "company-c.pub").read_text().strip()
        assert body["evidence"]["held"] == held["company-c"]["note"]
        assert open_note(body["evidence"]["new"], [c_key])[1] == ["company-c"]  # re-signed with C's own key
        assert body["evidence"]["new"] != body["evidence"]["held"]
        refused = group.post("/group/members/company-c/results", headers=AUTH,
                             json=results_bundle(engine_of(companies["company-a"]), "quarter", "2019Q3"))
        assert refused.status_code == 409
        assert [m["flagged"] for m in group.get("/group/members").json()["members"]].count(True) == 1


def test_writes_need_the_operator_token_and_create_nothing(tmp_path, monkeypatch) -> None:
    store = Path(os.environ["LEDGER_GROUP_DATABASE_URL"].removeprefix("sqlite:///"))
    key = Path(os.environ["LEDGER_GROUP_KEY"])
    from adapters.store.tree import load_or_create_signer
    member = {"name": "甲公司", "origin": "company-a",
              "key": load_or_create_signer(tmp_path / "a.key", "company-a").verifier_key}
    with TestClient(create_group_app()) as group:
        monkeypatch.delenv(OPERATOR_TOKEN, raising=False)
        off = group.post("/group/members", headers=AUTH, json=member)
        assert off.status_code == 503 and off.json()["error"]["field"] == OPERATOR_TOKEN
        monkeypatch.setenv(OPERATOR_TOKEN, "short")
        assert group.post("/group/members", headers={"Authorization": "Bearer short"}, json=member).status_code == 503
        monkeypatch.setenv(OPERATOR_TOKEN, TOKEN)
        for headers in ({}, {"Authorization": "Bearer " + TOKEN[:-1] + "x"}, {"Authorization": f"Basic {TOKEN}"}):
            for path in ("/group/members", "/group/members/company-a/checkpoints", "/group/members/company-a/results"):
                answer = group.post(path, headers=headers, json=member)
                assert answer.status_code == 401 and answer.json()["error"]["field"] == "Authorization", (path, answer.text)
        for path in ("/group/members", "/group/members/company-a/checkpoints", "/group/members/company-a/results"):
            answer = group.post(path, headers=AUTH, json=member)  # the right token, but no group ledger yet
            assert answer.status_code == 503 and answer.json()["error"]["field"] == "store", answer.text
        assert group.get("/group/members").status_code == 503
        assert not store.exists() and not key.exists()
        group_key = _init_group()
        answer = group.post("/group/members/company-a/checkpoints", headers=AUTH, json={})
        assert answer.status_code == 404 and answer.json()["error"]["field"] == "origin"  # not registered
        assert group.post("/group/members", headers=AUTH, json=member).status_code == 201
        assert group.post("/group/members", headers=AUTH, json={  # another key for the origin
            **member, "key": load_or_create_signer(tmp_path / "b.key", "company-a").verifier_key}).status_code == 409
        for body in ({}, {"url": "file:///etc/passwd"}):
            answer = group.post("/group/members/company-a/checkpoints", headers=AUTH, json=body)
            assert answer.status_code == 422, answer.text
        assert group.post("/group/members/company-a/checkpoints", headers=AUTH,
                          json={"url": "http://127.0.0.1:9/"}).status_code == 502  # nothing listens there
        key.unlink()  # a group ledger whose witness key is gone: collecting cannot cosign
        publication_of_a = {"format": FORMAT, "kind": "publication", "from_size": 0, "checkpoints": [{"note": "x"}]}
        gone = group.post("/group/members/company-a/checkpoints", headers=AUTH, json=publication_of_a)
        assert gone.status_code == 503 and gone.json()["error"]["field"] == "LEDGER_GROUP_KEY", gone.text
        bad = group.post("/group/members", headers=AUTH, json={**member, "origin": "company-x", "key": "not a key"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "key"
        missing = group.post("/group/members", headers=AUTH, json={"name": "甲公司"})
        assert missing.status_code == 422 and missing.json()["error"]["field"] == "origin"
        members = group.get("/group/members").json()["members"]
        assert [(m["origin"], m["size"]) for m in members] == [("company-a", None)]  # registered, nothing collected
        assert not key.exists() and group_key


def test_the_group_demo_prints_what_the_docs_show(tmp_path) -> None:
    """``scripts/demo_group.py`` (docs/witness-and-group.md, README): real servers, every company
    collected and accepted, six branches ranked per level, then the rewrite caught with 409."""
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    (tmp_path / "demo").mkdir()
    done = subprocess.run([sys.executable, "scripts/demo_group.py", str(tmp_path / "demo")], capture_output=True,
                          text=True, timeout=300, env=env, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    statuses = [line.split(" ", 1)[0] for line in done.stdout.splitlines() if line[:3].isdigit()]
    assert statuses == ["401", "201", "201", "201", "200", "200", "200", *["201"] * 6, "200", "200", "409", "409",
                        "200"], done.stdout
    assert done.stdout.count("#    ") == 12  # six ranked rows per level
    assert '"verdict": "split_view"' in done.stdout and "ranked: ['乙公司', '甲公司']; flagged: ['丙公司']" in done.stdout
