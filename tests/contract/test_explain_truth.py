"""Every surface of an explanation tells the truth (issue 14, items 1 and 12): text, JSON,
web page and Excel come from one model; each entry shows the points recorded, the points
counted and its corrections, void and appeals (open ones too); the counted points shown add
up to the score shown; ``ledger entries`` marks voided and corrected entries; the demo reruns
after an appeal was decided."""
from __future__ import annotations

import io
import itertools
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from adapters.bootstrap import engine_of
from adapters.cli.explain import explain_month_text, explain_quarter_text
from adapters.cli.main import main
from adapters.exports.explanations import entries_at, explain_month_at
from adapters.exports.workbooks import EXPLAIN_COLUMNS, FIRST_ROW, explain_month_workbook, workbook_bytes
from tests.helpers import approve, company, deduct, model_of

LABEL = next(i for i, c in enumerate(EXPLAIN_COLUMNS) if c[0] == "类别")
COUNTED = next(i for i, c in enumerate(EXPLAIN_COLUMNS) if c[0] == "计入分值")


# -- reading the outputs back as a person would -----------------------------------------------------------
def text_figures(text: str) -> tuple[Decimal, Decimal, list[Decimal]]:
    """(base, score, counted points of each entry line) as a month's text prints them."""
    head = re.search(r"基础分 (-?[\d.]+)，得分 (-?[\d.]+)", text)
    assert head, text
    counted = []
    for line in text.splitlines():
        if line.startswith("  位置"):
            found = re.search(r"录入 -?[\d.]+.*?计入 (-?[\d.]+)", line)
            assert found, f"entry line shows no recorded and counted points: {line}"
            counted.append(Decimal(found.group(1)))
    return Decimal(head.group(1)), Decimal(head.group(2)), counted


def sheet_figures(body: bytes) -> tuple[Decimal, Decimal, Decimal, list[Decimal]]:
    """(计入合计, 基础分, 得分, counted points of each entry row) of an explanation workbook."""
    ws = load_workbook(io.BytesIO(body)).active
    summary: dict[str, Decimal] = {}
    counted = []
    for row in ws.iter_rows(min_row=FIRST_ROW, values_only=True):
        if row[1] is None and row[LABEL] in ("计入合计", "基础分", "得分"):
            summary[row[LABEL]] = Decimal(str(row[COUNTED]))
        elif row[1] is not None:
            counted.append(Decimal(str(row[COUNTED])).quantize(Decimal("0.01")))
    return summary["计入合计"], summary["基础分"], summary["得分"], counted


def expected_score(now: dict[str, tuple[str, Decimal | None]], caps: dict[str, Decimal], bonus_cap: Decimal) -> Decimal:
    """An independent oracle: 100 − each category's deductions up to its cap + bonus up to its cap."""
    sums: dict[str, Decimal] = {}
    for category, points in now.values():
        if points is not None:
            sums[category] = sums.get(category, Decimal(0)) + points
    score = Decimal(100)
    for category, total in sums.items():
        score += min(total, bonus_cap) if category == "bonus" else -min(-total, caps[category])
    return score.quantize(Decimal("0.01"))


def check_all_outputs(app: Any, period: str, branch: str, score: Decimal | None = None) -> dict[str, Any]:
    """Text, JSON and Excel of one explanation add up to the score; return the JSON."""
    data = explain_month_at(engine_of(app), model_of(app), period, branch)
    data = json.loads(json.dumps(data))  # as --json and the API give it
    base, shown, counted = text_figures(explain_month_text(data))
    assert base + sum(counted, Decimal(0)) == shown == Decimal(data["score"])
    assert Decimal(data["base"]) + sum((Decimal(e["counted_points"]) for e in data["entries"]), Decimal(0)) \
        == Decimal(data["score"])
    total, sbase, sscore, rows = sheet_figures(workbook_bytes(explain_month_workbook(data)))
    assert sum(rows, Decimal(0)) == total and sbase + total == sscore == Decimal(data["score"])
    if score is not None:
        assert Decimal(data["score"]) == score
    return data


# -- the defects as seen ------------------------------------------------------------------------------------
@pytest.fixture
def corrected(app):
    """A's 2019-09: −2 corrected to 0 by an upheld appeal, −1.5 under an open appeal, −1 as recorded."""
    company(app, ("A", "full_time", None))
    first = deduct(app, "A", "2019-09", "-2")
    second = deduct(app, "A", "2019-09", "-1.5", "daily", "office")
    deduct(app, "A", "2019-09", "-1")
    approve(app, "2019-09")
    appeal = app.file_appeal(entry_id=str(first), branch="A", reason="已整改", actor="A书记")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="0", reason="依据不足", actor="committee")
    app.file_appeal(entry_id=str(second), branch="A", reason="理由不实", actor="A书记")
    return app, first, second


def test_text_after_an_upheld_appeal_adds_up_and_shows_open_appeals(corrected, db_url) -> None:
    app, first, second = corrected
    out = CliRunner().invoke(main, ["explain", "month", "2019-09", "--branch", "A"], env={"LEDGER_DATABASE_URL": db_url})
    assert out.exit_code == 0, out.output
    base, score, counted = text_figures(out.output)
    assert score == Decimal("97.50") and base + sum(counted, Decimal(0)) == score
    assert "录入 -2.00，已更正为 0.00，计入 0.00" in out.output and "申诉成立" in out.output
    assert "申诉未决" in out.output and "理由不实" in out.output and "未决申诉 1 项" in out.output
    data = json.loads(CliRunner().invoke(main, ["explain", "month", "2019-09", "--branch", "A", "--json"],
                                         env={"LEDGER_DATABASE_URL": db_url}).output)
    rows = {e["entry_id"]: e for e in data["entries"]}
    assert (rows[str(first)]["state"], rows[str(first)]["current_points"], rows[str(first)]["counted_points"]) == (
        "corrected", "0.00", "0.00")
    assert [a["state"] for a in rows[str(first)]["appeals"]] == ["upheld"]
    assert [a["state"] for a in rows[str(second)]["appeals"]] == ["open"] and data["open_appeals"] == 1
    assert data["counted_total"] == "-2.50"


def test_a_void_is_shown_as_not_counted(app, db_url) -> None:
    company(app, ("A", "full_time", None))
    gone = deduct(app, "A", "2019-07", "-16", "political")
    deduct(app, "A", "2019-07", "-1", "daily", "office")
    app.void_entry(entry_id=str(gone), reason="录错支部", actor="scorer")
    out = CliRunner().invoke(main, ["explain", "month", "2019-07", "--branch", "A"], env={"LEDGER_DATABASE_URL": db_url})
    base, score, counted = text_figures(out.output)
    assert score == Decimal("99.00") and base + sum(counted, Decimal(0)) == score
    assert "录入 -16.00，已作废，计入 0.00" in out.output and "作废" in out.output and "录错支部" in out.output
    quarter = CliRunner().invoke(main, ["explain", "quarter", "2019Q3", "--branch", "A"],
                                 env={"LEDGER_DATABASE_URL": db_url})
    assert quarter.exit_code == 0 and "已作废" in quarter.output


def test_entries_mark_voided_and_corrected_and_show_counted_points(corrected, db_url) -> None:
    app, first, second = corrected
    env = {"LEDGER_DATABASE_URL": db_url}
    rows = json.loads(CliRunner().invoke(main, ["entries", "--period", "2019-09", "--json"], env=env).output)["entries"]
    by_id = {r["entry_id"]: r for r in rows}
    assert by_id[str(first)]["state"] == "corrected" and by_id[str(first)]["counted_points"] == "0.00"
    assert by_id[str(first)]["points"] == "-2.00" and by_id[str(first)]["current_points"] == "0.00"
    assert by_id[str(second)]["state"] == "recorded" and by_id[str(second)]["appeals"][0]["state"] == "open"
    text = CliRunner().invoke(main, ["entries", "--period", "2019-09", "--branch", "A"], env=env).output
    assert "已更正" in text and "申诉未决" in text and "申诉成立" in text
    assert rows == entries_at(engine_of(app), model_of(app), "2019-09", None)  # the CLI's rows are the model's


def test_entries_mark_a_void(app, db_url) -> None:
    company(app, ("A", "full_time", None))
    gone = deduct(app, "A", "2019-07", "-3")
    app.void_entry(entry_id=str(gone), reason="录错", actor="scorer")
    rows = json.loads(CliRunner().invoke(main, ["entries", "--period", "2019-07", "--json"],
                                         env={"LEDGER_DATABASE_URL": db_url}).output)["entries"]
    assert [(r["state"], r["current_points"], r["counted_points"]) for r in rows] == [("voided", None, "0.00")]
    text = CliRunner().invoke(main, ["entries", "--period", "2019-07"], env={"LEDGER_DATABASE_URL": db_url}).output
    assert "已作废" in text and "录错" in text


def test_with_proofs_shows_the_proofs_in_text(corrected, db_url) -> None:
    env = {"LEDGER_DATABASE_URL": db_url}
    data = json.loads(CliRunner().invoke(main, ["explain", "month", "2019-09", "--branch", "A", "--json",
                                                "--with-proofs"], env=env).output)
    out = CliRunner().invoke(main, ["explain", "month", "2019-09", "--branch", "A", "--with-proofs"], env=env)
    assert out.exit_code == 0, out.output
    for e in data["entries"]:
        assert f"包含证明：叶子 {e['proof']['leaf_index']}，路径 {' '.join(e['proof']['hashes'])}" in out.output
    assert data["checkpoint"].splitlines()[0] in out.output and "签名检查点" in out.output
    quarter = CliRunner().invoke(main, ["explain", "quarter", "2019Q3", "--branch", "A", "--with-proofs"], env=env)
    assert quarter.exit_code == 0 and "包含证明：叶子" in quarter.output and "签名检查点" in quarter.output


def test_excel_of_an_explanation_adds_up(corrected, db_url, tmp_path) -> None:
    env = {"LEDGER_DATABASE_URL": db_url}
    path = tmp_path / "e.xlsx"
    out = CliRunner().invoke(main, ["explain", "month", "2019-09", "--branch", "A", "--xlsx", str(path)], env=env)
    assert out.exit_code == 0, out.output
    total, base, score, rows = sheet_figures(path.read_bytes())
    assert (total, base, score) == (Decimal("-2.50"), Decimal(100), Decimal("97.50")) and sum(rows) == total
    cells = [c for row in load_workbook(path).active.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("申诉未决" in c for c in cells) and any("更正为 0.00" in c for c in cells)
    qpath = tmp_path / "q.xlsx"
    assert CliRunner().invoke(main, ["explain", "quarter", "2019Q3", "--branch", "A", "--xlsx", str(qpath)],
                              env=env).exit_code == 0
    ws = load_workbook(qpath).active
    scores = [r[COUNTED] for r in ws.iter_rows(min_row=FIRST_ROW, values_only=True) if r[LABEL] == "得分"]
    assert [Decimal(str(s)) for s in scores] == [Decimal(100), Decimal(100), Decimal("97.50")]


def test_quarter_text_months_add_up(corrected, db_url) -> None:
    app, _, _ = corrected
    from adapters.exports.explanations import explain_quarter_at
    data = explain_quarter_at(engine_of(app), model_of(app), "2019Q3", "A")
    text = explain_quarter_text(data)
    for month in text.split("\n\n")[1:]:
        base, score, counted = text_figures(month)
        assert base + sum(counted, Decimal(0)) == score


# -- the property: random corrections, voids, appeals and caps, on both databases ---------------------------
QUARTERS = (f"{y}-{m:02d}" for y in range(2000, 2019) for m in (1, 4, 7, 10))

scenario = st.fixed_dictionaries({
    "caps": st.fixed_dictionaries({"political": st.sampled_from(["1", "2.5", "4"]),
                                   "daily": st.sampled_from(["0.5", "3"])}),
    "bonus_cap": st.sampled_from(["1", "2", "5"]),
    "entries": st.lists(st.tuples(st.sampled_from(["political", "daily", "bonus"]),
                                  st.sampled_from(["0.5", "1", "1.5", "2.25"]), st.sampled_from("AB")),
                        min_size=0, max_size=7),
    "voids": st.lists(st.integers(0, 6), max_size=3),
    "corrections": st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["0", "0.5", "1"])), max_size=3),
    "appeals": st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["open", "rejected", "0", "0.25"])),
                        max_size=3),
})


def test_every_output_adds_up_under_random_corrections_voids_and_caps(app) -> None:
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    months = iter(QUARTERS)
    versions = itertools.count(2)
    departments = {"political": "party_mass", "daily": "office", "bonus": "party_mass"}

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(scenario)
    def run(s: dict[str, Any]) -> None:
        period = next(months)
        caps = {c: Decimal(v) for c, v in s["caps"].items()}
        app.adopt_rulebook(version=next(versions), **{"from": period}, actor="committee",
                           parameters={"category_points": {**{"political": "15", "ideological": "10",
                                                               "organizational": "15", "conduct": "10",
                                                               "discipline": "10", "anti_corruption": "10",
                                                               "governance": "10", "mass_work": "10"},
                                                            **s["caps"]}, "bonus_cap": s["bonus_cap"]})
        now: dict[str, dict[str, tuple[str, Decimal | None]]] = {"A": {}, "B": {}}
        ids: list[tuple[str, str, str]] = []  # (entry id, branch, category)
        for category, size, branch in s["entries"]:
            points = Decimal(size) if category == "bonus" else -Decimal(size)
            entry = str(app.record_score(branch=branch, period=period, category=category, points=str(points),
                                         reason="随机条目", department=departments[category], actor="scorer"))
            ids.append((entry, branch, category))
            now[branch][entry] = (category, points)
        for i in dict.fromkeys(s["voids"]):
            if i < len(ids):
                entry, branch, category = ids[i]
                app.void_entry(entry_id=entry, reason="作废", actor="scorer")
                now[branch][entry] = (category, None)
        app.submit_month(period=period, actor="aggregator")
        for i, size in s["corrections"]:
            if i < len(ids) and now[ids[i][1]][ids[i][0]][1] is not None:
                entry, branch, category = ids[i]
                new = Decimal(size) if category == "bonus" else -Decimal(size)
                app.correct_entry(entry_id=entry, points=str(new), reason="更正", actor="committee")
                now[branch][entry] = (category, new)
        app.approve_month(period=period, actor="approver")
        for i, outcome in dict(s["appeals"]).items():
            if i >= len(ids) or now[ids[i][1]][ids[i][0]][1] is None:
                continue
            entry, branch, category = ids[i]
            current = now[branch][entry][1]
            appeal = app.file_appeal(entry_id=entry, branch=branch, reason="申诉", actor=f"{branch}书记")
            if outcome == "rejected":
                app.decide_appeal(appeal_id=str(appeal), decision="rejected", reason="驳回", actor="committee")
            elif outcome != "open":
                new = max(current, -Decimal(outcome)) if current < 0 else min(current, Decimal(outcome))
                app.decide_appeal(appeal_id=str(appeal), decision="upheld", points=str(new), reason="成立",
                                  actor="committee")
                now[branch][entry] = (category, new)
        for branch in "AB":
            data = check_all_outputs(app, period, branch, expected_score(now[branch], caps, Decimal(s["bonus_cap"])))
            assert [e["entry_id"] for e in data["entries"]] == list(now[branch])
        rows = entries_at(engine_of(app), model_of(app), period, None)
        for branch in "AB":
            counted = sum((Decimal(r["counted_points"]) for r in rows if r["branch"] == branch), Decimal(0))
            assert Decimal(100) + counted == expected_score(now[branch], caps, Decimal(s["bonus_cap"]))

    run()


# -- the demo ------------------------------------------------------------------------------------------------
def test_the_demo_reruns_after_an_appeal_and_prints_the_same_figures(db_url, monkeypatch, capsys, tmp_path) -> None:
    from adapters.bootstrap import close, make_ledger, migration_user
    from scripts import demo
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    def shown() -> list[str]:
        demo.main()
        return capsys.readouterr().out.splitlines()[1:]  # line 1 counts the lines appended and skipped
    first = shown()
    assert shown() == first  # a second run appends nothing and prints the same figures
    ledger = make_ledger(db_url)
    try:
        ledger.default_user = migration_user(ledger)
        entry = ledger.import_batch(enumerate([
            {"op": "file_appeal", "key": "appeal-1", "entry_key": "demo/2019-09/REPAIR/0", "branch": "REPAIR",
             "reason": "已整改", "actor": "李建军"},
            {"op": "decide_appeal", "key": "decide-1", "appeal_key": "appeal-1", "decision": "upheld", "points": "0",
             "reason": "整改证据属实", "actor": "公司党委会"},
            {"op": "file_appeal", "key": "appeal-2", "entry_key": "demo/2019-09/REPAIR/1", "branch": "REPAIR",
             "reason": "理由不充分", "actor": "李建军"}], start=1))
        assert entry.appended == 3
        after = shown()
        assert after != first and shown() == after
        september = next(line for line in after if line.startswith("  2019-09："))
        explained = explain_month_at(engine_of(ledger), model_of(ledger), "2019-09", "REPAIR")
        assert september.endswith(f"→ {explained['score']}") and "已更正，录入 -2.00" in september
        figures = [Decimal(x) for x in re.findall(r"(-?\d+\.\d+)（", september)]
        assert Decimal(explained["base"]) + sum(figures, Decimal(0)) == Decimal(explained["score"])
    finally:
        close(ledger)


# -- the web page and its Excel: the same model ------------------------------------------------------------


def test_web_page_and_its_excel_show_the_model(site) -> None:
    app = site.ledger
    appeal = app.file_appeal(entry_id=site.ids["w/09/A"], branch="A", reason="已按时召开，记录补交", actor="周建国")
    app.decide_appeal(appeal_id=str(appeal), decision="upheld", points="-1", reason="部分成立", actor="committee")
    app.file_appeal(entry_id=site.ids["w/08/A"], branch="A", reason="会议记录可证", actor="周建国")
    client = site.client("auditor")
    page = client.get("/web/explain/month/2019-09?branch=A")
    assert page.status_code == 200
    assert 'class="entry-corrected"' in page.text and "更正为 -1.00" in page.text and "申诉成立" in page.text
    assert '<strong class="counted">-1.00</strong>' in page.text and "计入合计 <strong>-1.00</strong>" in page.text
    august = client.get("/web/explain/month/2019-08?branch=A")
    assert "申诉未决" in august.text and "未决申诉 1 项" in august.text
    sheet = client.get("/web/explain/month/2019-09.xlsx?branch=A")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    total, base, score, rows = sheet_figures(sheet.content)
    explained = explain_month_at(engine_of(app), model_of(app), "2019-09", "A")
    assert (total, score, rows) == (Decimal("-1.00"), Decimal(explained["score"]), [Decimal("-1.00")])
    quarter = client.get("/web/explain/quarter/2019Q3.xlsx?branch=A")
    assert quarter.status_code == 200 and sheet_figures(quarter.content)[0] == Decimal("-1.00")  # the last month's
    assert site.client("sec-b").get("/web/explain/month/2019-09.xlsx?branch=A").status_code == 403
