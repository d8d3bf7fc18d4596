"""Demo company's 党员"1+N" links for 2019, as import lines.

Each member takes on three to six employees of their branch while employees last (so some
members are under N, a few over); the large party group SMELT-G1 sets 1+3 (seed: "1+3 in
groups with many members") and the retirees' group 1+0; a few links end mid-year and the
employee is taken on by another member. Drawn from ``scripts/demo_people``; every line has a
``demo/links/…`` key, so a second import appends nothing.
"""
from __future__ import annotations

import random
from typing import Any, Iterator

from scripts.demo_people import EMPLOYEES, MEMBERS

QUOTAS = {("SMELT", "SMELT-G1"): 3, ("RETIRE", "RETIRE-G1"): 0}


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    for (branch, group), n in QUOTAS.items():
        yield {"op": "set_link_quota", "key": f"demo/links/quota/{group}", "branch": branch, "group": group,
               "n": n, "from": "2019-01", "actor": f"{branch}党支部书记"}
    for branch in dict.fromkeys(m["branch"] for m in MEMBERS):
        members = [m for m in MEMBERS if m["branch"] == branch]
        free = [e["person"] for e in EMPLOYEES if e["branch"] == branch]
        rng.shuffle(free)
        linked: list[tuple[str, str]] = []
        for m in members:
            want = QUOTAS.get((branch, m["group"]), 5) + rng.choice((-2, -1, 0, 0, 0, 0, 1))
            for _ in range(max(0, want)):
                if not free:
                    break
                employee = free.pop()
                linked.append((m["person"], employee))
                yield {"op": "link_employee", "key": f"demo/links/{employee}/1", "branch": branch,
                       "member": m["person"], "employee": employee, "from": "2019-01",
                       "actor": f"{branch}党支部书记"}
        for member, employee in rng.sample(linked, min(2, len(linked))):  # two hand-overs per branch
            month = f"2019-{rng.randint(4, 9):02d}"
            other = rng.choice([m["person"] for m in members if m["person"] != member])
            yield {"op": "unlink_employee", "key": f"demo/links/{employee}/1/end", "branch": branch,
                   "member": member, "employee": employee, "from": month, "reason": "岗位调整，改由其他党员联系",
                   "actor": f"{branch}党支部书记"}
            yield {"op": "link_employee", "key": f"demo/links/{employee}/2", "branch": branch, "member": other,
                   "employee": employee, "from": month, "actor": f"{branch}党支部书记"}
