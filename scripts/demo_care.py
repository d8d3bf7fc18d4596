"""Demo talks and visits (六必谈 / 六必访) across 2019: a few personnel decisions that raise
their talk, occasions recorded by the branches, most answered in time, some late, one
still open. Summaries are sealed at import, so the demo needs a key store
(``LEDGER_KEYSTORE``, default ``ledger-keys.sqlite3`` here).

Lines come after ``demo_people.lines()`` (the people must be registered first).
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Any, Iterator

from scripts.demo_people import EMPLOYEES, MEMBERS

# (op or occasion code, who: "member"/"employee", month, day, days to the answer or None: open)
PLAN: list[tuple[str, str, str, int, int | None]] = [
    ("sanction", "member", "2019-03", 12, 6),
    ("work_setback", "employee", "2019-04", 2, 9),
    ("hospitalised", "employee", "2019-04", 18, 3),
    ("promotion", "member", "2019-05", 6, 11),
    ("marriage_childbirth", "member", "2019-06", 15, 5),
    ("emotional", "member", "2019-07", 8, 21),  # late: talk window 15 days
    ("bereavement", "employee", "2019-08", 21, 2),
    ("job_change", "employee", "2019-09", 1, 14),
    ("family_discord", "employee", "2019-10", 10, 12),  # late: visit window 7 days
    ("integrity_complaint", "member", "2019-11", 4, 8),
    ("hardship", "employee", "2019-12", 9, 4),
    ("problem_tendency", "member", "2019-12", 20, None),  # still open
]
PERSONNEL = ("sanction", "criticism", "demotion", "promotion", "job_change")
SUMMARIES = {
    "sanction": "谈话指出问题根源，本人认识到错误，表示接受处分、改正作风",
    "work_setback": "项目攻关受挫，帮助分析原因，约定每周跟进进度",
    "hospitalised": "住院手术后恢复良好，转达支部慰问，协调工会补助",
    "promotion": "提醒新岗位廉洁要求与责任，本人表态严格自律",
    "marriage_childbirth": "送上祝福与慰问品，了解家庭安排，协调产假",
    "emotional": "因排班调整有情绪，沟通后同意试行新排班",
    "bereavement": "父亲病故，代表支部慰问吊唁，了解家中困难",
    "job_change": "岗位调整后思想稳定，安排师傅帮带熟悉新岗位",
    "family_discord": "家庭矛盾影响工作，约请社区调解，持续关注",
    "integrity_complaint": "就群众反映的问题当面核实，说明情况并提出提醒",
    "hardship": "子女重病花费大，申请困难职工帮扶基金",
}


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    """Personnel decisions, occasions and answers, each with a ``demo/care/...`` key."""
    for i, (what, who, month, day, answer_after) in enumerate(PLAN, start=1):
        person = rng.choice(MEMBERS if who == "member" else EMPLOYEES)
        branch = person["branch"]
        date = f"{month}-{day:02d}"
        key = f"demo/care/{i:02d}"
        if what in PERSONNEL:
            yield {"op": "record_personnel_event", "key": key, "person": person["person"], "branch": branch,
                   "kind": what, "date": date, "actor": "人力资源部"}
        else:
            yield {"op": "raise_occasion", "key": key, "occasion": what, "person": person["person"],
                   "branch": branch, "date": date, "actor": f"{branch}支部书记"}
        if answer_after is None:
            continue
        answered = (dt.date.fromisoformat(date) + dt.timedelta(days=answer_after)).isoformat()
        yield {"op": "answer_occasion", "key": f"{key}/answer", "occasion_key": key, "branch": branch,
               "conducted_by": f"{branch}支部书记", "date": answered, "summary": SUMMARIES[what], "actor": f"{branch}支部书记"}
