"""The web pages in-process (FastAPI's test client), on SQLite and PostgreSQL: log-in and
sessions, CSRF, read scopes through the API's own endpoints, refusals shown in Chinese with
nothing written, the appeal story, receipts, exports equal to the CLI's, charts, passwords
outside the log. The same story in a real browser: ``tests/browser/test_web_browser.py``."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree

from click.testing import CliRunner
from openpyxl import load_workbook

from adapters.bootstrap import engine_of
from adapters.cli.main import main as cli
from adapters.credentials import ACCOUNT, CREDENTIALS, Credentials
from adapters.store.proofs import verify_bundle
from adapters.web.charts import bar_chart, line_chart, rank_chart
from tests.helpers import events
from tests.web_fixture import PASSWORD, Site, csrf_of, flash_of, login, set_passwords


def test_login_sessions_and_lockout(site: Site) -> None:
    anonymous = site.client(None)
    first = anonymous.get("/web/quarter/2019Q3", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/web/login?next=%2Fweb%2Fquarter%2F2019Q3"
    assert anonymous.get("/").headers.get("content-type", "").startswith("text/html")  # / → /web/ → log-in

    page = anonymous.get("/web/login")
    assert "Content-Security-Policy" in page.headers and page.headers["X-Frame-Options"] == "DENY"
    # The log-in form's own token: a post from elsewhere (no cookie) is refused.
    elsewhere = site.client(None)
    elsewhere.cookies.set("ledger_login", "y")
    forged = elsewhere.post("/web/login", data={"user": "sec-a", "password": PASSWORD, "login_csrf": "x"},
                            follow_redirects=False)
    assert forged.status_code == 403

    credentials = site.web.state.web.credentials  # a stopped clock: the 1 s delay must not pass on a busy machine
    real_clock, moment = credentials.clock, credentials.clock()
    credentials.clock = lambda: moment
    wrong = login(anonymous, "sec-a", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert login(anonymous, "nobody", PASSWORD).status_code == 401  # same answer for an unknown user
    for _ in range(ACCOUNT.free - 1):
        last = login(anonymous, "sec-a", "not-the-password")
    assert last.status_code == 401  # the failure that starts the delays is answered like the others
    waits = login(anonymous, "sec-a")  # within the delay even the right password waits (it passes after:
    assert waits.status_code == 429 and "秒后再试" in waits.text  # tests/api/test_web_auth_truth.py)
    refusals = site.ledger.security_log.rows("sec-a")  # type: ignore[union-attr]
    assert {r["op"] for r in refusals} == {"web login"} and len(refusals) == ACCOUNT.free + 1
    credentials.clock = real_clock

    # Log-in, a page, log-out: the old cookie is dead (server-side session).
    auditor = site.client("auditor")
    home = auditor.get("/web/")
    assert home.status_code == 200 and "纪检监察部审计" in home.text and "/web/audit" in home.text
    cookie = auditor.cookies.get("ledger_session")
    assert auditor.post("/web/logout", data={"csrf": csrf_of(home.text)}, follow_redirects=False).status_code == 303
    replay = site.client(None)
    replay.cookies.set("ledger_session", cookie)
    assert replay.get("/web/", follow_redirects=False).status_code == 303


def test_passwords_stay_out_of_the_log(site: Site, db_url: str) -> None:
    runner = CliRunner()
    env = {"LEDGER_DATABASE_URL": db_url}
    before = len(events(site.ledger))
    done = runner.invoke(cli, ["--as", "admin", "user", "password", "auditor", "--stdin"], input="new-secret-2020\n",
                         env=env)
    assert done.exit_code == 0, done.output
    refused = runner.invoke(cli, ["--as", "sec-a", "user", "password", "sec-b", "--stdin"], input="x-secret-2020\n",
                            env=env)
    assert refused.exit_code == 1 and "需要角色 admin" in refused.output
    short = runner.invoke(cli, ["--as", "admin", "user", "password", "auditor", "--stdin"], input="short\n", env=env)
    assert short.exit_code == 1 and "至少 8 个字符" in short.output
    assert len(events(site.ledger)) == before  # no event for a password
    payloads = b"".join(e.raw.__repr__().encode() for e in events(site.ledger))
    assert b"new-secret-2020" not in payloads and b"argon2" not in payloads
    with engine_of(site.ledger).connect() as conn:
        stored = conn.execute(CREDENTIALS.select().where(CREDENTIALS.c.user_id == "auditor")).first()
    assert stored.hash.startswith("$argon2id$") and "new-secret-2020" not in stored.hash
    assert login(site.client(None), "auditor").status_code == 401  # the old password no longer works
    assert login(site.client(None), "auditor", "new-secret-2020").status_code == 303
    assert Credentials(engine_of(site.ledger)).verify("auditor", "new-secret-2020")

    # A user changes their own password on the page (old one required); their sessions end.
    sec = site.client("sec-a")
    form = sec.get("/web/password")
    wrong = sec.post("/web/password", data={"csrf": csrf_of(form.text), "old": "nope-nope", "new": "brand-new-pass",
                                            "again": "brand-new-pass", "next": "/web/password"})
    assert flash_of(wrong.text) == "error:未能完成：原密码不正确（字段old）"
    changed = sec.post("/web/password", data={"csrf": csrf_of(form.text), "old": PASSWORD, "new": "brand-new-pass",
                                              "again": "brand-new-pass"}, follow_redirects=False)
    assert changed.headers["location"] == "/web/login"
    assert login(site.client(None), "sec-a", "brand-new-pass").status_code == 303


def test_scopes_follow_the_api(site: Site) -> None:
    sec_a = site.client("sec-a")
    page = sec_a.get("/web/branch/A?month=2019-09")
    assert page.status_code == 200
    assert "支委会未按时召开" in page.text and page.text.count('class="button appeal-button"') == 1
    assert 'href="/web/explain/month/2019-09?branch=A#entry-' in page.text  # numbers explained
    other = sec_a.get("/web/branch/B?month=2019-07")
    assert other.status_code == 403 and "无权查看支部 B 的记录" in other.text and "appeal-button" not in other.text
    assert sec_a.get("/web/explain/month/2019-07?branch=B").status_code == 403
    assert sec_a.get("/web/audit?branch=B").status_code == 403
    log = site.ledger.security_log.rows("sec-a")  # type: ignore[union-attr]
    assert {r["op"] for r in log} >= {"GET /web/branch/B", "GET /web/audit"}
    # The published ranking shows every branch; only the own branch's numbers link to explanations.
    ranking = sec_a.get("/web/quarter/2019Q3").text
    assert all(b in ranking for b in ('data-branch="A"', 'data-branch="B"', 'data-branch="C"'))
    assert "/web/explain/quarter/2019Q3?branch=A" in ranking and "/web/explain/quarter/2019Q3?branch=B" not in ranking
    # A reader of every branch: every number in the ranking links to its explanation.
    table = re.search(r'<table class="results ranking".*?</table>', site.client("auditor").get(
        "/web/quarter/2019Q3").text, re.S).group(0)  # type: ignore[union-attr]
    cells = re.findall(r'<td class="n[^"]*">(.*?)</td>', table, re.S)
    assert len(cells) == 3 * 7 and all('<a class="num" href="/web/explain/' in cell for cell in cells)
    # The auditor sees B's page but no appeal button (not B's secretary).
    assert "appeal-button" not in site.client("auditor").get("/web/branch/B?month=2019-07").text
    # An admin without other roles reads no results.
    admin = site.client(None)
    set_passwords(site.ledger, ["admin"])
    assert login(admin, "admin").status_code == 303
    assert "系统管理员只管理用户与角色" in admin.get("/web/").text
    assert admin.get("/web/quarter/2019Q3").status_code == 403


def test_refusals_in_chinese_and_nothing_written(site: Site) -> None:
    scorer = site.client("scorer-pm")
    page = scorer.get("/web/scoring?month=2019-09")
    token, before = csrf_of(page.text), len(events(site.ledger))
    sealed = scorer.post("/web/score", data={"csrf": token, "branch": "A", "period": "2019-09",
                                             "category": "party_mass/political", "points": "-1", "reason": "迟到",
                                             "next": "/web/scoring?month=2019-09"})
    assert sealed.status_code == 200 and flash_of(sealed.text).startswith("error:未能完成：")
    assert "2019-09" in flash_of(sealed.text)
    other_department = scorer.post("/web/score", data={"csrf": token, "branch": "A", "period": "2019-10",
                                                       "category": "discipline_inspection/conduct", "points": "-1",
                                                       "reason": "会风", "next": "/web/scoring?month=2019-10"})
    assert "需要角色scorer:discipline_inspection" in flash_of(other_department.text)
    bad_points = scorer.post("/web/score", data={"csrf": token, "branch": "A", "period": "2019-10",
                                                 "category": "party_mass/political", "points": "-1.234",
                                                 "reason": "x", "next": "/web/scoring?month=2019-10"})
    assert "字段points" in flash_of(bad_points.text)
    no_csrf = scorer.post("/web/score", data={"branch": "A", "period": "2019-10", "category": "party_mass/political",
                                              "points": "-1", "reason": "x"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    # Another branch's secretary forging an appeal on A's entry: refused by the one check.
    sec_b = site.client("sec-b")
    forged = sec_b.post("/web/appeal", data={"csrf": csrf_of(sec_b.get("/web/").text), "entry_id": site.ids["w/09/A"],
                                             "branch": "A", "reason": "不是本支部", "next": "/web/"})
    assert "需要角色secretary:A" in flash_of(forged.text)
    assert len(events(site.ledger)) == before  # every refusal wrote nothing

    # A scorer records, the aggregator submits: the progress shows it; a second post of the form is applied once.
    page = scorer.get("/web/scoring?month=2019-10")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"csrf": token, "branch": "B", "period": "2019-10", "category": "party_mass/ideological",
            "points": "-1.5", "reason": "思想动态分析未按时报送", "key": key, "next": "/web/scoring?month=2019-10"}
    assert flash_of(scorer.post("/web/score", data=form).text).startswith("ok:已录入")
    assert flash_of(scorer.post("/web/score", data=form).text) == "ok:此表单已提交过，未重复记录"
    progress = scorer.get("/web/scoring?month=2019-10").text
    assert '<strong id="progress">1 / 3</strong>' in progress and "思想动态分析未按时报送" in progress
    aggregator = site.client("aggregator")
    token_g = csrf_of(aggregator.get("/web/scoring?month=2019-10").text)
    submitted = aggregator.post("/web/month/2019-10/submit", data={"csrf": token_g, "next": "/web/scoring?month=2019-10"})
    assert flash_of(submitted.text) == "ok:2019-10已提交"
    again = aggregator.post("/web/month/2019-10/submit", data={"csrf": token_g, "next": "/web/scoring?month=2019-10"})
    assert flash_of(again.text).startswith("error:")
    not_theirs = aggregator.post("/web/month/2019-10/approve", data={"csrf": token_g, "next": "/web/"})
    assert "需要角色approver" in flash_of(not_theirs.text)
    assert len(events(site.ledger)) == before + 3  # the month opened, the entry, the submission
    approver = site.client("approver")
    desk = approver.get("/web/committee?year=2019").text
    assert 'action="/web/month/2019-10/approve"' in desk and 'action="/web/decide"' not in desk
    approved = approver.post("/web/month/2019-10/approve", data={"csrf": csrf_of(desk), "next": "/web/committee"})
    assert flash_of(approved.text) == "ok:2019-10已审批封存"
    assert "2019-10" in approver.get("/web/month/2019-10").text and "已审批" in approver.get("/web/month/2019-10").text


def test_appeal_story_receipt_whatif_and_diff(site: Site) -> None:
    sec_a = site.client("sec-a")
    page = sec_a.get("/web/branch/A?month=2019-09")
    key = re.search(r'name="key" value="(web/[^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf_of(page.text), "entry_id": site.ids["w/09/A"], "branch": "A", "key": key,
            "reason": "支委会已于9月5日召开，记录附后", "next": "/web/branch/A?month=2019-09"}
    filed = sec_a.post("/web/appeal", data=form)
    assert flash_of(filed.text).startswith("ok:申诉已提交") and "待决定" in filed.text
    assert flash_of(sec_a.post("/web/appeal", data=form).text) == "ok:此表单已提交过，未重复记录"
    assert [e.name for e in events(site.ledger)].count("EntryAppeals.Filed") == 1
    position = int(re.search(r'action="/web/receipt/(\d+)"', filed.text).group(1))  # type: ignore[union-attr]
    receipt = sec_a.post(f"/web/receipt/{position}", data={"csrf": form["csrf"]})
    assert receipt.headers["content-disposition"] == f'attachment; filename="receipt-{position}.json"'
    key_text = site.ledger.recorder.signer().verifier_key  # type: ignore[attr-defined]
    assert verify_bundle(receipt.json(), key_text).startswith("成立")

    committee = site.client("committee")
    before_decision = datetime.now(timezone.utc).isoformat()
    desk = committee.get("/web/committee?year=2019").text
    case = re.search(r'<article class="panel appeal-case".*?</article>', desk, re.S).group(0)  # type: ignore[union-attr]
    assert "支委会已于9月5日召开" in case and "99.00 / 第2名 / 0.00 / 0.00" in case  # A if upheld
    decided = committee.post("/web/decide", data={
        "csrf": csrf_of(desk), "appeal_id": re.search(r'name="appeal_id" value="([^"]+)"', case).group(1),  # type: ignore[union-attr]
        "decision": "upheld", "points": "0", "reason": "记录属实", "next": "/web/committee?year=2019"})
    assert flash_of(decided.text) == "ok:已决定：申诉成立，已更正该条目" and "没有待决定的申诉" in decided.text
    quarter = committee.get("/web/quarter/2019Q3").text
    diff = re.search(r'<table class="diff".*?</table>', quarter, re.S).group(0)  # type: ignore[union-attr]
    assert "97.33 / 第3名 / 0.00 / 2,000.00" in diff and "99.00" in diff and "更正得分" in diff
    assert re.search(r'data-branch="A"><td class="n"><a class="num"[^>]*>2</a>', quarter)  # A is second today
    # As of a moment before the decision: the ranking as the ledger knew it then (A third, fined).
    then = committee.get("/web/quarter/2019Q3", params={"as_of": before_decision}).text
    assert "截至 " + before_decision in then
    assert re.search(r'data-branch="A"><td class="n"><a class="num"[^>]*>3</a>', then) and "2,000.00" in then
    assert committee.get("/web/quarter/2019Q3?as_of=2019-01-01").status_code == 503  # no ledger yet then
    assert committee.get("/web/quarter/2019Q3?as_of=yesterday").status_code == 422
    # The secretary sees the decision and both receipts.
    mine = sec_a.get("/web/branch/A?month=2019-09").text
    assert "申诉成立" in mine and "receipt-decided" in mine and "记录属实" in mine
    # The auditor sees the filing, the decision and the correction in A's history, filtered.
    history = site.client("auditor").get("/web/audit?branch=A&period=2019Q3&actor=周建国").text
    assert re.findall(r'data-event="([^"]+)"', history) == ["EntryAppeals.Filed"]
    everything = site.client("auditor").get("/web/audit?branch=A&period=2019-09").text
    assert {"EntryAppeals.Filed", "EntryAppeals.Decided", "AssessmentMonth.EntryCorrected"} <= set(
        re.findall(r'data-event="([^"]+)"', everything))


def test_verify_now_checkpoint_and_print(site: Site) -> None:
    auditor = site.client("auditor")
    page = auditor.get("/web/audit?branch=A")
    assert "dangjian-ledger" in page.text  # the latest signed checkpoint
    verified = auditor.post("/web/audit/verify", data={"csrf": csrf_of(page.text), "branch": "A"})
    assert verified.status_code == 200 and "全部相符" in verified.text and "支部 A：" in verified.text
    printed = auditor.get("/web/print/quarter/2019Q3").text
    assert "2019Q3 季度党建考核排名公示" in printed and '<pre class="note">dangjian-ledger' in printed
    assert "包含证明" in printed and "print-page" in printed
    assert auditor.get("/web/print/year/2019").status_code == 200  # a draft year: no checkpoint block needed
    made = auditor.post("/web/checkpoint", data={"csrf": csrf_of(page.text), "next": "/web/audit"})
    said = flash_of(made.text)  # a new checkpoint, or the latest when it already covers the whole log
    assert said.startswith("ok:已生成第") or (said.startswith("ok:第") and "未签发新检查点" in said), said


def test_verify_now_lists_each_problem_in_chinese(site: Site) -> None:
    """A check that finds problems lists them (up to 50) by position and Chinese name, as
    ``ledger verify`` prints them — never the bare kind or "位置 None" (issue 14 item 11)."""
    from adapters.integrity.verify import PROBLEM_NAMES
    from tests.contract.test_tamper import drop_triggers, payload_byte_changed
    engine = engine_of(site.ledger)
    with engine.begin() as conn:
        drop_triggers(conn, engine.dialect.name)
        kind, position = payload_byte_changed(conn, site.ledger)
    auditor = site.client("auditor")
    page = auditor.get("/web/audit")
    answer = auditor.post("/web/audit/verify", data={"csrf": csrf_of(page.text)}).text
    listed = re.findall(r"<li>(.*?)</li>", answer.split('id="verify-problems"')[1].split("</ol>")[0], re.S)
    assert "发现" in answer and "全部相符" not in answer and listed
    assert any(item.strip().startswith(f"位置 {position}：{PROBLEM_NAMES[kind]}（{kind}）") for item in listed), listed
    assert "位置 None" not in answer


def test_exports_match_the_cli(site: Site, db_url: str, tmp_path: Path) -> None:
    web = site.client("committee")
    runner = CliRunner()
    for kind, period in (("month", "2019-09"), ("quarter", "2019Q3"), ("year", "2019")):
        response = web.get(f"/web/export/{kind}/{period}.xlsx")
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        (tmp_path / "web.xlsx").write_bytes(response.content)
        done = runner.invoke(cli, ["export", kind, period, "--xlsx", str(tmp_path / "cli.xlsx")],
                             env={"LEDGER_DATABASE_URL": db_url})
        assert done.exit_code == 0, done.output
        a, b = (load_workbook(tmp_path / f).active for f in ("web.xlsx", "cli.xlsx"))
        rows = lambda ws: [r for i, r in enumerate(ws.iter_rows(values_only=True), 1) if i != 2]  # noqa: E731
        assert rows(a) == rows(b) and len(rows(a)) == 6  # title, blank, header, three branches
    history = web.get("/web/export/history.xlsx?branch=A&period=2019-07")
    (tmp_path / "h.xlsx").write_bytes(history.content)
    sheet = load_workbook(tmp_path / "h.xlsx").active
    assert [sheet.cell(5 + i, 3).value for i in range(2)] == ["AssessmentMonth.ScoreRecorded", "AssessmentMonth.Approved"]
    assert site.client("sec-b").get("/web/export/history.xlsx?branch=A").status_code == 403
    assert site.client("sec-b").get("/web/export/quarter/2019Q4.xlsx").status_code == 200  # rankings are published


def test_charts_are_wellformed_svg() -> None:
    line = line_chart("A 2019 年月度得分", ["7月", "8月", "9月"], ["98.00", None, "95.00"],
                      ["/web/x?a=1&b=2", None, None], 100, "基础分 100")
    ranks = rank_chart("名次", ["2019Q2", "2019Q3"], {"A": [1, 3], "B": [3, None], "C": [2, 1]},
                       {"A": ["/1", "/2"]}, "A")
    bars = bar_chart("扣分来源", [("组织建设", "-5.00", "/e"), ("政治建设 <&>", "-2.00", None)])
    empty = bar_chart("扣分来源", [])
    for svg in (line, ranks, bars, empty):
        root = ElementTree.fromstring(svg)  # well-formed: every text escaped
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and "style=" not in svg
    assert "98.00" in line and "95.00" in line and 'href="/web/x?a=1&amp;b=2"' in line
    assert "第3名" in ranks and ranks.count("<polyline") == 2  # B's line breaks where unranked
    assert "政治建设 &lt;&amp;&gt;" in bars and "（无扣分）" in empty
