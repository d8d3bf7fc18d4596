"""Appeals with an attached scan (issue 16), on SQLite and PostgreSQL: the file is kept in the
attachment store (``adapters/store/attachments.py``, a content-addressed folder outside the
log), its SHA-256 in the appeal's event; filed from the branch page, through the HTTP API and
with ``ledger import --attachment``; shown and downloadable on the appeal, refused in Chinese
when too big or of another type; a replaced or missing file is reported as not matching and
is no longer served. The committee sees each open appeal's wait against the filing window."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from adapters.cli.main import main
from domain.asof import SHANGHAI
from domain.assessment.appeal import MAX_ATTACHMENT_BYTES
from tests.helpers import events
from tests.web_fixture import csrf_of, flash_of

SCAN = b"%PDF-1.4\n% " + "整改单扫描件".encode() + b"\n" + bytes(range(256)) * 20  # a PDF by its first bytes
PAGE = "/web/branch/A?month=2019-09"


def _form(client: Any, site: Any) -> dict[str, str]:
    page = client.get(PAGE).text
    key = re.search(r'name="key" value="(web/[^"]+)"', page).group(1)  # type: ignore[union-attr]
    return {"csrf": csrf_of(page), "entry_id": site.ids["w/09/A"], "branch": "A", "key": key,
            "reason": "支委会已于9月5日召开，会议记录扫描件附后", "next": PAGE}


def _filed(site: Any) -> list[Any]:
    return [e for e in events(site.ledger) if e.name == "EntryAppeals.Filed"]


def test_an_appeal_with_its_scan_from_the_branch_page(site: Any, attachment_store: Path) -> None:
    sec_a = site.client("sec-a")
    page = sec_a.get(PAGE).text
    assert 'enctype="multipart/form-data"' in page and 'type="file" name="attachment"' in page
    filed = sec_a.post("/web/appeal", data=_form(sec_a, site), files={"attachment": ("会议记录.pdf", SCAN, "application/pdf")})
    assert flash_of(filed.text).startswith("ok:申诉已提交") and "附件已存档" in filed.text
    [event] = _filed(site)
    stored = event.data["attachment"]
    assert stored == {"sha256": hashlib.sha256(SCAN).hexdigest(), "name": "会议记录.pdf", "media_type": "application/pdf",
                      "size": len(SCAN)}  # the log proves which file was attached
    path = attachment_store / stored["sha256"][:2] / stored["sha256"]
    assert path.read_bytes() == SCAN  # the file itself is outside the log
    assert 'data-attachment="matches"' in filed.text and "文件与日志中的 SHA-256 相符" in filed.text
    link = f"/web/appeal/{event.data['appeal_id']}/attachment"
    assert f'href="{link}"' in filed.text
    download = sec_a.get(link)
    assert download.status_code == 200 and download.content == SCAN
    assert download.headers["content-type"] == "application/pdf" and "attachment;" in download.headers["content-disposition"]
    assert site.client("sec-b").get(link).status_code == 403  # another branch's secretary

    committee = site.client("committee")
    desk = committee.get("/web/committee?year=2019").text
    case = re.search(r'<article class="panel appeal-case".*?</article>', desk, re.S).group(0)  # type: ignore[union-attr]
    assert "会议记录.pdf" in case and 'data-attachment="matches"' in case
    assert 'data-age="within" data-days="0"' in case and "申诉期 30 天" in case and "等待未满申诉期" in case
    assert committee.get(link).content == SCAN  # the committee reads every branch

    # The stored file replaced: reported as not matching, never served as the appeal's.
    path.write_bytes(SCAN.replace("整改单".encode(), "假文件".encode()))
    replaced = sec_a.get(PAGE).text
    assert 'data-attachment="replaced"' in replaced and "文件已被替换：与日志中的 SHA-256 不符" in replaced
    assert f'href="{link}"' not in replaced
    refused = sec_a.get(link)
    assert refused.status_code == 409 and "文件已被替换" in refused.text
    path.unlink()
    assert 'data-attachment="missing"' in sec_a.get(PAGE).text and sec_a.get(link).status_code == 409


def test_attachments_of_another_type_or_too_big_are_refused_in_chinese(site: Any) -> None:
    sec_a = site.client("sec-a")
    for name, data, reason in (
            ("会议记录.pdf", b"just text, named .pdf", "附件只能是 PDF 文件、JPEG 图片、PNG 图片（按文件内容判断，不看扩展名）"),
            ("大.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES, "附件过大：10.0 MB，最大 10 MB"),
            ("空.png", b"", "附件是空文件"),
            ("", b"", None)):  # no file chosen (a browser sends no name): an appeal without an attachment
        answer = sec_a.post("/web/appeal", data=_form(sec_a, site), files={"attachment": (name, data, "application/pdf")})
        if reason is None:
            assert flash_of(answer.text).startswith("ok:申诉已提交") and "附件已存档" not in answer.text
            assert _filed(site)[-1].data.get("attachment") is None
        else:
            shown = flash_of(answer.text)
            assert shown.startswith("error:未能完成：") and reason.replace(" ", "") in shown, (name, shown)
            assert not _filed(site)  # nothing written


def _token(site: Any, user: str) -> dict[str, str]:
    issued = site.ledger.command("issue_token", as_user="admin", user=user, actor="admin")
    return {"Authorization": f"Bearer {issued['token']}"}


def test_an_appeal_with_its_scan_through_the_api(site: Any, attachment_store: Path) -> None:
    api = site.client()
    sec = _token(site, "sec-a")
    assert api.post("/attachments?name=x.pdf", content=SCAN, headers=_token(site, "auditor")).status_code == 403
    wrong = api.post("/attachments?name=x.png", content=b"GIF89a", headers=sec)
    assert wrong.status_code == 422 and wrong.json()["field"] == "attachment"
    uploaded = api.post("/attachments?name=整改单.pdf", content=SCAN, headers=sec)
    assert uploaded.status_code == 201
    attachment = uploaded.json()
    assert attachment["sha256"] == hashlib.sha256(SCAN).hexdigest() and attachment["size"] == len(SCAN)
    body = {"entry_id": site.ids["w/09/A"], "branch": "A", "reason": "记录附后"}
    unknown = {**attachment, "sha256": "0" * 64}
    refused = api.post("/commands/file_appeal", json={**body, "attachment": unknown}, headers=sec)
    assert refused.status_code == 422 and "附件库中没有这个文件" in refused.json()["reason"]
    assert not _filed(site)  # the log names only a stored file
    filed = api.post("/commands/file_appeal", json={**body, "attachment": attachment}, headers=sec)
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["result"]
    assert _filed(site)[0].data["attachment"]["sha256"] == hashlib.sha256(SCAN).hexdigest()
    [row] = api.get("/appeals?branch=A", headers=sec).json()["appeals"]
    assert row["attachment"]["status"] == "matches" and row["waiting"]["age"] == "within"
    assert row["waiting"]["days"] == 0 and row["waiting"]["window_days"] == 30 and row["waiting"]["window_closes"]
    later = datetime.now(SHANGHAI) + timedelta(days=45)  # the same log read 45 days on: waited past the window
    [then] = api.get("/appeals", params={"branch": "A", "as_of": later.isoformat()}, headers=sec).json()["appeals"]
    assert then["waiting"]["days"] == 45 and then["waiting"]["age"] == "beyond"
    assert api.get(f"/appeals/{appeal_id}/attachment", headers=sec).content == SCAN
    auditor = _token(site, "auditor")
    checked = api.get("/verify", headers=auditor).json()
    assert checked["ok"] and checked["attachments"] == checked["attachments_checked"] == 1, checked
    (attachment_store / attachment["sha256"][:2] / attachment["sha256"]).write_bytes(b"%PDF-1.4 other")
    [row] = api.get("/appeals?branch=A", headers=sec).json()["appeals"]
    assert row["attachment"]["status"] == "replaced"
    assert api.get(f"/appeals/{appeal_id}/attachment", headers=sec).status_code == 409
    position = _filed(site)[0].position
    verified = api.get("/verify", headers=auditor).json()  # the server's own attachment folder
    assert not verified["ok"] and verified["first_problem"]["kind"] == "attachment_altered", verified
    assert verified["first_problem"]["position"] == position


def test_ledger_import_with_an_attachment(site: Any, db_url: str, tmp_path: Path, attachment_store: Path) -> None:
    scan = tmp_path / "整改单.pdf"
    scan.write_bytes(SCAN)
    line = {"op": "file_appeal", "key": "cli-appeal", "entry_key": "w/09/A", "branch": "A", "reason": "整改单附后",
            "actor": "周建国"}
    jsonl = tmp_path / "appeal.jsonl"
    env = {"LEDGER_DATABASE_URL": db_url, "LEDGER_USER": "sec-a"}
    jsonl.write_text(json.dumps({**line, "attachment": "other.pdf"}, ensure_ascii=False) + "\n", encoding="utf-8")
    named_wrong = CliRunner().invoke(main, ["import", str(jsonl), "--attachment", str(scan)], env=env)
    assert named_wrong.exit_code == 1 and "没有用 --attachment 给出名为 'other.pdf' 的文件" in named_wrong.output
    assert not _filed(site)
    jsonl.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["import", str(jsonl), "--attachment", str(scan)], env=env)
    assert result.exit_code == 0, result.output
    [event] = _filed(site)
    assert event.data["attachment"]["sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert event.data["attachment"]["name"] == "整改单.pdf"
    assert (attachment_store / event.data["attachment"]["sha256"][:2] / event.data["attachment"]["sha256"]).is_file()
