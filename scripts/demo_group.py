"""Demo of the group ledger over HTTP (issue 17.2, docs/witness-and-group.md): three small
companies, each its own SQLite ledger with its own key and origin, each served by ``ledger serve``;
the group ledger served by ``ledger group serve`` with an operator token. The group registers
them, collects and cosigns their checkpoints (甲公司's posted as a publication bundle, 乙's and
丙's fetched from their servers), accepts their 2019Q3 and 2019 results and ranks every
branch; then 丙公司's operator replaces its history with another one, signed with its own key,
and the group answers 409 with both checkpoints and accepts nothing more from it.

Run ``python scripts/demo_group.py [DIR]`` (DIR: where the databases and keys go; default a
new temporary directory). Every request is printed as ``curl`` would send it, with the status
and the JSON answered (long strings and lists shortened with …).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.bootstrap import close, engine_of, make_ledger, migration_user  # noqa: E402
from adapters.integrity.group import results_bundle  # noqa: E402
from adapters.integrity.monitor import publication  # noqa: E402
from domain.periods import month_range  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = "demo-group-operator-token-0123456789abcdef"
COMPANIES = {"company-a": ("甲公司", {"A1": ("-1", "96", "92"), "A2": ("-3", "99", "97")}),
             "company-b": ("乙公司", {"B1": ("-0.5", "91", "93"), "B2": ("-2", "98", "95")}),
             "company-c": ("丙公司", {"C1": ("-1.5", "94", "99"), "C2": ("-4", "97", "90")})}


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``ledger ARGS --port P`` in a subprocess, once it answers ``/openapi.json``."""
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-c", "from adapters.cli.main import main; main()", *args,
                             "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, stdout=out,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/openapi.json", timeout=2).close()  # noqa: S310 - our own server
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    raise SystemExit(f"server did not start: {log.read_text(errors='replace')}")


def short(value: Any, items: int = 3) -> Any:
    """Long strings (notes, hashes, payloads; not the Chinese reasons) and lists longer than
    ``items`` shortened for printing."""
    if isinstance(value, str):
        if len(value) <= 48 or any("\u4e00" <= ch <= "\u9fff" for ch in value):
            return value
        return value[:40].replace("\n", "⏎") + "…"
    if isinstance(value, list):
        return [short(v, items) for v in value[:items]] + (["…"] if len(value) > items else [])
    if isinstance(value, dict):
        return {k: short(v, items) for k, v in value.items()}
    return value


def call(method: str, url: str, path: str, body: Any = None, token: str | None = OPERATOR, shown: str = "",
         items: int = 3) -> Any:
    """One request, printed as curl would send it, with its answer."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    print(f"\n$ curl -X {method} $GROUP{path}" + (' -H "Authorization: Bearer $OPERATOR"' if token else "")
          + (f" -d {shown or json.dumps(short(body), ensure_ascii=False)!r}" if data else ""))
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - our own server
            status, content = answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        status, content = e.code, json.loads(e.read())
    print(f"{status} {json.dumps(short(content, items), ensure_ascii=False)}")
    return content


def company(origin: str, scores: dict[str, tuple[str, str, str]], url: str) -> Any:
    """A company with all of 2019 approved, a draft −1 in 2020-01 and a checkpoint."""
    app = make_ledger(url)
    app.default_user = migration_user(app, "admin", "migration")
    for code in scores:
        app.register_branch(code=code, name=f"{code}支部", members=20)
        app.appoint_secretary(branch=code, name=f"{code}书记", mode="full_time", from_month="2019-01", actor="r")
    for m in ("2019-07", "2019-08", "2019-09"):
        for code, (points, _, _) in scores.items():
            app.record_score(branch=code, period=m, category="political", points=points, reason="未按时召开支委会",
                             department="party_mass", actor="scorer")
    for m in month_range("2019-01", 12):
        app.submit_month(period=m, actor="aggregator")
        app.approve_month(period=m, actor="approver")
    for q in range(1, 5):
        app.approve_quarter(period=f"2019Q{q}", actor="approver")
    for code, (_, unit, debriefing) in scores.items():
        app.record_unit_performance(branch=code, year="2019", score=unit, actor="performance")
        app.record_debriefing(branch=code, year="2019", score=debriefing, actor="committee")
    app.approve_year(year="2019", actor="公司党委会")
    app.command("create_user", as_user="admin", user="group", name="集团", actor="admin")
    app.command("grant_role", as_user="admin", user="group", role="auditor", actor="admin")
    return app


def main(directory: Path) -> None:
    servers: list[subprocess.Popen[bytes]] = []
    try:
        run(directory, servers)
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=15)


def run(directory: Path, servers: list[subprocess.Popen[bytes]]) -> None:
    os.environ.update({"LEDGER_GROUP_DATABASE_URL": f"sqlite:///{directory / 'group.sqlite3'}",
                       "LEDGER_GROUP_KEY": str(directory / "group.key")})
    apps, env, urls, tokens = {}, {}, {}, {}
    for origin, (_, scores) in COMPANIES.items():
        env[origin] = {"LEDGER_ORIGIN": origin, "LEDGER_SIGNING_KEY": str(directory / f"{origin}.key"),
                       "LEDGER_DATABASE_URL": f"sqlite:///{directory / f'{origin}.sqlite3'}",
                       "LEDGER_KEYSTORE": str(directory / f"{origin}-keys.sqlite3"),
                       "LEDGER_ATTACHMENTS": str(directory / f"{origin}-attachments")}
        os.environ.update(env[origin])
        app = apps[origin] = company(origin, scores, env[origin]["LEDGER_DATABASE_URL"])
        tokens[origin] = app.command("issue_token", as_user="admin", user="group", actor="admin")["token"]
        if origin == "company-c":  # the copy its operator will later put back (step 5)
            with sqlite3.connect(directory / f"{origin}.sqlite3") as src, \
                    sqlite3.connect(directory / f"{origin}-before.sqlite3") as dst:
                src.backup(dst)
        app.record_score(branch=next(iter(scores)), period="2020-01", category="political", points="-1",
                         reason="未按时召开支委会", department="party_mass", actor="scorer")
        app.recorder.make_checkpoint("供集团收取")
        (directory / f"{origin}.pub").write_text(app.recorder.signer().verifier_key + "\n", encoding="utf-8")
        if origin != "company-a":
            proc, urls[origin] = start(["serve"], env[origin], directory / f"{origin}.log")
            servers.append(proc)
    subprocess.run([sys.executable, "-c", "from adapters.cli.main import main; main()", "group", "init"],
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True, capture_output=True)
    proc, group = start(["group", "serve"], {"LEDGER_GROUP_OPERATOR_TOKEN": OPERATOR}, directory / "group.log")
    servers.append(proc)
    print(f"# GROUP={group}  OPERATOR=…（LEDGER_GROUP_OPERATOR_TOKEN）; 乙公司 at {urls['company-b']}, "
          f"丙公司 at {urls['company-c']}")

    print("\n# 1. register the three companies (name, origin, key: each company's `ledger key show`)")
    call("POST", group, "/group/members", {"name": "甲公司", "origin": "company-a", "key": "company-a+…"}, token=None,
         shown='{"name": "甲公司", "origin": "company-a", "key": "…"}')
    for origin, (name, _) in COMPANIES.items():
        key = (directory / f"{origin}.pub").read_text().strip()
        call("POST", group, "/group/members", {"name": name, "origin": origin, "key": key},
             shown=json.dumps({"name": name, "origin": origin, "key": short(key)}, ensure_ascii=False))

    print("\n# 2. collect: 甲公司's publication posted (ledger publish checkpoint --out a.json; -d @a.json),"
          " 乙 and 丙 fetched from their ledger serve")
    call("POST", group, "/group/members/company-a/checkpoints", publication(engine_of(apps["company-a"])),
         shown="@a.json")
    for origin in ("company-b", "company-c"):
        call("POST", group, f"/group/members/{origin}/checkpoints", {"url": urls[origin], "token": tokens[origin]},
             shown=json.dumps({"url": urls[origin], "token": "…"}, ensure_ascii=False))

    print("\n# 3. accept 2019Q3 and 2019: 甲公司's bundles posted (ledger publish quarter 2019Q3 --out q.json),"
          " the others fetched")
    for level, period in (("quarter", "2019Q3"), ("year", "2019")):
        call("POST", group, "/group/members/company-a/results", results_bundle(engine_of(apps["company-a"]), level, period),
             shown=f"@{'q' if level == 'quarter' else 'y'}.json")
        for origin in ("company-b", "company-c"):
            call("POST", group, f"/group/members/{origin}/results",
                 {"url": urls[origin], "token": tokens[origin], "level": level, "period": period},
                 shown=json.dumps({"url": urls[origin], "token": "…", "level": level, "period": period}, ensure_ascii=False))

    print("\n# 4. the group-wide rankings (no token: reads are open); each row carries its proof")
    for path in ("/group/quarter/2019Q3", "/group/year/2019"):
        data = call("GET", group, path, token=None, items=1)
        for r in data["rows"]:
            print(f"#   {r['group_rank']:>2}  {r['company']}  {r['branch']}  {r['score']}")

    print("\n# 5. 丙公司's operator swaps in another 2020-01 (−0.1 for −1), re-signed with 丙's own key")
    c = apps["company-c"]
    servers[1].terminate()
    servers[1].wait(timeout=15)
    close(c)
    rewrite_history(directory / "company-c.sqlite3", env["company-c"])
    proc, urls["company-c"] = start(["serve"], env["company-c"], directory / "company-c-2.log")
    servers[1] = proc
    call("POST", group, "/group/members/company-c/checkpoints", {"url": urls["company-c"], "token": tokens["company-c"]},
         shown=json.dumps({"url": urls["company-c"], "token": "…"}, ensure_ascii=False))
    call("POST", group, "/group/members/company-c/results",
         {"url": urls["company-c"], "token": tokens["company-c"], "level": "year", "period": "2019"},
         shown=json.dumps({"url": urls["company-c"], "token": "…", "level": "year", "period": "2019"}, ensure_ascii=False))
    data = call("GET", group, "/group/year/2019", token=None, items=1)
    print(f"#   ranked: {sorted({r['company'] for r in data['rows']})}; flagged: {[f['company'] for f in data['flagged']]}")
    for a in apps.values():
        close(a)


def rewrite_history(path: Path, env: dict[str, str]) -> None:
    """What an operator with the company's key can do without touching a trigger: put back the
    database as it was before the 2020-01 draft (a copy), record another draft instead and sign
    a checkpoint of it — a history of the same length, not the one the group witnessed."""
    before = path.with_name(path.stem + "-before.sqlite3")
    src = sqlite3.connect(before)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    os.environ.update(env)
    app = make_ledger(env["LEDGER_DATABASE_URL"])
    app.default_user = "migration"
    app.record_score(branch="C1", period="2020-01", category="political", points="-0.1", reason="未按时召开支委会",
                     department="party_mass", actor="scorer")
    app.recorder.make_checkpoint("供集团收取")
    close(app)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="ledger-group-demo-")))
