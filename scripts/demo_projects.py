"""Demo company's 一年做成一件事 for 2019, as import lines.

About half the members register a project of their own and every party group one together
(seed, 2018: 139 members registered 75 projects); progress is read in June and September and
about two thirds are completed in November or December, the rest fall short. Drawn from
``scripts/demo_people.MEMBERS``; every line has a ``demo/projects/…`` key.
"""
from __future__ import annotations

import random
from decimal import Decimal
from typing import Any, Iterator

from scripts.demo_people import MEMBERS

YEAR = "2019"
IDEAS = [  # title, unit, target range, company goal
    ("降低吨铜电耗", "千瓦时/吨", (20, 60), "全年综合能耗下降 3%"),
    ("设备故障停机时间压减", "小时", (30, 120), "主体设备完好率 98% 以上"),
    ("修旧利废节约备件费用", "万元", (5, 40), "全年降本增效 2000 万元"),
    ("提高阳极板合格率", "百分点", (1, 5), "阴极铜 A 级率 99.9%"),
    ("安全隐患排查整改", "项", (10, 40), "全年零重伤、零火灾"),
    ("硫酸回收率提升", "百分点", (1, 3), "资源综合利用率提升"),
    ("应收账款清收", "万元", (50, 300), "两金压降 10%"),
    ("岗位技能培训带徒", "人次", (5, 20), "一线员工技能等级提升"),
]


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    n = 0
    owners: list[tuple[str, str, str | None, str | None]] = []  # branch, project, member, group
    for m in MEMBERS:
        if rng.random() < (0.2 if m["branch"] == "RETIRE" else 0.5):
            n += 1
            owners.append((m["branch"], f"{YEAR}-P{n:03d}", m["person"], None))
    for branch, group in dict.fromkeys((m["branch"], m["group"]) for m in MEMBERS):
        n += 1
        owners.append((branch, f"{YEAR}-P{n:03d}", None, group))
    for branch, project, member, group in owners:
        title, unit, (low, high), goal = rng.choice(IDEAS)
        target = Decimal(rng.randint(low, high))
        actor = f"{branch}党支部书记"
        line: dict[str, Any] = {"op": "register_project", "key": f"demo/projects/{project}", "branch": branch,
                                "project": project, "year": YEAR, "title": title,
                                "target": {"unit": unit, "value": str(target)}, "goal": goal, "actor": actor}
        line.update({"member": member} if member else {"group": group})
        yield line
        done = rng.random() < 0.67
        final = target * Decimal(rng.choice(("1", "1", "1.1", "1.25"))) if done else \
            (target * Decimal(rng.randint(30, 95)) / 100).quantize(Decimal("0.01"))
        for i, (day, share) in enumerate((("06-30", Decimal("0.4")), ("09-30", Decimal("0.75")))):
            value = min(final, (final * share).quantize(Decimal("0.01")))
            yield {"op": "record_project_progress", "key": f"demo/projects/{project}/progress/{i}",
                   "branch": branch, "project": project, "date": f"{YEAR}-{day}", "value": str(value),
                   "note": "季度盘点", "actor": actor}
        if done:
            yield {"op": "complete_project", "key": f"demo/projects/{project}/complete", "branch": branch,
                   "project": project, "date": f"{YEAR}-{rng.choice(('11', '12'))}-{rng.randint(1, 28):02d}",
                   "value": str(final.quantize(Decimal('0.01'))), "note": "经支部验收", "actor": actor}
