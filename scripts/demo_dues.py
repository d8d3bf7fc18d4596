"""Demo company's party dues (党费) for 2019, as import lines.

Each member's base is assessed in January (retired members on their pension, the others on
their pay after tax), a tenth get a raise from July; payments are the month's due, by
payroll for the working members and quarterly in advance by WeChat or cash for the retired.
A few months are missed (more often in LOGI and REPAIR) and a few members pay more than due
(自愿多交). After the first half's payments every branch publishes its 2019H1 statement
(``publish_dues``: recorded with a signed checkpoint), and the same after the second half.
Dues are computed with rulebook v1 (the demo adopts no other version).
"""
from __future__ import annotations

import random
from decimal import Decimal
from typing import Any, Iterator

from domain.assessment.rulebook import RULEBOOK_V1
from domain.members.dues import monthly_due
from domain.periods import half_months
from scripts.demo_branches import secretary
from scripts.demo_people import MEMBERS

YEAR = "2019"
BASES = {"A": (9000, 16000), "B": (3200, 7500), "C": (4500, 9500), "D": (2500, 6500)}  # class → base range


def _base(rng: random.Random, cls: str) -> Decimal:
    low, high = BASES[cls]
    return Decimal(rng.randrange(low, high, 10))


def lines(rng: random.Random) -> Iterator[dict[str, Any]]:
    """Bases, a year of payments and the two half-yearly publications per branch (after the
    enrolments of ``demo_people.lines``)."""
    bases: dict[str, list[tuple[str, str, Decimal]]] = {}
    for m in MEMBERS:
        category = "retired" if m["class"] == "D" else "salaried"
        base = _base(rng, m["class"])
        bases[m["person"]] = [(f"{YEAR}-01", category, base)]
        yield {"op": "set_dues_base", "key": f"demo/dues/base/{m['person']}/{YEAR}-01", "branch": m["branch"],
               "person": m["person"], "from": f"{YEAR}-01", "category": category, "base": str(base),
               "actor": secretary(m["branch"])}
        if category == "salaried" and rng.random() < 0.1:  # a raise from July
            raised = (base * Decimal("1.08")).quantize(Decimal(10))
            bases[m["person"]].append((f"{YEAR}-07", category, raised))
            yield {"op": "set_dues_base", "key": f"demo/dues/base/{m['person']}/{YEAR}-07", "branch": m["branch"],
                   "person": m["person"], "from": f"{YEAR}-07", "category": category, "base": str(raised),
                   "actor": secretary(m["branch"])}
    branches = sorted({m["branch"] for m in MEMBERS})
    for half in (f"{YEAR}H1", f"{YEAR}H2"):
        for m in MEMBERS:
            weak = m["branch"] in ("LOGI", "REPAIR")
            for month in half_months(half):
                if rng.random() < (0.06 if weak else 0.02):
                    continue  # missed: shows as arrears
                category, base = next((c, b) for start, c, b in reversed(bases[m["person"]]) if start <= month)
                due, _ = monthly_due(category, base, RULEBOOK_V1)
                amount = due + Decimal(50) if rng.random() < 0.01 else due  # 自愿多交
                if category == "retired":  # the quarter in advance, on the quarter's first month
                    first = f"{month[:5]}{(int(month[5:]) - 1) // 3 * 3 + 1:02d}"
                    paid_on, channel = f"{first}-{rng.randint(3, 12):02d}", rng.choice(["wechat", "cash"])
                else:
                    paid_on, channel = f"{month}-25", "payroll"
                yield {"op": "record_dues_payment", "key": f"demo/dues/pay/{m['person']}/{month}",
                       "branch": m["branch"], "person": m["person"], "month": month, "amount": str(amount),
                       "channel": channel, "paid_on": paid_on, "actor": secretary(m["branch"])}
        for branch in branches:
            yield {"op": "publish_dues", "key": f"demo/dues/publish/{branch}/{half}", "branch": branch,
                   "half": half, "actor": secretary(branch)}
