"""Demo: a company like the seed's (11 branches, 197 members, 2019), a year of plausible
entries and business scores imported as one batch, every month and quarter approved, the
annual inputs recorded and the year approved; then 2019Q3 and the year are shown.

Run ``python scripts/demo.py`` (database: ``LEDGER_DATABASE_URL``, default
``ledger.sqlite3`` here). Idempotent: every line has a key, so a second run appends nothing.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.bootstrap import database_url, engine_of, make_ledger, migration_user  # noqa: E402
from adapters.cli.main import quarter_text, year_text  # noqa: E402
from adapters.exports.explain_format import STATE_NAMES  # noqa: E402
from adapters.exports.explanations import explain_quarter_at  # noqa: E402
from adapters.store.views import MaintainedView  # noqa: E402
from scripts import (  # noqa: E402  # noqa: E402
    demo_care,
    demo_dues,
    demo_innovation,
    demo_links,
    demo_meetings,
    demo_member_points,
    demo_mentoring,
    demo_people,
    demo_projects,
    demo_selection,
)

MEMBER_LEVEL = (demo_meetings, demo_member_points, demo_care, demo_links, demo_projects, demo_innovation, demo_selection,
                demo_mentoring, demo_dues)
from domain.periods import month_range  # noqa: E402
from projections.annual import year_json  # noqa: E402
from projections.explain import check_adds_up  # noqa: E402
from projections.views import quarter_json  # noqa: E402

BRANCHES = [  # code, name, members, secretary, mode, monthly allowance
    ("SMELT", "熔炼车间党支部", 28, "周建国", "full_time", None),
    ("ELECT", "电解车间党支部", 26, "陈志强", "full_time", None),
    ("ACID", "硫酸车间党支部", 19, "刘红梅", "part_time", "800"),
    ("POWER", "动力车间党支部", 17, "王海涛", "part_time", "800"),
    ("REPAIR", "机修车间党支部", 16, "李建军", "part_time", "600"),
    ("QC", "质检中心党支部", 14, "张丽", "full_time", None),
    ("LOGI", "物流中心党支部", 13, "赵明", "part_time", "600"),
    ("SALES", "营销党支部", 12, "孙伟", "full_time", None),
    ("ADMIN1", "机关第一党支部", 21, "黄晓燕", "full_time", None),
    ("ADMIN2", "机关第二党支部", 18, "吴刚", "full_time", None),
    ("RETIRE", "离退休党支部", 13, "郑秀兰", "full_time", None),
]
DEDUCTIONS = [  # category, department, reasons
    ("political", "party_mass", ["第一议题学习记录不全", "理论学习中心组缺课"]),
    ("ideological", "party_mass", ["意识形态阵地台账缺失", "思想动态分析未按时报送"]),
    ("organizational", "party_mass", ["三会一课记录不规范", "党费收缴未按时完成"]),
    ("mass_work", "party_mass", ["工会活动未按计划开展"]),
    ("conduct", "discipline_inspection", ["上班期间脱岗", "会风会纪不严"]),
    ("discipline", "discipline_inspection", ["违反请销假制度"]),
    ("anti_corruption", "discipline_inspection", ["廉洁风险点排查未完成"]),
    ("governance", "office", ["安全隐患整改超期", "信访件未按期回复"]),
    ("daily", "office", ["临时任务未按时完成", "报表迟报"]),
]
BONUSES = ["技术攻关获公司表彰", "党员突击队完成抢修任务", "一年做成一件事项目验收优秀"]
YEAR_MONTHS = month_range("2019-01", 12)
TASK_BOOK_DATE = "2019-01-02"  # the 2019 task book (rulebook v1) and the roster: the ledger's setting up


def document_date(line: dict[str, Any]) -> str:
    """The date on the paper a demo line stands for (its ``occurred_at``): the line's own
    ``date``; else the 25th of its ``month`` or ``period`` (a month); else the first of the
    month it takes effect ``from``; else the last day of its ``year``; else 2 January 2019,
    the day the company's 2019 task book and roster were set up."""
    for name in ("date", "day"):
        if isinstance(line.get(name), str) and len(line[name]) >= 10:
            return str(line[name])[:10]
    for name in ("month", "period"):
        if isinstance(line.get(name), str) and len(line[name]) == 7 and line[name][4] == "-":
            return line[name] + "-25"
    for name in ("from", "from_month"):
        if isinstance(line.get(name), str) and len(line[name]) == 7:
            return line[name] + "-01" if line[name] != "2019-01" else TASK_BOOK_DATE
    if isinstance(line.get("year"), str):
        return line["year"] + "-12-31"
    return TASK_BOOK_DATE


def _inspection_day(month: str, code: str, n: int) -> str:
    """The day a department's inspection found entry ``n`` of a branch (stable, no randomness:
    the demo's numbers do not depend on it)."""
    return f"{month}-{3 + (sum(map(ord, code)) + 7 * n) % 23:02d}"


def _meeting_day(month: str, day: int) -> str:
    """Day ``day`` of the month after ``month``: submissions and approvals follow the month."""
    year, number = int(month[:4]), int(month[5:])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return f"{year}-{number:02d}-{day:02d}"


def demo_lines(seed: int = 2019) -> Iterator[dict[str, Any]]:
    """Every command of the demo year, each with a stable key and the date of its document
    (``occurred_at``: entries on their inspection days, approvals on their meeting days)."""
    for line in _demo_lines(seed):
        yield line if "occurred_at" in line else {**line, "occurred_at": document_date(line)}


def _demo_lines(seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for code, name, members, secretary, mode, allowance in BRANCHES:
        yield {"op": "register_branch", "key": f"demo/branch/{code}", "code": code, "name": name,
               "members": members, "actor": "党群工作部-登记员"}
        line = {"op": "appoint_secretary", "key": f"demo/secretary/{code}", "branch": code,
                "name": secretary, "mode": mode, "from": "2019-01", "actor": "党群工作部-登记员"}
        if allowance:
            line["allowance"] = allowance
        yield line
    yield from demo_people.lines()
    for month in YEAR_MONTHS:
        for code, *_ in BRANCHES:
            weak = 3 if code in ("LOGI", "REPAIR") else 1  # two branches struggle more often
            for n in range(rng.choice([0, 1, 1, 2, 2, 3]) * weak):
                category, department, reasons = rng.choice(DEDUCTIONS)
                points = rng.choice(["-0.5", "-1", "-1", "-1.5", "-2"])
                yield {"op": "record_score", "key": f"demo/{month}/{code}/{n}", "branch": code,
                       "period": month, "category": category, "points": points,
                       "reason": rng.choice(reasons), "department": department,
                       "actor": f"{department}-考核员", "occurred_at": _inspection_day(month, code, n)}
            if rng.random() < 0.12:
                yield {"op": "record_score", "key": f"demo/{month}/{code}/bonus", "branch": code,
                       "period": month, "category": "bonus", "points": rng.choice(["1", "2", "3"]),
                       "reason": rng.choice(BONUSES), "department": "party_mass",
                       "actor": "party_mass-考核员", "occurred_at": _inspection_day(month, code, 9)}
        for code, *_ in BRANCHES:
            if code not in ("ADMIN1", "ADMIN2", "RETIRE"):  # production and business units
                yield {"op": "record_business_score", "key": f"demo/{month}/{code}/business",
                       "branch": code, "period": month, "score": f"{rng.randint(9000, 10000) / 100:.2f}",
                       "actor": "企业管理部"}
        yield {"op": "submit_month", "key": f"demo/{month}/submit", "period": month,
               "actor": "党群工作部-汇总员", "occurred_at": _meeting_day(month, 3)}
        yield {"op": "approve_month", "key": f"demo/{month}/approve", "period": month,
               "actor": "公司党委书记", "occurred_at": _meeting_day(month, 5)}
        if month.endswith(("03", "06", "09", "12")):
            quarter = f"{month[:4]}Q{int(month[5:]) // 3}"
            yield {"op": "approve_quarter", "key": f"demo/{quarter}/approve", "period": quarter,
                   "actor": "公司党委书记", "occurred_at": _meeting_day(month, 10)}
    for code, *_ in BRANCHES:
        yield {"op": "record_unit_performance", "key": f"demo/2019/{code}/unit", "branch": code,
               "year": "2019", "score": f"{rng.randint(8500, 9900) / 100:.2f}", "actor": "企业管理部",
               "occurred_at": "2020-01-10"}
        yield {"op": "record_debriefing", "key": f"demo/2019/{code}/debriefing", "branch": code,
               "year": "2019", "score": f"{rng.randint(8000, 9800) / 100:.2f}", "actor": "公司党委会",
               "occurred_at": "2020-01-15"}
    yield {"op": "approve_year", "key": "demo/2019/approve", "year": "2019", "actor": "公司党委会",
           "occurred_at": "2020-01-20"}
    for part in MEMBER_LEVEL:  # points, talks and visits, links, projects, proposals, selection, mentoring
        yield from part.lines(random.Random(f"{seed}/{part.__name__}"))


def _show(args: list[str], lines: int = 4) -> None:
    """Run ``ledger ARGS`` in-process and print its first ``lines`` lines."""
    import contextlib
    import io

    from adapters.cli.main import main as ledger
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ledger.main(args=args, standalone_mode=False)
    print(f"\n$ ledger {' '.join(args)}")
    print("\n".join(out.getvalue().splitlines()[:lines]))


def main() -> None:
    ledger = make_ledger(database_url())
    # 2019 is history: loaded as a migration onto a ledger set up with the 2019 task book's date
    ledger.default_user = migration_user(ledger, documented_at=TASK_BOOK_DATE)
    result = ledger.import_batch(enumerate(demo_lines(), start=1))
    print(f"演示数据：新增 {result.appended} 条命令，跳过 {result.skipped} 条（已在账本中）。数据库：{database_url()}\n")
    model = MaintainedView(engine_of(ledger)).model()
    print(quarter_text(quarter_json(model, "2019Q3")))
    last = quarter_json(model, "2019Q3")["branches"][-1]["branch"]
    explained = explain_quarter_at(engine_of(ledger), model, "2019Q3", last)  # the model every surface shows
    print(f"\n末位支部 {last} 的季度得分从何而来（ledger explain quarter 2019Q3 --branch {last}）：")
    print(f"  季度得分 {explained['score']} = ({' + '.join(explained['mean_of'])}) / 3，"
          f"第 {explained['rank']} 名，罚款 {explained['fine']} 元——"
          f"{explained['rules'][0]['text'] if explained['rules'] else ''}")
    for month in explained["months"]:
        check_adds_up(month)
        counted = ", ".join(f"{e['counted_points']}（{e['reason']}，位置 {e['position']}"
                            + ("" if e["state"] == "recorded" else f"，{STATE_NAMES[e['state']]}，录入 {e['points']}")
                            + "）" for e in month["entries"])
        print(f"  {month['period']}：{month['base']} {counted or '（无扣分）'} → {month['score']}")
    print()
    print(year_text(year_json(model, "2019")))
    print("\n党员层面的机制（每条命令的前几行；完整输出请直接运行该命令）：")
    for args in (["members", "show", "2019", "--branch", "REPAIR"], ["people", "list", "2019-12", "--branch", "QC"],
                 ["talks", "due"], ["links", "show", "--branch", "REPAIR"], ["projects", "show", "2019"],
                 ["innovation", "show", "--year", "2019"], ["selection", "show", demo_selection.POSITION],
                 ["mentors", "show", "2019"]):
        _show(args)
    _show(["meetings", "schedule", "2019"], lines=8)  # organizational life: the branches behind schedule
    _show(["dues", "statement", "2019H1", "--branch", "QC"], lines=40)  # posted with its signed checkpoint
    print("\n查看明细：ledger month show 2019-07 ；ledger entries --period 2019-07 --branch REPAIR ；"
          "ledger quarter show 2019Q3 --json ；ledger year show 2019 --json")


if __name__ == "__main__":
    main()
