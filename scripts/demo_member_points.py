"""Demo company's party-member points (党员积分) for 2019, as import lines.

Individual-behaviour entries against the seven items for about a third of the members each
month, a party-group work entry for most groups each month, a December appraisal (民主评议)
for every member, and one correction (an entry voided and recorded again). Drawn from
``scripts/demo_people.MEMBERS``, recorded by each branch's secretary; every line has a
``demo/points/…`` key, so a second import appends nothing.
"""
from __future__ import annotations

import random
from typing import Any, Iterator

from domain.periods import month_range
from scripts.demo_branches import secretary
from scripts.demo_meetings import records_attendance
from scripts.demo_people import MEMBERS

YEAR = "2019"
ITEM_ENTRIES = {  # item → (points, reason) drawn from
    "political_study": [("2", "参加党委理论学习集中轮训"), ("1", "学习强国月度积分达标"), ("-2", "无故缺席集中学习")],
    "organizational_life": [("1", "按时参加主题党日"), ("-3", "无故缺席支部党员大会"), ("-1", "党费迟交")],
    "assigned_tasks": [("3", "完成党支部交办的安全宣讲任务"), ("2", "参加党员突击队抢修"), ("-2", "交办任务逾期未完成")],
    "job_duties": [("3", "岗位技术攻关获厂部表彰"), ("2", "班组经济日核算成绩突出"), ("-3", "违反操作规程被考核")],
    "discipline_integrity": [("-5", "违反请销假制度"), ("-3", "上班期间脱岗")],
    "mass_contact": [("2", "落实“1+N”联系职工并帮扶困难职工"), ("1", "收集职工合理化建议")],
    "fighting_bad_behaviour": [("3", "制止现场违章作业"), ("2", "劝阻职工参与不良网贷")],
}
ITEM_WEIGHTS = {"political_study": 5, "organizational_life": 5, "assigned_tasks": 3, "job_duties": 4,
                "discipline_integrity": 1, "mass_contact": 3, "fighting_bad_behaviour": 1}
GROUP_ENTRIES = [("2", "党小组按计划开展学习活动"), ("3", "党小组承接的攻关项目按期完成"), ("1", "党小组活动记录规范"),
                 ("-2", "党小组学习记录缺失"), ("-3", "党小组活动未按月开展")]
APPRAISALS = [("15", "民主评议：优秀"), ("5", "民主评议：合格"), ("5", "民主评议：合格"), ("5", "民主评议：合格"),
              ("-10", "民主评议：基本合格")]


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    """A plausible year of member points (after the enrolments of ``demo_people.lines``)."""
    items = list(ITEM_WEIGHTS)
    weights = list(ITEM_WEIGHTS.values())
    groups = sorted({(m["branch"], m["group"]) for m in MEMBERS})
    for month in month_range(f"{YEAR}-01", 12):
        for m in MEMBERS:
            chance = 0.15 if m["class"] == "D" else 0.35  # retired members: fewer entries
            for n in range(2):
                if rng.random() >= chance:
                    continue
                item = rng.choices(items, weights)[0]
                points, reason = rng.choice(ITEM_ENTRIES[item])
                if item == "organizational_life" and records_attendance(m["branch"], month):
                    continue  # derived from meeting attendance there (scripts/demo_meetings.py)
                yield {"op": "record_member_points", "key": f"demo/points/{month}/{m['person']}/{n}",
                       "branch": m["branch"], "person": m["person"], "month": month, "item": item,
                       "points": points, "reason": reason, "actor": secretary(m["branch"])}
        for branch, group in groups:
            if rng.random() < 0.8:
                points, reason = rng.choice(GROUP_ENTRIES)
                yield {"op": "record_group_points", "key": f"demo/points/{month}/{group}", "branch": branch,
                       "group": group, "month": month, "points": points, "reason": reason,
                       "actor": secretary(branch)}
    first = MEMBERS[0]  # a correction: an entry recorded against the wrong item, voided, recorded again
    wrong = {"op": "record_member_points", "key": f"demo/points/{YEAR}-11/{first['person']}/wrong",
             "branch": first["branch"], "person": first["person"], "month": f"{YEAR}-11",
             "item": "discipline_integrity", "points": "-3", "reason": "上班期间脱岗", "actor": secretary(first["branch"])}
    yield wrong
    yield {"op": "void_member_points", "key": f"demo/points/{YEAR}-11/{first['person']}/void",
           "branch": first["branch"], "year": YEAR, "entry_key": wrong["key"],
           "reason": "经核实系外出执行抢修任务，非脱岗", "actor": secretary(first["branch"])}
    yield {**wrong, "key": f"demo/points/{YEAR}-11/{first['person']}/right", "item": "assigned_tasks",
           "points": "2", "reason": "外出执行抢修任务"}
    for m in MEMBERS:
        points, reason = rng.choice(APPRAISALS)
        yield {"op": "record_appraisal", "key": f"demo/points/{YEAR}/appraisal/{m['person']}",
               "branch": m["branch"], "person": m["person"], "year": YEAR, "points": points,
               "reason": reason, "actor": secretary(m["branch"])}
