"""The four roles in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium — never a browser download) against ``ledger serve``
on 127.0.0.1, over a small demo-like ledger (``tests/web_fixture.py``), on SQLite only (one
server, one browser: ~15 s; the same pages run on both databases in ``tests/test_web.py``).

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
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from adapters.bootstrap import close, make_ledger
from adapters.store.proofs import verify_bundle
from domain.service.application import Ledger
from domain.asof import SHANGHAI
from tests.helpers import events, with_users
from tests.web_fixture import PASSWORD, prepare

ROOT = Path(__file__).resolve().parent.parent
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Ledger, dict[str, str]]]:
    """The prepared ledger (SQLite) and ``ledger serve`` over it on a free port of 127.0.0.1."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = with_users(make_ledger(url))
    ids = prepare(ledger)
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "from adapters.cli.main import main; main()", "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/web/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + (tmp_path / "server.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield base, ledger, ids
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        close(ledger)


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
        d.find_element(By.ID, "login-button").click()
        until(lambda dr: dr.current_url.rstrip("/").endswith("/web"))
        assert "你好" in d.find_element(By.TAG_NAME, "h1").text

    def flash() -> str:
        return str(until(lambda dr: dr.find_element(By.ID, "flash")).text)

    def downloaded(name: str) -> Path:
        path = d.downloads / name
        until(lambda _: path.exists() and not (d.downloads / f"{name}.crdownload").exists())
        return path

    # -- 支部书记: my branch, an appeal in two clicks, its receipt -----------------------------------
    log_in("sec-a", screenshot=True)
    d.find_element(By.LINK_TEXT, "本支部 A").click()
    go("/web/branch/A?month=2019-09")
    row = d.find_element(By.ID, f"entry-{ids['w/09/A']}")
    assert "支委会未按时召开" in row.text and "-5.00" in row.text
    assert len(d.find_elements(By.CSS_SELECTOR, ".appeal-button")) == 1
    shot("branch")
    shot("branch-phone", width=390)  # the same page on a phone
    row = d.find_element(By.ID, f"entry-{ids['w/09/A']}")
    row.find_element(By.CSS_SELECTOR, ".appeal-button").click()  # click 1
    row.find_element(By.NAME, "reason").send_keys("支委会已于9月5日召开，会议记录附后")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # click 2
    assert flash().startswith("申诉已提交")
    appeals = d.find_element(By.CSS_SELECTOR, "table.appeals")
    assert "待决定" in appeals.text and "支委会已于9月5日召开" in appeals.text
    appeals.find_element(By.CSS_SELECTOR, "button.receipt-filed").click()
    filed = [e for e in events(ledger) if e.name == "EntryAppeals.Filed"]
    assert len(filed) == 1
    receipt = json.loads(downloaded(f"receipt-{filed[0].position}.json").read_text(encoding="utf-8"))
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
    d.find_element(By.LINK_TEXT, "审批与申诉").click()
    case = until(lambda dr: dr.find_element(By.CSS_SELECTOR, "article.appeal-case"))
    assert "99.00 / 第2名 / 0.00 / 0.00" in case.text  # A, if upheld
    shot("committee")
    case.find_element(By.CSS_SELECTOR, "input[value=upheld]").click()
    case.find_element(By.NAME, "reason").send_keys("会议记录属实，扣分撤销")
    case.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert flash() == "已决定：申诉成立，已更正该条目"
    go("/web/quarter/2019Q3")
    diff = d.find_element(By.ID, "diff-table")
    assert "97.33 / 第3名 / 0.00 / 2,000.00" in diff.text and "99.00 / 第2名" in diff.text
    assert d.find_element(By.CSS_SELECTOR, '#ranking tr[data-branch="A"] td').text == "2"
    shot("quarter")
    today = datetime.now(SHANGHAI).date().isoformat()
    picker = d.find_element(By.NAME, "as_of")  # the calendar: set as a person picking a day would
    d.execute_script("arguments[0].value = arguments[1]", picker, today)
    picker.find_element(By.XPATH, "./ancestor::form//button").click()
    assert until(lambda dr: dr.find_element(By.ID, "asof-note")).text.startswith(f"截至 {today}")
    go("/web/quarter/2019Q3")
    d.find_element(By.ID, "export-quarter").click()
    from openpyxl import load_workbook
    sheet = load_workbook(downloaded("quarter-2019Q3.xlsx")).active
    assert [c.value for c in sheet[6]][:9] == [2, "A", "熔炼车间党支部", 98, 99, 100, 99, 0, 0]
    go("/web/print/quarter/2019Q3")
    block = d.find_element(By.CSS_SELECTOR, ".checkpoint")
    assert "签名检查点" in block.text and "dangjian-ledger" in block.text
    assert "支部 A、B" in d.find_element(By.ID, "changed-note").text  # corrected since approval: said so
    shot("print", media="print")

    # -- 纪检监察部: A's history filtered, verify now --------------------------------------------------------
    log_in("auditor")
    d.find_element(By.LINK_TEXT, "审计").click()
    Select(until(lambda dr: dr.find_element(By.NAME, "branch"))).select_by_value("A")
    d.find_element(By.NAME, "period").send_keys("2019-09")
    d.find_element(By.CSS_SELECTOR, "#audit-filter button").click()
    rows = until(lambda dr: dr.find_elements(By.CSS_SELECTOR, "#history tbody tr"))
    kinds = [r.get_attribute("data-event") for r in rows]
    assert {"EntryAppeals.Filed", "EntryAppeals.Decided", "AssessmentMonth.EntryCorrected"} <= set(kinds)
    d.find_element(By.ID, "verify-now").click()
    assert "全部相符" in until(lambda dr: dr.find_element(By.ID, "verify-result")).text
    shot("audit")

    # -- 党群工作部: record an entry, a sealed month refused in Chinese; the aggregator submits -------------
    log_in("scorer-pm")
    go("/web/scoring?month=2019-10")
    Select(d.find_element(By.NAME, "branch")).select_by_value("C")
    Select(d.find_element(By.NAME, "category")).select_by_value("party_mass/ideological")
    d.find_element(By.NAME, "points").send_keys("-1")
    d.find_element(By.NAME, "reason").send_keys("意识形态阵地台账缺失")
    before = len(events(ledger))
    d.find_element(By.CSS_SELECTOR, "#score-form button[type=submit]").click()
    assert flash().startswith("已录入")
    assert d.find_element(By.ID, "progress").text == "1 / 3"
    shot("scoring")
    go("/web/scoring?month=2019-09")
    d.find_element(By.NAME, "points").send_keys("-1")
    d.find_element(By.NAME, "reason").send_keys("补录")
    after = len(events(ledger))
    d.find_element(By.CSS_SELECTOR, "#score-form button[type=submit]").click()
    message = flash()
    assert message.startswith("未能完成：") and "2019-09" in message
    assert len(events(ledger)) == after == before + 2  # the month opened and the entry; the refusal wrote nothing
    log_in("aggregator")
    go("/web/scoring?month=2019-10")
    d.find_element(By.ID, "submit-month").click()
    until(lambda dr: dr.switch_to.alert).accept()  # "确定提交？"
    assert flash() == "2019-10 已提交"
