"""The web fixture (``tests/web_fixture.py``) with what every role's daily work needs: people
in branches A and B, a few member points, a meeting, dues bases, an open talk (overdue) and
an answered one (its summary sealed), an open selection — and a user for each remaining role
(registrar, performance, admin), each with the password ``PASSWORD``.
"""
from __future__ import annotations

from typing import Any

from domain.service.application import Ledger
from tests.web_fixture import PASSWORD, prepare, set_passwords  # noqa: F401 - PASSWORD re-exported

EXTRA_USERS = {"registrar": ("党群工作部登记员", "registrar"), "perf": ("经营业绩录入员", "performance")}
MEMBERS = [("A-M01", "王红", "B"), ("A-M02", "刘军", "C"), ("A-M03", "张伟", "A"), ("B-M01", "赵敏", "B")]
EMPLOYEES = [("A-E01", "孙强"), ("A-E02", "周丽"), ("A-E03", "吴刚")]
SUMMARY = "谈话了解工作困难，约定每周跟进"


def member_lines() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for person, name, klass in MEMBERS:
        branch = person.split("-")[0]
        out.append({"op": "enrol_member", "key": f"r/{person}", "person": person, "name": name, "branch": branch,
                    "group": f"{branch}-G1", "class": klass, "from": "2019-01", "actor": "登记员"})
    for person, name in EMPLOYEES:
        out.append({"op": "register_employee", "key": f"r/{person}", "person": person, "name": name, "branch": "A",
                    "group": "A-G1", "from": "2019-01", "actor": "人力资源部"})
    out += [
        {"op": "record_member_points", "key": "r/pts/1", "branch": "A", "person": "A-M01", "month": "2019-07",
         "item": "political_study", "points": "2", "reason": "学习强国积分达标", "actor": "A书记"},
        {"op": "set_dues_base", "key": "r/base/A-M01", "branch": "A", "person": "A-M01", "from": "2019-01",
         "category": "salaried", "base": "6000", "actor": "A书记"},
        {"op": "set_dues_base", "key": "r/base/A-M02", "branch": "A", "person": "A-M02", "from": "2019-01",
         "category": "retired", "base": "4000", "actor": "A书记"},
        {"op": "set_dues_base", "key": "r/base/A-M03", "branch": "A", "person": "A-M03", "from": "2019-01",
         "category": "no_income", "actor": "A书记"},
        {"op": "link_employee", "key": "r/link/1", "branch": "A", "member": "A-M01", "employee": "A-E01",
         "from": "2019-01", "actor": "A书记"},
        {"op": "raise_occasion", "key": "r/occ/open", "occasion": "work_setback", "person": "A-M02", "branch": "A",
         "date": "2019-09-02", "actor": "A书记"},
        {"op": "raise_occasion", "key": "r/occ/done", "occasion": "hospitalised", "person": "A-E02", "branch": "A",
         "date": "2019-08-01", "actor": "A书记"},
        {"op": "answer_occasion", "key": "r/occ/done/answer", "occasion_key": "r/occ/done", "branch": "A",
         "conducted_by": "周建国", "date": "2019-08-03", "summary": SUMMARY, "actor": "A书记"},
        {"op": "open_selection", "key": "r/sel", "selection": "2019-JP-09", "position": "熔炼车间副主任",
         "date": "2019-09-10", "candidates": ["A-M01", "A-M02"], "actor": "党群工作部"},
    ]
    return out


def prepare_roles(app: Ledger) -> dict[str, str]:
    """``tests.web_fixture.prepare``, the member-level lines (one migrated batch) and the
    users of the remaining roles. Returns entry ids by key (both batches)."""
    ids = prepare(app)
    for user, (name, role) in EXTRA_USERS.items():
        app.command("create_user", as_user="admin", user=user, name=name, actor="admin")
        app.command("grant_role", as_user="admin", user=user, role=role, actor="admin")
    result = app.import_batch(list(enumerate(member_lines(), start=1)))
    set_passwords(app, [*EXTRA_USERS, "admin"])
    return {**ids, **{k: str(v) for k, v in result.ids.items()}}
