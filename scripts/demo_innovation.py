"""Demo company's 创新创效 for 2019, as import lines: proposals (10 yuan each under rulebook
v1) by employees and members, and points awarded for the better ones and for innovation
results, so that some people pass 10 or 20 points (one or two pay-grade steps). Drawn from
``scripts/demo_people``; every line has a ``demo/innovation/…`` key.
"""
from __future__ import annotations

import random
from typing import Any, Iterator

from scripts.demo_people import EMPLOYEES, MEMBERS

YEAR = "2019"
TITLES = ["改进阳极板吊装工装", "电解槽面清理方法优化", "皮带机托辊更换工具改造", "硫酸冷却水循环利用",
          "备品备件库位编码管理", "化验取样流程简化", "检修作业票电子化", "行车防碰撞报警装置"]
REASONS = ["建议被采纳并实施，年创效益显著", "技术革新成果获公司二等奖", "QC 小组成果发布获奖", "专利申请受理"]


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    people = [p for p in EMPLOYEES + MEMBERS if p["branch"] != "RETIRE"]
    authors = rng.sample(people, 120)
    n = 0
    for person in authors:
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            n += 1
            proposal = f"CX{YEAR}-{n:04d}"
            date = f"{YEAR}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
            yield {"op": "submit_proposal", "key": f"demo/innovation/{proposal}", "branch": person["branch"],
                   "person": person["person"], "proposal": proposal, "title": rng.choice(TITLES), "date": date,
                   "actor": "党群工作部-创新办"}
            if rng.random() < 0.35:
                yield {"op": "award_innovation_points", "key": f"demo/innovation/{proposal}/points",
                       "branch": person["branch"], "person": person["person"],
                       "points": rng.choice(("2", "5", "5", "7.5", "10", "12")), "reason": rng.choice(REASONS),
                       "date": f"{YEAR}-12-{rng.randint(10, 28):02d}", "proposal": proposal,
                       "actor": "党群工作部-创新办"}
