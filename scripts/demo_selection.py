"""Demo: one competitive selection (竞聘) for a workshop director in March 2019 — the seed's
"中层管理人员全体起立，竞争上岗": three candidates, 30 anonymous employee-representative
sheets keyed in by the clerk (shuffled and numbered by the clerk before keying, all in this
one import), 5 named leader sheets; the third candidate stays well below 80.
"""
from __future__ import annotations

import random
from typing import Any, Iterator

from scripts.demo_people import MEMBERS

SELECTION = "2019-JP-01"
POSITION = "熔炼车间主任"
LEADERS = ("刘卫东", "王建华", "陈志明", "杨国强", "赵立新")  # 公司领导（实名）
CLERK = "党群工作部-唱票员"
# candidate → (low, high) of the scores the representatives / leaders tend to give
TENDENCY = ((84, 96), (76, 90), (58, 76))


def _score(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low * 2, high * 2) / 2:.1f}"  # whole or half points, as sheets are filled in


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    candidates = [m["person"] for m in MEMBERS if m["branch"] in ("SMELT", "ELECT") and m["class"] in "AB"][:3]
    yield {"op": "open_selection", "key": f"demo/selection/{SELECTION}/open", "selection": SELECTION,
           "position": POSITION, "date": "2019-03-20", "candidates": candidates, "actor": "党群工作部"}
    for sheet in range(1, 31):
        yield {"op": "record_representative_sheet", "key": f"demo/selection/{SELECTION}/rep/{sheet:02d}",
               "selection": SELECTION, "sheet": sheet,
               "scores": {c: _score(rng, *TENDENCY[i]) for i, c in enumerate(candidates)}, "actor": CLERK}
    for n, leader in enumerate(LEADERS, start=1):
        yield {"op": "record_leader_sheet", "key": f"demo/selection/{SELECTION}/leader/{n}",
               "selection": SELECTION, "leader": leader,
               "scores": {c: _score(rng, *TENDENCY[i]) for i, c in enumerate(candidates)}, "actor": CLERK}
    yield {"op": "close_selection", "key": f"demo/selection/{SELECTION}/close", "selection": SELECTION,
           "actor": "公司党委会"}
