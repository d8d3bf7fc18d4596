"""Demo: mentor and apprentice (导师带徒) in 2019 — the seed's 37 declared pairs, 18 of them
with a member or an activist as mentor; quarterly appraisals of the apprentices and three
company skill competitions.
"""
from __future__ import annotations

import random
from typing import Any, Iterator

from scripts.demo_people import EMPLOYEES, MEMBERS

YEAR = "2019"
# branch → (pairs, of which the mentor is a member, of which an activist): 37, 14 + 4 = 18 (seed)
PLAN = {"SMELT": (8, 3, 1), "ELECT": (7, 3, 1), "ACID": (5, 2, 0), "POWER": (5, 2, 0),
        "REPAIR": (5, 2, 1), "QC": (3, 1, 0), "LOGI": (4, 1, 1)}
QUARTER_ENDS = ("2019-03-31", "2019-06-30", "2019-09-30", "2019-12-31")
COMPETITIONS = (("2019年公司熔炼工技能比武", "2019-09-18", ("SMELT", "ACID")),
                ("2019年公司电解工技能比武", "2019-10-16", ("ELECT", "QC")),
                ("2019年公司维修电工技能比武", "2019-11-13", ("POWER", "REPAIR", "LOGI")))


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    by_competition: dict[str, list[tuple[str, str]]] = {}
    for code, (pairs, members, activists) in PLAN.items():
        own_members = [m for m in MEMBERS if m["branch"] == code and m["class"] == "B"]
        own_employees = [e for e in EMPLOYEES if e["branch"] == code]
        mentors_from_employees = own_employees[:pairs - members]  # activists first, then other employees
        apprentices = own_employees[-pairs:]  # the newest registrations: the young workers
        for n in range(pairs):
            pair = f"{code}-{YEAR}-{n + 1:02d}"
            if n < members:
                mentor, activist = own_members[n]["person"], False
            else:
                mentor, activist = mentors_from_employees[n - members]["person"], n - members < activists
            line = {"op": "register_mentorship", "key": f"demo/mentoring/{pair}/register", "branch": code,
                    "pair": pair, "mentor": mentor, "apprentice": apprentices[n]["person"], "year": YEAR,
                    "actor": f"{code}支部书记"}
            if activist:
                line["mentor_is_activist"] = True
            yield line
            score = rng.randint(120, 160) / 2  # 60–80 at the first appraisal
            for date in QUARTER_ENDS[rng.choice((0, 0, 0, 1)):]:  # some pairs start in April
                yield {"op": "record_apprentice_appraisal", "key": f"demo/mentoring/{pair}/appraisal/{date}",
                       "branch": code, "pair": pair, "date": date, "score": f"{score:.1f}",
                       "actor": f"{code}支部书记"}
                score = min(100.0, score + rng.randint(-4, 14) / 2)
            for name, _, branches in COMPETITIONS:
                if code in branches and rng.random() < 0.5:
                    by_competition.setdefault(name, []).append((code, pair))
    for name, date, _ in COMPETITIONS:
        entrants = by_competition.get(name, [])
        for rank, (code, pair) in enumerate(rng.sample(entrants, len(entrants)), start=1):
            yield {"op": "record_skill_result", "key": f"demo/mentoring/{pair}/skill/{date}", "branch": code,
                   "pair": pair, "competition": name, "rank": rank, "date": date, "actor": f"{code}支部书记"}
