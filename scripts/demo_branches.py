"""The demo company's branches by name, and who records a branch's member-level work
(points, meetings, dues): its secretary, as named on the paper record."""
from __future__ import annotations

BRANCH_NAMES = {"SMELT": "熔炼车间", "ELECT": "电解车间", "ACID": "硫酸车间", "POWER": "动力车间",
                "REPAIR": "机修车间", "QC": "质检中心", "LOGI": "物流中心", "SALES": "营销",
                "ADMIN1": "机关第一", "ADMIN2": "机关第二", "RETIRE": "离退休"}


def secretary(branch: str) -> str:
    """The actor of a branch's demo lines: its secretary (``branch``: a branch code; an
    unknown code is used as its own name)."""
    return f"{BRANCH_NAMES.get(branch, branch)}党支部书记"
