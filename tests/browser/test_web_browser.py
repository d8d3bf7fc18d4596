"""The four roles in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium — never a browser download) against ``ledger serve``
on 127.0.0.1, over a small demo-like ledger (``tests/web_fixture.py``), on SQLite only (one
server, one browser: ~15 s; the same pages run on both databases in ``tests/api/test_web.py``).

A secretary logs in, files an appeal in two clicks and downloads its receipt (checked offline
with the ledger's public key); another branch's secretary is refused A's page and sees no
appeal button; the committee sees the what-if of upholding, upholds it and sees the quarter
change (approved vs today, as of a date, the Excel export, the printed notice with its signed
checkpoint); the auditor finds the filing and the decision in A's history and verifies the
ledger; a scorer records an entry and is refused a sealed month in Chinese; the aggregator
submits the month. Screenshots of each page go to ``test-artifacts/screenshots`` (or
``LEDGER_SCREENSHOTS``; ``LEDGER_SCREENSHOTS=docs/screenshots`` refreshes README's).

Without Chromium, its driver or CJK fonts the test skips, saying how to install them;
``LEDGER_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns that skip into a failure.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from adapters.bootstrap import close, make_ledger
from adapters.store.proofs import verify_bundle
from domain.asof import SHANGHAI
from domain.service.application import Ledger
from tests.helpers import events, with_users
from tests.server import Server
from tests.web_fixture import PASSWORD, prepare

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LEDGER_CHROMIUM") or "/usr/bin/chromium"  # Debian's packages by default
CHROMEDRIVER = os.environ.get("LEDGER_CHROMEDRIVER") or "/usr/bin/chromedriver"
HOW = "apt-get install chromium chromium-driver fonts-noto-cjk"
# Artifacts of every run go to test-artifacts/ (ignored by git); README's pictures are
# refreshed on purpose with LEDGER_SCREENSHOTS=docs/screenshots.
SHOTS = Path(os.environ.get("LEDGER_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
WIDTH = 1000


def _browser_problem() -> str | None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        return f"没有 {'、'.join(missing)}"
    if importlib.util.find_spec("selenium") is None:
        return "没有安装 selenium（pip install -e '.[test]'）"
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout
        if "Noto Sans CJK" not in fonts:
            return "没有中文字体 Noto Sans CJK"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    problem = _browser_problem()
    if problem is not None:
        message = f"浏览器测试需要 Debian 的 Chromium、chromedriver 与中文字体：{problem}。安装：{HOW}"
        if os.environ.get("LEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail("LEDGER_REQUIRE_BROWSER=1 but " + message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                f"--window-size={WIDTH},900", "--lang=zh-CN", "--force-device-scale-factor=1",
                "--disable-dev-shm-usage"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Ledger, dict[str, str]]]:
    """The prepared ledger (SQLite) and ``ledger serve`` over it on a free port of 127.0.0.1."""
    yield from serve(tmp_path, prepare)


@pytest.fixture
def served_roles(tmp_path: Path) -> Iterator[tuple[str, Ledger, dict[str, str]]]:
    """As ``served``, over ``tests/web_roles_fixture.py`` (people, talks, a selection; every role)."""
    from tests.web_roles_fixture import prepare_roles
    yield from serve(tmp_path, prepare_roles)


def serve(tmp_path: Path, prepare_ledger: Callable[[Ledger], dict[str, str]]) -> Iterator[tuple[str, Ledger, dict[str, str]]]:
    """``ledger serve`` (``tests/server.py``: a free port, taken again if another worker took it,
    and a hang guard on the start) over a SQLite ledger that ``prepare_ledger`` filled."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = with_users(make_ledger(url))
    ids = prepare_ledger(ledger)
    server = Server(url, tmp_path / "server.log", workers=1)
    try:
        yield server.url, ledger, ids
    finally:
        server.stop()
        close(ledger)


def answered(d: Any, wait: Any, action: Callable[[], Any]) -> None:
    """Do ``action`` (a click that sends a form or follows a link) and return once the page that
    answers has replaced the one acted on and has loaded. Precondition: the action navigates.

    Reading right after the click can find the old page still on screen: its elements (an old
    ``#flash``, a link of the same name) are found and then go stale as the answer arrives, or
    are read as if they were the answer."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    page = d.find_element(By.TAG_NAME, "html")

    def gone(_: Any) -> bool:
        """The acted-on page replaced. Chromedriver says so with a stale reference, or, while the
        old document is being torn down, "Node with given id does not belong to the document"
        (an unknown error, seen under load): both mean the old page is gone."""
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
        return False
    action()
    wait.until(gone)
    wait.until(lambda dr: dr.execute_script("return document.readyState") == "complete")


def downloaded(d: Any, wait: Any, name: str, complete: Callable[[bytes], bool]) -> bytes:
    """The bytes of the download ``name`` once ``complete`` says they are whole.

    The file's name is taken as no proof: the test reads the bytes only when no download is in
    progress (no ``*.crdownload`` in the folder) and then asks the bytes themselves whether they
    are whole, rather than trusting how Chromium names a file while it writes it.
    Precondition: ``complete`` is false for every proper prefix of the file."""
    path = d.downloads / name

    def whole(_: Any) -> bytes | None:
        if not path.exists() or any(d.downloads.glob("*.crdownload")):
            return None
        data = path.read_bytes()
        return data if complete(data) else None
    return bytes(wait.until(whole))


def is_json(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False
    return True


def is_zip(data: bytes) -> bool:
    """A whole ZIP (an .xlsx): its end-of-central-directory record read back."""
    import io
    import zipfile
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.testzip() is None
    except zipfile.BadZipFile:
        return False


def is_pdf(data: bytes) -> bool:
    """A whole PDF: its header and, at its end, the %%EOF marker."""
    return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")


def test_four_roles_in_a_real_browser(browser: Any, served: tuple[str, Ledger, dict[str, str]]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, ledger, ids = served
    d = browser
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(d, 15)

    def until(check: Callable[[Any], Any]) -> Any:
        return wait.until(check)

    def shot(name: str, width: int = WIDTH, media: str | None = None) -> None:
        """A screenshot of the page (its top 1600 px at most) as SHOTS/NAME.png."""
        if media:
            d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
        d.set_window_size(width, 900)
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(width, min(height + 140, 1600))
        d.save_screenshot(str(SHOTS / f"{name}.png"))
        if media:
            d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        d.set_window_size(WIDTH, 900)

    def go(path: str) -> None:
        d.get(base + path)
        until(lambda dr: dr.execute_script("return document.readyState") == "complete")

    def log_in(user: str, screenshot: bool = False) -> None:
        d.delete_all_cookies()
        go("/web/login")
        d.find_element(By.ID, "user").send_keys(user)
        d.find_element(By.ID, "password").send_keys(PASSWORD)
        if screenshot:
            shot("login")
        answered(d, wait, d.find_element(By.ID, "login-button").click)
        until(lambda dr: dr.current_url.rstrip("/").endswith("/web"))
        assert "你好" in d.find_element(By.TAG_NAME, "h1").text

    def flash() -> str:
        """The answer's flash. Precondition: the page that answers is on screen (``answered``)."""
        return str(d.find_element(By.ID, "flash").text)

    # -- 支部书记: my branch, an appeal in two clicks, its receipt -----------------------------------
    log_in("sec-a", screenshot=True)
    answered(d, wait, d.find_element(By.LINK_TEXT, "本支部 A").click)
    go("/web/branch/A?month=2019-09")
    row = d.find_element(By.ID, f"entry-{ids['w/09/A']}")
    assert "支委会未按时召开" in row.text and "-5.00" in row.text
    assert len(d.find_elements(By.CSS_SELECTOR, ".appeal-button")) == 1
    shot("branch")
    shot("branch-phone", width=390)  # the same page on a phone
    row = d.find_element(By.ID, f"entry-{ids['w/09/A']}")
    row.find_element(By.CSS_SELECTOR, ".appeal-button").click()  # click 1
    row.find_element(By.NAME, "reason").send_keys("支委会已于9月5日召开，会议记录附后")
    answered(d, wait, row.find_element(By.CSS_SELECTOR, "button[type=submit]").click)  # click 2
    assert flash().startswith("申诉已提交")
    appeals = d.find_element(By.CSS_SELECTOR, "table.appeals")
    assert "待决定" in appeals.text and "支委会已于9月5日召开" in appeals.text
    appeals.find_element(By.CSS_SELECTOR, "button.receipt-filed").click()
    filed = [e for e in events(ledger) if e.name == "EntryAppeals.Filed"]
    assert len(filed) == 1
    receipt = json.loads(downloaded(d, wait, f"receipt-{filed[0].position}.json", is_json).decode("utf-8"))
    assert verify_bundle(receipt, ledger.recorder.signer().verifier_key).startswith("成立")  # type: ignore[attr-defined]

    # -- another branch's secretary: refused A's page, no appeal button --------------------------------
    log_in("sec-b")
    go("/web/branch/A?month=2019-09")
    assert "无权查看支部 A 的记录" in d.find_element(By.ID, "reason").text
    assert not d.find_elements(By.CSS_SELECTOR, ".appeal-button")
    shot("refused")
    go("/web/quarter/2019Q3")  # the published ranking: every branch, and still no appeal button
    assert len(d.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")) == 3
    assert not d.find_elements(By.CSS_SELECTOR, ".appeal-button")
    go("/web/branch/B?month=2019-07")
    assert len(d.find_elements(By.CSS_SELECTOR, ".appeal-button")) == 1  # on their own branch's entry

    # -- 党委: the what-if of upholding, the decision, the quarter changed ---------------------------------
    log_in("committee")
    answered(d, wait, d.find_element(By.LINK_TEXT, "审批与申诉").click)
    case = until(lambda dr: dr.find_element(By.CSS_SELECTOR, "article.appeal-case"))
    assert "99.00 / 第2名 / 0.00 / 0.00" in case.text  # A, if upheld
    shot("committee")
    case.find_element(By.CSS_SELECTOR, "input[value=upheld]").click()
    case.find_element(By.NAME, "reason").send_keys("会议记录属实，扣分撤销")
    answered(d, wait, case.find_element(By.CSS_SELECTOR, "button[type=submit]").click)
    assert flash() == "已决定：申诉成立，已更正该条目"
    go("/web/quarter/2019Q3")
    diff = d.find_element(By.ID, "diff-table")
    assert "97.33 / 第3名 / 0.00 / 2,000.00" in diff.text and "99.00 / 第2名" in diff.text
    assert d.find_element(By.CSS_SELECTOR, '#ranking tr[data-branch="A"] td').text == "2"
    shot("quarter")
    today = datetime.now(SHANGHAI).date().isoformat()
    picker = d.find_element(By.NAME, "as_of")  # the calendar: set as a person picking a day would
    d.execute_script("arguments[0].value = arguments[1]", picker, today)
    answered(d, wait, picker.find_element(By.XPATH, "./ancestor::form//button").click)
    assert d.find_element(By.ID, "asof-note").text.startswith(f"按账本记录时间截至 {today}")
    go("/web/quarter/2019Q3")
    d.find_element(By.ID, "export-quarter").click()
    import io

    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(downloaded(d, wait, "quarter-2019Q3.xlsx", is_zip))).active
    assert [c.value for c in sheet[6]][:9] == [2, "A", "熔炼车间党支部", 98, 99, 100, 99, 0, 0]
    go("/web/print/quarter/2019Q3")
    block = d.find_element(By.CSS_SELECTOR, ".checkpoint")
    assert "签名检查点" in block.text and "dangjian-ledger" in block.text
    assert "支部 A、B" in d.find_element(By.ID, "changed-note").text  # corrected since approval: said so
    shot("print", media="print")

    # -- 纪检监察部: A's history filtered, verify now --------------------------------------------------------
    log_in("auditor")
    answered(d, wait, d.find_element(By.LINK_TEXT, "审计").click)
    Select(d.find_element(By.NAME, "branch")).select_by_value("A")
    d.find_element(By.NAME, "period").send_keys("2019-09")
    answered(d, wait, d.find_element(By.CSS_SELECTOR, "#audit-filter button").click)
    rows = d.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    kinds = [r.get_attribute("data-event") for r in rows]
    assert {"EntryAppeals.Filed", "EntryAppeals.Decided", "AssessmentMonth.EntryCorrected"} <= set(kinds)
    answered(d, wait, d.find_element(By.ID, "verify-now").click)
    assert "全部相符" in d.find_element(By.ID, "verify-result").text
    shot("audit")

    # -- 党群工作部: record an entry, a sealed month refused in Chinese; the aggregator submits -------------
    log_in("scorer-pm")
    go("/web/scoring?month=2019-10")
    Select(d.find_element(By.NAME, "branch")).select_by_value("C")
    Select(d.find_element(By.NAME, "category")).select_by_value("party_mass/ideological")
    d.find_element(By.NAME, "points").send_keys("-1")
    d.find_element(By.NAME, "reason").send_keys("意识形态阵地台账缺失")
    before = len(events(ledger))
    answered(d, wait, d.find_element(By.CSS_SELECTOR, "#score-form button[type=submit]").click)
    assert flash().startswith("已录入")
    assert d.find_element(By.ID, "progress").text == "1 / 3"
    shot("scoring")
    go("/web/scoring?month=2019-09")  # sealed: no entry form is offered
    assert not d.find_elements(By.ID, "score-form") and "不再接受录入" in d.find_element(By.ID, "sealed-note").text
    go("/web/scoring?month=2019-10")
    d.find_element(By.NAME, "points").send_keys("-1.005")
    d.find_element(By.NAME, "reason").send_keys("补录")
    after = len(events(ledger))
    answered(d, wait, d.find_element(By.CSS_SELECTOR, "#score-form button[type=submit]").click)
    message = flash()
    assert message.startswith("未能完成：") and "两位小数" in message
    assert d.find_element(By.NAME, "points").get_attribute("value") == "-1.005"  # kept as typed
    assert d.find_element(By.NAME, "reason").get_attribute("value") == "补录"
    assert len(events(ledger)) == after == before + 2  # the month opened and the entry; the refusal wrote nothing
    log_in("aggregator")
    go("/web/scoring?month=2019-10")
    answered(d, wait, lambda: (d.find_element(By.ID, "submit-month").click(),
                               until(lambda dr: dr.switch_to.alert).accept()))  # "确定提交？"
    assert flash() == "2019-10 已提交"


PHONE = 390


def look_at_page(png: Path) -> dict[str, Any]:
    """What a person would see on a drawn page, by its pixels (grey < 128 is ink): ``ink``,
    the share of dark pixels; ``inked_rows``, the share of pixel rows with any ink;
    ``top_inked``, ink in the top fifth (the heading); ``inked_bands``, how many of twenty
    horizontal bands have ink; ``qr_like``, whether some 40 × 40 px window is a QR code's
    texture (between 30 % and 70 % dark, and switching dark/light often along its rows)."""
    from PIL import Image
    page = Image.open(png).convert("L")
    width, height = page.size
    px = page.load()
    dark = [[px[x, y] < 128 for x in range(width)] for y in range(height)]
    rows = [sum(r) for r in dark]
    bands = [any(rows[y] for y in range(b * height // 20, (b + 1) * height // 20)) for b in range(20)]
    qr_like = False
    for top in range(0, height - 40, 10):
        for left in range(0, width - 40, 10):
            window = [dark[y][left:left + 40] for y in range(top, top + 40)]
            share = sum(map(sum, window)) / 1600
            if 0.3 <= share <= 0.7:
                switches = sum(a != b for r in window for a, b in zip(r, r[1:]))
                if switches >= 40 * 6:  # a module of 2–4 px: many edges along each row
                    qr_like = True
                    break
        if qr_like:
            break
    return {"size": (width, height), "ink": sum(rows) / (width * height), "inked_rows": sum(1 for r in rows if r) / height,
            "top_inked": any(rows[: height // 5]), "inked_bands": sum(bands), "qr_like": qr_like}


def test_every_role_in_a_real_browser(browser: Any, served_roles: tuple[str, Ledger, dict[str, str]],
                                      tmp_path: Path) -> None:
    """Each role logs in and does its day's work through the pages (a secretary on a phone):
    every form a real form, sent and answered in Chinese; a refused one keeps what was typed.
    Screenshots of every page: ``<pytest tmp dir>/screenshots`` (kept with the test's files)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, ledger, ids = served_roles
    d = browser
    shots = tmp_path / "screenshots"
    shots.mkdir()
    wait = WebDriverWait(d, 15)

    def go(path: str) -> None:
        d.get(base + path)
        wait.until(lambda dr: dr.execute_script("return document.readyState") == "complete")

    def shot(name: str) -> None:
        width = d.get_window_size()["width"]
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(width, min(height + 140, 2400))
        d.save_screenshot(str(shots / f"{name}.png"))
        d.set_window_size(width, 900)

    def log_in(user: str, width: int = WIDTH) -> None:
        d.delete_all_cookies()
        d.set_window_size(width, 900)
        go("/web/login")
        d.find_element(By.ID, "user").send_keys(user)
        d.find_element(By.ID, "password").send_keys(PASSWORD)
        answered(d, wait, d.find_element(By.ID, "login-button").click)
        wait.until(lambda dr: dr.current_url.rstrip("/").endswith("/web"))

    def follow(link: str, partial: bool = False) -> None:
        """Follow the link named ``link`` and wait for its page (not read the old one)."""
        answered(d, wait, d.find_element(By.PARTIAL_LINK_TEXT if partial else By.LINK_TEXT, link).click)

    def field(form: str, name: str) -> Any:
        return d.find_element(By.CSS_SELECTOR, f"#{form} [name='{name}']")

    def fill(form: str, values: dict[str, str]) -> None:
        for name, value in values.items():
            el = field(form, name)
            if el.tag_name == "select":
                Select(el).select_by_value(value)
            elif el.get_attribute("type") in ("date", "month"):  # set as a person picking from the calendar
                d.execute_script("arguments[0].value = arguments[1]", el, value)
            else:
                el.clear()
                el.send_keys(value)

    def submit(form: str, confirm: bool = False) -> str:
        """Send the form and read the answer's flash — on the page that answers, never the flash
        of the page the form was on (the previous answer's): wait until that page is gone first."""
        def send() -> None:
            d.find_element(By.CSS_SELECTOR, f"#{form} button[type=submit]").click()
            if confirm:
                wait.until(lambda dr: dr.switch_to.alert).accept()
        answered(d, wait, send)
        return str(d.find_element(By.ID, "flash").text)

    def fits_phone() -> None:
        """Nothing wider than the phone's screen outside a scrolling chart; chart labels ≥ 11 px."""
        assert d.execute_script("return document.documentElement.scrollWidth") <= PHONE, d.current_url
        smallest = d.execute_script("""
            let least = 99;
            for (const svg of document.querySelectorAll('svg.chart')) {
              const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
              for (const t of svg.querySelectorAll('text')) {
                least = Math.min(least, parseFloat(getComputedStyle(t).fontSize) * scale);
              }
            }
            return least;""")
        assert smallest >= 11, (d.current_url, smallest)

    # -- 支部书记 on a phone: talks (overdue first), a talk recorded, points (refused, kept, sent), a meeting, dues --
    log_in("sec-a", PHONE)
    follow("支部 A 党员工作", partial=True)
    rows = d.find_elements(By.CSS_SELECTOR, "#occasions tbody tr")
    assert rows[0].get_attribute("data-status") == "overdue"
    fits_phone()
    shot("secretary-talks-phone")
    rows[0].find_element(By.TAG_NAME, "summary").click()
    answer = rows[0].find_element(By.TAG_NAME, "form").get_attribute("id")
    fill(answer, {"conducted_by": "周建国", "date": "2019-09-12", "summary": "了解工作困难，安排师傅帮带"})
    assert submit(answer) == "已记录谈话走访"
    go("/web/branch/A/points")
    fill("form-record_member_points", {"person": "A-M02", "month": "2019-10", "item": "assigned_tasks",
                                       "points": "1.234", "reason": "完成党支部交办的宣讲任务"})
    before = len(events(ledger))
    message = submit("form-record_member_points")
    assert message.startswith("未能完成：") and "两位小数" in message and len(events(ledger)) == before
    assert field("form-record_member_points", "points").get_attribute("value") == "1.234"  # kept as typed
    assert field("form-record_member_points", "reason").get_attribute("value") == "完成党支部交办的宣讲任务"
    shot("secretary-points-refused-phone")
    fill("form-record_member_points", {"points": "1.5"})
    assert submit("form-record_member_points") == "已录入个人积分" and len(events(ledger)) == before + 1
    fits_phone()
    go("/web/branch/A/meetings")
    fill("form-record_meeting", {"kind": "committee_meeting", "date": "2019-10-08", "topic": "研究党员积分",
                                 "chair": "周建国", "attendance.A-M03": "absent"})
    assert submit("form-record_meeting") == "已记录会议"
    assert "研究党员积分" in d.find_element(By.ID, "meetings").text
    fits_phone()
    shot("secretary-meetings-phone")
    go("/web/branch/A/dues?period=2019H2")
    fill("form-record_dues_payment", {"person": "A-M01", "month": "2019-07", "amount": "60.00", "channel": "wechat",
                                      "paid_on": "2019-07-20"})
    assert submit("form-record_dues_payment").startswith("已登记党费交纳")
    fits_phone()
    for page in ("/web/branch/A?month=2019-09", "/web/quarter/2019Q3", "/web/year/2019"):
        go(page)  # the assessment pages on the phone: reason, 申诉, score, award and fine on screen
        fits_phone()
    go("/web/branch/A?month=2019-09")
    row = d.find_element(By.ID, f"entry-{ids['w/09/A']}")
    for cell in (row.find_element(By.CSS_SELECTOR, "td.reason"), row.find_element(By.CSS_SELECTOR, "td.appeal-cell")):
        box = cell.rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, box
    shot("branch-phone")
    go("/web/quarter/2019Q3")
    cells = d.find_elements(By.CSS_SELECTOR, "#ranking tbody tr:first-child td")
    shown = [c for c in cells if c.is_displayed()]
    assert len(shown) == 5 and all(c.rect["x"] + c.rect["width"] <= PHONE for c in shown)  # rank … fine
    shot("quarter-phone")

    # -- 党群工作部: a representatives' sheet of the open selection, a proposal ---------------------------------
    log_in("scorer-pm")
    follow("竞聘")
    follow("2019-JP-09")
    fill("form-record_representative_sheet", {"scores.A-M01": "90", "scores.A-M02": "85.5"})
    assert submit("form-record_representative_sheet") == "代表评分表已录入"
    fill("form-record_leader_sheet", {"leader": "公司党委书记", "scores.A-M01": "92", "scores.A-M02": "70"})
    assert submit("form-record_leader_sheet") == "领导评分表已录入"
    shot("party-mass-selection")

    # -- 党委会: close the selection; preview a rulebook version, then adopt it; correct an entry --------------
    log_in("committee")
    go("/web/selections?selection=2019-JP-09")
    assert submit("form-close_selection", confirm=True) == "竞聘已结束，结果已记录"
    assert "聘任" in d.find_element(By.ID, "selection-result").text
    follow("党委会事务")
    follow("考核细则：版本、预览与通过")
    box = d.find_element(By.NAME, "parameters")
    box.clear()
    box.send_keys('{"quarter_first_award": "3500"}')
    d.execute_script("arguments[0].value = '2019-10'", d.find_element(By.CSS_SELECTOR, "#preview-form [name='from']"))
    answered(d, wait, d.find_element(By.ID, "preview-button").click)
    assert "2019Q4" in d.find_element(By.ID, "preview-head").text
    shot("committee-rulebook-preview")
    before = len(events(ledger))
    assert submit("form-adopt_rulebook", confirm=True) == "考核细则第 2 版已通过" and len(events(ledger)) == before + 1
    go("/web/committee/work?month=2019-09")
    row = d.find_element(By.XPATH, f"//form[@id='correct-{ids['w/09/A']}']/ancestor::tr")
    row.find_element(By.TAG_NAME, "summary").click()
    fill(f"correct-{ids['w/09/A']}", {"points": "-2", "reason": "核实后减轻"})
    assert submit(f"correct-{ids['w/09/A']}", confirm=True) == "条目已更正"
    shot("committee-work")

    # -- 登记员, 经营业绩, 系统管理员 --------------------------------------------------------------------------------
    log_in("registrar")
    go("/web/registry/people?branch=C")
    fill("form-enrol_member", {"person": "C-M01", "name": "钱进", "class": "C", "from": "2019-10"})
    assert submit("form-enrol_member") == "党员 C-M01 已登记"
    shot("registrar-people")
    log_in("perf")
    go("/web/performance?month=2019-10")
    fill("form-record_business_score", {"branch": "A", "score": "95.5"})
    assert submit("form-record_business_score") == "经营得分已录入"
    shot("performance")
    log_in("admin")
    follow("用户与角色")
    fill("form-create_user", {"user": "zhang", "name": "张三"})
    assert submit("form-create_user") == "用户 zhang 已创建"
    fill("form-grant_role", {"user": "zhang", "role": "scorer:office"})
    assert submit("form-grant_role") == "已授予角色"
    Select(field("form-issue_token", "user")).select_by_value("zhang")
    answered(d, wait, d.find_element(By.CSS_SELECTOR, "#form-issue_token button").click)
    token = d.find_element(By.CSS_SELECTOR, "#issued-token pre").text
    assert len(token) > 20
    shot("admin")
    follow("安全日志（被拒绝的操作）")
    assert d.find_element(By.ID, "refusals")
    # -- the printable PDF of the quarter (from the print page), drawn to PNG with pdftoppm -------------------
    log_in("auditor")
    go("/web/print/quarter/2019Q3")
    d.find_element(By.ID, "pdf-link").click()
    pdf = d.downloads / "quarter-2019Q3.pdf"
    assert downloaded(d, wait, pdf.name, is_pdf).startswith(b"%PDF-")
    if not shutil.which("pdftoppm"):
        pytest.fail("the PDF check needs poppler-utils (pdftoppm): apt-get install poppler-utils")
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(pdf), str(shots / "quarter-pdf")],
                   check=True)
    shutil.copy(pdf, shots / "quarter-2019Q3.pdf")  # kept beside the screenshots, with its drawing
    drawn = shots / "quarter-pdf-1.png"
    looked = look_at_page(drawn)
    assert looked["ink"] > 0.005 and looked["ink"] < 0.4, looked  # drawn on, and not a black page
    assert looked["inked_rows"] > 0.15 and looked["top_inked"] and looked["inked_bands"] >= 6, looked  # text down the page
    assert looked["qr_like"], looked  # a dense square block of black and white modules: the receipt's QR code

    # -- the API's docs page with no internet: Swagger UI from the fastapi-offline package --------------------
    go("/docs")
    operations = wait.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, ".opblock") or None)
    assert len(operations) > 50
    foreign = d.execute_script("""return [...document.querySelectorAll('script[src], link[href]')]
        .map(e => e.src || e.href).filter(u => !u.startsWith(location.origin));""")
    assert foreign == []
    shot("api-docs")
    assert len(list(shots.glob("*.png"))) >= 10
