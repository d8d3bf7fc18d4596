"""Demo company's organizational life (组织生活) for 2019, as import lines.

Every branch holds a committee meeting, a theme day and a meeting of each party group every
month, a general meeting in the last month and a party lesson in the middle month of each
quarter, and an organizational-life meeting in December; three 两会 meetings answer the 三问.
Two gaps are left on purpose, for ``ledger meetings schedule 2019`` to flag: LOGI holds no
theme day in August, REPAIR no party lesson in the third quarter. Attendance is drawn with
``rng`` (mostly present, some excused, a few unexcused absences, more of them in LOGI and
REPAIR); the meeting plan itself is fixed, so :func:`records_attendance` tells the member-
points demo where the organizational-life item is derived (and must not be typed).
"""
from __future__ import annotations

import random
from functools import lru_cache
from typing import Any, Iterator

from domain.periods import month_range
from scripts.demo_branches import secretary
from scripts.demo_people import MEMBERS

YEAR = "2019"
COMMITTEE_SIZE = 3  # the first three members of a branch sit on its committee (支委)
CORRECTED = ("REPAIR", "general_meeting", f"{YEAR}-03-26", "REPAIR-M02")  # absent, excused afterwards
SKIPPED = {("LOGI", "theme_day", f"{YEAR}-08"), ("REPAIR", "party_lesson", f"{YEAR}-08")}
TOPICS = {
    "general_meeting": ["审议支部季度工作总结", "讨论发展党员事项", "通报党费收缴情况", "学习贯彻上级会议精神"],
    "committee_meeting": ["研究本月党建工作安排", "研究“一年做成一件事”推进", "研究党员积分评定", "研究谈心谈话安排"],
    "group_meeting": ["学习党章党规", "交流岗位建功体会", "安全生产警示教育", "学习“两学一做”专题"],
    "party_lesson": ["不忘初心 牢记使命 不懈奋斗", "新时代党员的担当", "党的纪律建设专题", "铜冶炼降本增效中的党员作为"],
    "theme_day": ["学报告、见行动", "党员突击队义务清除槽罐", "重温入党誓词", "走访困难职工", "安全隐患随手拍"],
    "org_life_meeting": ["年度组织生活会暨民主评议党员"],
}
TWO_MEETINGS = [  # (branch, kind, date, topic, answers to the 三问)
    ("SMELT", "experience_meeting", f"{YEAR}-04-15", "一季度铜回收率创新高经验总结",
     {"branch": "支部牵头组织班组攻关，职工全员参与", "members": "党员突击队承担关键工序", "gap": "设备点检仍有遗漏"}),
    ("LOGI", "problem_analysis_meeting", f"{YEAR}-07-18", "二季度发运计划未完成问题分析",
     {"branch": "支部对调度协调重视不够", "members": "部分党员带头作用不明显", "gap": "发运完成率差预算 6%"}),
    ("REPAIR", "problem_analysis_meeting", f"{YEAR}-10-17", "三季度检修超期问题分析",
     {"branch": "支部未把检修计划纳入党建任务", "members": "党员骨干分散在多个班组", "gap": "检修按期率差目标 8 个百分点"}),
]


@lru_cache(maxsize=None)
def plan() -> tuple[tuple[str, str, str, str | None], ...]:
    """(branch, kind, date, group) of every meeting of the year, in date order within a branch."""
    out: list[tuple[str, str, str, str | None]] = []
    branches = sorted({m["branch"] for m in MEMBERS})
    groups = {b: sorted({m["group"] for m in MEMBERS if m["branch"] == b}) for b in branches}
    for branch in branches:
        for month in month_range(f"{YEAR}-01", 12):
            n = int(month[5:])
            wanted: list[tuple[str, int, str | None]] = [("committee_meeting", 5, None)]
            wanted += [("group_meeting", 12, g) for g in groups[branch]]
            wanted.append(("theme_day", 20, None))
            if n % 3 == 2:
                wanted.append(("party_lesson", 24, None))
            if n % 3 == 0:
                wanted.append(("general_meeting", 26, None))
            if n == 12:
                wanted.append(("org_life_meeting", 28, None))
            for kind, day, group in wanted:
                if (branch, kind, month) not in SKIPPED:
                    out.append((branch, kind, f"{month}-{day:02d}", group))
    return tuple(out)


def records_attendance(branch: str, month: str) -> bool:
    """Whether this demo records a meeting (hence attendance) for ``branch`` in ``month``."""
    return any(b == branch and date[:7] == month for b, _, date, _ in plan())


def _status(rng: random.Random, member: dict[str, Any]) -> str:
    weak = member["branch"] in ("LOGI", "REPAIR")
    r = rng.random()
    absent = 0.06 if weak else 0.02
    excused = 0.15 if member["class"] == "D" else 0.06
    return "absent" if r < absent else "excused" if r < absent + excused else "present"


def _line(rng: random.Random, branch: str, kind: str, date: str, group: str | None, topic: str,
          attendees: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    line = {"op": "record_meeting", "key": f"demo/meeting/{branch}/{kind}/{date}" + (f"/{group}" if group else ""),
            "branch": branch, "kind": kind, "date": date, "topic": topic,
            "chair": f"{group} 党小组组长" if group else secretary(branch),
            "attendance": {m["person"]: _status(rng, m) for m in attendees}, "actor": secretary(branch), **extra}
    if group:
        line["group"] = group
    return line


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    """A year of meetings with attendance (after the enrolments of ``demo_people.lines``)."""
    by_branch = {b: [m for m in MEMBERS if m["branch"] == b] for b in {m["branch"] for m in MEMBERS}}
    for branch, kind, date, group in plan():
        members = by_branch[branch]
        attendees = (members[:COMMITTEE_SIZE] if kind == "committee_meeting"
                     else [m for m in members if m["group"] == group] if group else members)
        line = _line(rng, branch, kind, date, group, rng.choice(TOPICS[kind]), attendees)
        if (branch, kind, date) == CORRECTED[:3]:
            line["attendance"][CORRECTED[3]] = "absent"  # corrected below
        yield line
    for branch, kind, date, topic, answers in TWO_MEETINGS:
        yield _line(rng, branch, kind, date, None, topic, by_branch[branch], answers=answers)
    # one correction: an absence excused after the fact (a leave note handed in late)
    branch, kind, date, person = CORRECTED
    yield {"op": "correct_attendance", "key": f"demo/meeting/{branch}/{kind}/{date}/{person}",
           "branch": branch, "kind": kind, "date": date, "person": person, "status": "excused",
           "reason": "补交事前请假条（外出抢修）", "actor": secretary("REPAIR")}
