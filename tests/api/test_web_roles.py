"""Every role's daily work on the web pages, in-process (FastAPI's test client), on SQLite and
PostgreSQL: the forms go through the API's command path (the one permission check), a
refused form keeps what was typed and writes nothing, talk summaries are shown only to those
allowed, entry forms are not offered on sealed months, and a crawl of every link reachable
from each role's start page finds no 4xx or 5xx. The same in a real browser:
``tests/browser/test_web_browser.py::test_every_role_in_a_real_browser``."""
from __future__ import annotations

import html as htmllib
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import urljoin, urlsplit

import pytest

from adapters.http.app import create_app
from domain.service.application import Ledger
from tests.helpers import events
from tests.web_fixture import csrf_of, flash_of, login
from tests.web_roles_fixture import SUMMARY, prepare_roles

ROLES = ("sec-a", "sec-b", "scorer-pm", "scorer-di", "aggregator", "approver", "committee", "auditor", "registrar",
         "perf", "admin")


@dataclass
class Site:
    ledger: Ledger
    ids: dict[str, str]
    client: Callable[[str], Any]


@pytest.fixture
def site(app: Ledger, db_url: str) -> Iterator[Site]:
    ids = prepare_roles(app)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    web = create_app(db_url)

    def client(user: str) -> Any:
        c = TestClient(web, base_url="http://127.0.0.1")
        assert login(c, user).status_code == 303
        return c
    yield Site(app, ids, client)
    web.state.service.close()


def post_form(client: Any, page: str, form_id: str, values: dict[str, str]) -> Any:
    """Post the form ``form_id`` of ``page`` as a browser would: its hidden fields, then
    ``values``; follow the redirect back to the page."""
    text = client.get(page).text
    found = re.search(rf'<form method="post" action="([^"]+)"[^>]*id="{re.escape(form_id)}".*?</form>', text, re.S)
    assert found, f"no form {form_id} on {page}"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found.group(0)))
    hidden = {k: htmllib.unescape(v) for k, v in hidden.items()}
    return client.post(found.group(1), data={**hidden, **values})


def test_a_secretary_records_the_days_work(site: Site) -> None:
    sec = site.client("sec-a")
    talks = sec.get("/web/branch/A/talks").text
    statuses = re.findall(r'<tr data-status="(\w+)"', talks)
    assert statuses == ["overdue", "answered"]  # due and overdue first
    assert SUMMARY in talks  # the branch's secretary reads the summary

    before = len(events(site.ledger))
    done = post_form(sec, "/web/branch/A/points", "form-record_member_points",
                     {"person": "A-M02", "month": "2019-10", "item": "assigned_tasks", "points": "3",
                      "reason": "完成党支部交办的宣讲任务"})
    assert flash_of(done.text) == "ok:已录入个人积分" and len(events(site.ledger)) == before + 1
    assert "完成党支部交办的宣讲任务" in sec.get("/web/branch/A/points?year=2019&person=A-M02").text

    refused = post_form(sec, "/web/branch/A/points", "form-record_member_points",
                        {"person": "A-M02", "month": "2019-10", "item": "assigned_tasks", "points": "1.234",
                         "reason": "三位小数的分值"})
    assert flash_of(refused.text).startswith("error:未能完成：") and "两位小数" in refused.text
    form = re.search(r'id="form-record_member_points".*?</form>', refused.text, re.S).group(0)  # type: ignore[union-attr]
    assert 'value="1.234"' in form and "三位小数的分值" in form and "已保留您填写的内容" in form  # kept as typed
    assert 'value="assigned_tasks" selected' in form
    assert len(events(site.ledger)) == before + 1  # the refusal wrote nothing

    answered = post_form(sec, "/web/branch/A/talks", next(iter(re.findall(r'id="(answer-[^"]+)"', talks))),
                         {"conducted_by": "周建国", "date": "2019-09-10", "summary": "了解困难，安排师傅帮带"})
    assert flash_of(answered.text) == "ok:已记录谈话走访"
    meeting = post_form(sec, "/web/branch/A/meetings", "form-record_meeting",
                        {"kind": "committee_meeting", "date": "2019-10-08", "topic": "研究党员积分", "chair": "周建国",
                         "attendance.A-M01": "present", "attendance.A-M02": "excused", "attendance.A-M03": "absent"})
    assert flash_of(meeting.text) == "ok:已记录会议"
    recorded = [e for e in events(site.ledger) if e.name == "Meeting.Recorded"]
    assert recorded and recorded[-1].raw["attendance"] == {"A-M01": "present", "A-M02": "excused", "A-M03": "absent"}
    paid = post_form(sec, "/web/branch/A/dues?period=2019H2", "form-record_dues_payment",
                     {"person": "A-M01", "month": "2019-07", "amount": "60.00", "channel": "cash", "paid_on": "2019-07-20"})
    assert flash_of(paid.text).startswith("ok:已登记党费交纳")
    assert "60.00" in sec.get("/web/branch/A/dues?period=2019H2").text

    # Another branch's secretary: A's pages refused; a form posted for A refused, nothing written.
    other = site.client("sec-b")
    assert other.get("/web/branch/A/talks").status_code == 403
    count = len(events(site.ledger))
    home = other.get("/web/branch/B/points").text
    forged = other.post("/web/do/record_member_points", data={
        "csrf": csrf_of(home), "next": "/web/branch/B/points", "branch": "A", "person": "A-M01", "month": "2019-10",
        "item": "assigned_tasks", "points": "5", "reason": "冒充"})
    assert "无权" in flash_of(forged.text) and len(events(site.ledger)) == count
    assert any(r["op"] == "record_member_points" for r in site.ledger.security_log.rows("sec-b"))  # type: ignore[union-attr]


def test_summaries_only_to_those_allowed(site: Site) -> None:
    assert SUMMARY in site.client("committee").get("/web/branch/A/talks").text
    for user in ("auditor", "registrar"):
        page = site.client(user).get("/web/branch/A/talks")
        assert page.status_code == 200 and SUMMARY not in page.text and "摘要只有本支部书记与党委可见" in page.text


def test_each_office_role_does_its_work(site: Site) -> None:
    pm = site.client("scorer-pm")
    sheet = post_form(pm, "/web/selections?selection=2019-JP-09", "form-record_representative_sheet",
                      {"sheet": "1", "scores.A-M01": "90", "scores.A-M02": "85.5"})
    assert flash_of(sheet.text) == "ok:代表评分表已录入"
    leader = post_form(pm, "/web/selections?selection=2019-JP-09", "form-record_leader_sheet",
                       {"leader": "公司党委书记", "scores.A-M01": "92", "scores.A-M02": "70"})
    assert flash_of(leader.text) == "ok:领导评分表已录入"
    assert "form-close_selection" not in pm.get("/web/selections?selection=2019-JP-09").text  # the committee's
    proposal = post_form(pm, "/web/innovation?year=2019", "form-submit_proposal",
                         {"branch": "A", "person": "A-E01", "proposal": "2019-P-01", "title": "改进浇铸流程",
                          "date": "2019-10-08"})
    assert flash_of(proposal.text) == "ok:合理化建议已登记"

    committee = site.client("committee")
    closed = post_form(committee, "/web/selections?selection=2019-JP-09", "form-close_selection", {})
    assert flash_of(closed.text) == "ok:竞聘已结束，结果已记录" and 'id="selection-result"' in closed.text
    # The rulebook: a preview of what a bigger first-place award would change, then adoption.
    page = committee.get("/web/rulebook").text
    preview = committee.post("/web/rulebook/preview", data={
        "csrf": csrf_of(page), "version": "2", "from": "2019-10", "parameters": '{"quarter_first_award": "3500"}'})
    assert preview.status_code == 200 and "2019Q4" in preview.text and "第 2 版自 2019-10 起生效时" in preview.text
    assert 'name="parameters" class="code"' in preview.text and "3500" in preview.text  # kept as typed
    bad = committee.post("/web/rulebook/preview", data={
        "csrf": csrf_of(page), "version": "2", "from": "2019-10", "parameters": '{"no_such_parameter": 1}'})
    assert bad.status_code == 422 and "no_such_parameter" in bad.text
    before = len(events(site.ledger))
    form = re.search(r'<form method="post" action="/web/do/adopt_rulebook".*?</form>', preview.text, re.S)
    assert form, "the adopt form follows the preview"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    done = committee.post("/web/do/adopt_rulebook", data={**hidden, "version": "2", "from": "2019-10",
                                                          "parameters": '{"quarter_first_award": "3500"}'})
    assert flash_of(done.text) == "ok:考核细则第2版已通过" and len(events(site.ledger)) == before + 1
    debrief = post_form(committee, "/web/committee/work?year=2019", "form-record_debriefing",
                        {"branch": "A", "year": "2019", "score": "92.5"})
    assert flash_of(debrief.text) == "ok:述职评分已录入"
    entry = site.ids["w/09/A"]
    corrected = post_form(committee, "/web/committee/work?month=2019-09", f"correct-{entry}",
                          {"points": "-2", "reason": "核实后减轻"})
    assert flash_of(corrected.text) == "ok:条目已更正"

    registrar = site.client("registrar")
    enrolled = post_form(registrar, "/web/registry/people?branch=C", "form-enrol_member",
                         {"person": "C-M01", "name": "钱进", "class": "C", "from": "2019-10"})
    assert flash_of(enrolled.text) == "ok:党员C-M01已登记"
    assert "钱进" in registrar.get("/web/registry/people?branch=C&month=2019-10").text

    perf = site.client("perf")
    assert 'id="sealed-note"' in perf.get("/web/performance?month=2019-09").text  # sealed: no form
    scored = post_form(perf, "/web/performance?month=2019-10", "form-record_business_score",
                       {"branch": "A", "period": "2019-10", "score": "95.5"})
    assert flash_of(scored.text) == "ok:经营得分已录入"

    admin = site.client("admin")
    created = post_form(admin, "/web/admin", "form-create_user", {"user": "zhang", "name": "张三"})
    assert flash_of(created.text) == "ok:用户zhang已创建"
    granted = post_form(admin, "/web/admin", "form-grant_role", {"user": "zhang", "role": "scorer:office"})
    assert flash_of(granted.text) == "ok:已授予角色"
    page = admin.get("/web/admin").text
    token = admin.post("/web/admin/token", data={"csrf": csrf_of(page), "user": "zhang"})
    shown = re.search(r'<pre class="token">([^<]+)</pre>', token.text)
    assert token.status_code == 200 and shown
    assert "令牌只显示这一次" in token.text and shown.group(1) not in admin.get("/web/admin").text  # shown once
    short = admin.post("/web/admin/password", data={"csrf": csrf_of(page), "user": "zhang", "new": "short",
                                                    "again": "short"})
    assert "密码至少" in flash_of(short.text)
    ok = admin.post("/web/admin/password", data={"csrf": csrf_of(page), "user": "zhang", "new": "zhang-2019-pass",
                                                 "again": "zhang-2019-pass"})
    assert flash_of(ok.text).startswith("ok:用户zhang的登录密码已设置")
    refusals = site.client("auditor").get("/web/admin/security?user=admin")
    assert refusals.status_code == 200 and "密码至少" not in refusals.text  # bad input is not a refusal of rights


def test_sealed_months_offer_no_entry_form(site: Site) -> None:
    scorer = site.client("scorer-pm")
    sealed = scorer.get("/web/scoring?month=2019-09").text
    assert 'id="score-form"' not in sealed and 'id="sealed-note"' in sealed
    draft = scorer.get("/web/scoring?month=2019-10").text
    assert 'id="score-form"' in draft
    refused = post_form(scorer, "/web/scoring?month=2019-10", "score-form",
                        {"branch": "C", "category": "party_mass/ideological", "points": "-1.005", "reason": "三位小数"})
    assert "两位小数" in flash_of(refused.text)
    form = re.search(r'id="score-form".*?</form>', refused.text, re.S).group(0)  # type: ignore[union-attr]
    assert 'value="-1.005"' in form and "三位小数" in form and 'value="C" selected' in form  # kept as typed


MAX_DEPTH = 6  # clicks from the role's home page
OTHER_YEAR = re.compile(r"20(?!19)\d\d(?:[-QH]|$|&|\.)|/20(?!19)\d\d\b")  # the fixture's ledger holds 2019
NOT_FOLLOWED = ("/web/logout",)  # a POST form in every page's header; listed so a GET link to it is never crawled


def _links(page: str, base: str) -> list[str]:
    """The page's same-site links (any path on this host, not only /web/), without fragments."""
    out = []
    for href in re.findall(r'<a [^>]*href="([^"#]+)', page):
        url = urljoin(base, htmllib.unescape(href))
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc == "127.0.0.1" and parts.path not in NOT_FOLLOWED:
            out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def crawl(client: Any, user: str) -> set[str]:
    """A crawl (breadth first, GET only, at most ``MAX_DEPTH`` clicks) of every same-site page
    reachable by links from the role's home page: no 4xx, no 5xx, no redirect — only pages
    the role may read are linked. A page of another year than the ledger's (the calendars'
    ‹ › links go on for ever) and a download are fetched but not followed; PDFs are only
    listed (they take a second each to draw: checked in
    test_printable_pdfs_carry_the_checkpoint_and_a_receipt)."""
    seen: set[str] = {"/web/"}
    level = [("/web/", "")]
    bad: list[tuple[str, int, str]] = []
    for _depth in range(MAX_DEPTH + 1):
        following: list[tuple[str, str]] = []
        for url, source in level:
            if url.startswith("/web/export/pdf/"):
                continue
            response = client.get(url, follow_redirects=False)
            if response.status_code >= 300:
                bad.append((url, response.status_code, f"linked from {source}"))
                continue
            if "text/html" in response.headers.get("content-type", "") and not OTHER_YEAR.search(url):
                for link in _links(response.text, "http://127.0.0.1" + url):
                    if link not in seen:
                        seen.add(link)
                        following.append((link, url))
        level = following
        assert len(seen) < 3000, "the crawl does not end"
    assert not bad, f"{user}: {bad[:10]}"
    assert len(seen) > (3 if user == "admin" else 12), sorted(seen)
    return seen


def test_every_link_from_each_role_home_answers(site: Site) -> None:
    """Each role's crawl (one ledger for all: a crawl writes nothing)."""
    before = len(events(site.ledger))
    reached = {user: crawl(site.client(user), user) for user in ROLES}
    assert len(events(site.ledger)) == before
    assert "/web/branch/A/talks" in reached["sec-a"] and "/web/branch/A/talks" not in reached["sec-b"]
    assert "/web/admin" in reached["admin"] and "/web/admin" not in reached["committee"]
    assert any(u.startswith("/web/log") for u in reached["auditor"])


def test_error_pages_are_chinese_html(site: Site) -> None:
    """404, 403 and 500 under /web/ are Chinese pages (500: tests/test_vocabulary.py)."""
    sec = site.client("sec-b")
    for url, status, words in (("/web/no/such/page", 404, "没有这个页面"), ("/web/branch/A/dues", 403, "无权查看支部 A"),
                               ("/web/admin", 403, "无权查看用户与角色")):
        page = sec.get(url)
        assert page.status_code == status and page.headers["content-type"].startswith("text/html"), url
        assert words in page.text and '<html lang="zh-CN">' in page.text


def test_the_api_docs_need_no_internet(site: Site) -> None:
    """/docs and /redoc load Swagger UI and ReDoc from the fastapi-offline package, served here."""
    client = site.client("auditor")
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/") for a in assets), assets  # nothing from another site
        assert "cdn" not in page.text and "googleapis" not in page.text
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "党建考核审计账本 HTTP 接口"


def test_the_whole_log_paged_and_filtered(site: Site) -> None:
    auditor = site.client("auditor")
    first = auditor.get("/web/log").text
    positions = [int(p) for p in re.findall(r'<a href="/web/event/(\d+)">位置', first)]
    assert len(positions) == 50 and positions == sorted(positions, reverse=True)
    assert positions[0] == len(events(site.ledger))  # newest first
    more = htmllib.unescape(re.search(r'id="log-more" href="([^"]+)"', first).group(1))  # type: ignore[union-attr]
    older = [int(p) for p in re.findall(r'<a href="/web/event/(\d+)">位置', auditor.get(more).text)]
    assert older and older[0] == positions[-1] - 1  # the next page goes on where this one stopped
    assert first.count("存储原文") == 50 and "登录用户" in first  # fields by name, the stored form one click away
    scored = auditor.get("/web/log?event=AssessmentMonth.ScoreRecorded&period=2019Q3").text
    kinds = re.findall(r'data-event="([^"]+)"', scored)
    assert kinds == ["AssessmentMonth.ScoreRecorded"] * 5  # the fixture's five entries of 2019-07 … 09
    assert "录入得分" in scored and "2019-09" in scored
    by_user = auditor.get("/web/log?user=admin").text
    assert re.findall(r'data-event="([^"]+)"', by_user) and "Access." in by_user
    assert site.client("sec-a").get("/web/log").status_code == 403  # the whole log: readers of every branch
    bad = auditor.get("/web/log?event=Nothing.Here")
    assert bad.status_code == 422 and "未知的事件类型" in bad.text


def _pdf_text(pdf: bytes, tmp: Any) -> str:
    """The PDF's text (poppler's pdftotext) and its first page drawn (pdftoppm): both must work."""
    import shutil
    import subprocess
    assert pdf.startswith(b"%PDF-")
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.fail("PDF tests need poppler-utils (pdftotext, pdftoppm): apt-get install poppler-utils")
    path = tmp / "notice.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path), str(tmp / "page")], check=True)
    assert (tmp / "page-1.png").stat().st_size > 5000  # a drawn page, not a blank one
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_printable_pdfs_carry_the_checkpoint_and_a_receipt(site: Site, tmp_path: Any) -> None:
    from adapters.bootstrap import engine_of
    from adapters.exports.receipt_qr import qr_svg, receipt_text, verify_receipt_text
    from adapters.store.proofs import ProofError, TreeReader, inclusion_bundle
    sec = site.client("sec-a")
    quarter = sec.get("/web/export/pdf/quarter/2019Q3")
    assert quarter.status_code == 200 and quarter.headers["content-type"] == "application/pdf"
    text = _pdf_text(quarter.content, tmp_path)
    assert "2019Q3 季度党建考核排名公示" in text and "签名检查点" in text and "dangjian-ledger" in text
    assert "熔炼车间党支部" in text and "2,000.00" in text
    # The QR code's receipt: the approval's leaf, proof and signed note, checked with the key alone.
    approval = next(e for e in events(site.ledger) if e.name == "AssessmentQuarter.Approved")
    receipt = receipt_text(inclusion_bundle(TreeReader(engine_of(site.ledger)), approval.position))
    key = site.ledger.recorder.signer().verifier_key  # type: ignore[attr-defined]
    assert verify_receipt_text(receipt, key).startswith(f"成立：位置 {approval.position} 的事件")
    lines = receipt.split("\n")
    forged = "\n".join([lines[0], lines[1][:-1] + ("0" if lines[1][-1] != "0" else "1"), *lines[2:]])
    with pytest.raises(ProofError):
        verify_receipt_text(forged, key)
    assert qr_svg(receipt).startswith("<svg")
    for url in ("/web/export/pdf/month/2019-09", "/web/export/pdf/year/2019"):
        assert sec.get(url).headers["content-type"] == "application/pdf", url
    # A dues statement: published from the page, then printed with its publication's checkpoint.
    published = post_form(sec, "/web/branch/A/dues?period=2019H1", "form-publish_dues", {})
    assert flash_of(published.text).startswith("ok:已公示")
    link = re.search(r'href="(/web/export/pdf/dues/2019H1\?[^"]+)"', published.text)
    assert link, "the statement's PDF is linked from the dues page"
    dues = sec.get(htmllib.unescape(link.group(1)))
    assert "党费收缴情况公示" in _pdf_text(dues.content, tmp_path) and "王红" in _pdf_text(dues.content, tmp_path)
    assert site.client("sec-b").get("/web/export/pdf/dues/2019H1?branch=A").status_code == 403
