"""Demo company's people: 197 members in 12 party groups across the 11 branches, and 592
non-member employees (the seed's 2019 figures), as enrolment lines.

``MEMBERS`` and ``EMPLOYEES`` are lists of dicts (person, name, branch, group, class) that
the other demo parts draw from; the names are generated, deterministic.
"""
from __future__ import annotations

import random
from typing import Any, Iterator

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅海波宁志鹏飞晓燕斌浩凯"
# code → (members, employees); members sum to 197, employees to 592 (seed, 2019)
SIZES = {"SMELT": (28, 96), "ELECT": (26, 88), "ACID": (19, 64), "POWER": (17, 60), "REPAIR": (16, 56),
         "QC": (14, 44), "LOGI": (13, 52), "SALES": (12, 40), "ADMIN1": (21, 46), "ADMIN2": (18, 46),
         "RETIRE": (13, 0)}
TWO_GROUPS = ("SMELT",)  # the seed's 12 groups: the largest branch has two


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _people(seed: int = 197) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    members, employees = [], []
    for code, (m, e) in SIZES.items():
        groups = [f"{code}-G1", f"{code}-G2"] if code in TWO_GROUPS else [f"{code}-G1"]
        for i in range(m):
            cls = "D" if code == "RETIRE" else rng.choice("ABCCBB") if i else "A"
            members.append({"person": f"{code}-M{i + 1:02d}", "name": _name(rng), "branch": code,
                            "group": groups[i % len(groups)], "class": cls})
        for i in range(e):
            employees.append({"person": f"{code}-E{i + 1:03d}", "name": _name(rng), "branch": code,
                              "group": groups[i % len(groups)]})
    return members, employees


MEMBERS, EMPLOYEES = _people()


def lines() -> Iterator[dict[str, Any]]:
    """Enrolments from 2019-01 (after the branches are registered)."""
    for p in MEMBERS:
        yield {"op": "enrol_member", "key": f"demo/person/{p['person']}", **p, "from": "2019-01",
               "actor": "党群工作部-登记员"}
    for p in EMPLOYEES:
        yield {"op": "register_employee", "key": f"demo/person/{p['person']}", **p, "from": "2019-01",
               "actor": "人力资源部"}
