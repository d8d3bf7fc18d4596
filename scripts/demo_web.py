"""Web users for the demo ledger: one per role, each with a password, so that every role can do
its job in the browser (``ledger serve``, then http://127.0.0.1:8000/web/).

Run after ``scripts/demo.py`` (same ``LEDGER_DATABASE_URL``). Idempotent (every command has a
key; passwords are set again). The admin creates the users and grants the roles; the
registrar's re-appointment of REPAIR's secretary (same person, same terms, from 2019-01) names
their user, so ``sec-repair`` holds ``secretary:REPAIR`` (approved months keep their frozen
terms). Password: ``LEDGER_DEMO_PASSWORD`` (default ``dangjian-demo``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.bootstrap import database_url, engine_of, make_ledger, migration_user  # noqa: E402
from adapters.credentials import Credentials  # noqa: E402
from domain.service.application import UnitOfWork  # noqa: E402

USERS = {  # user → (Chinese name, role granted by the admin; None: a secretary by appointment)
    "sec-repair": ("李建军", None), "sec-smelt": ("周建国", None),
    "scorer-pm": ("党群工作部考核员", "scorer:party_mass"),
    "scorer-di": ("纪检监察部考核员", "scorer:discipline_inspection"),
    "aggregator": ("党群工作部汇总员", "aggregator"), "approver": ("公司党委书记", "approver"),
    "committee": ("公司党委会", "committee"), "auditor": ("纪检监察部审计", "auditor"),
}
SECRETARIES = {"REPAIR": ("sec-repair", "李建军", "part_time", "600"), "SMELT": ("sec-smelt", "周建国", "full_time", None)}


def main() -> None:
    ledger = make_ledger(database_url())
    migration_user(ledger)  # the admin exists (the demo made it)
    known = UnitOfWork(ledger).access().users
    for user, (name, role) in USERS.items():
        if user not in known:
            ledger.command("create_user", as_user="admin", user=user, name=name, actor="admin")
            if role is not None:
                ledger.command("grant_role", as_user="admin", user=user, role=role, actor="admin")
    if "registrar" not in known:
        ledger.command("create_user", as_user="admin", user="registrar", name="党群工作部登记员", actor="admin")
        ledger.command("grant_role", as_user="admin", user="registrar", role="registrar", actor="admin")
    for branch, (user, name, mode, allowance) in SECRETARIES.items():
        line = {"key": f"demo-web/secretary/{branch}", "branch": branch, "name": name, "user": user, "mode": mode,
                "from": "2019-01", "actor": "党群工作部-登记员"}
        if allowance:
            line["allowance"] = allowance
        ledger.command("appoint_secretary", as_user="registrar", **line)
    password = os.environ.get("LEDGER_DEMO_PASSWORD") or "dangjian-demo"
    credentials = Credentials(engine_of(ledger))
    for user in USERS:
        credentials.set_password(user, password)
    print(f"网页用户已就绪（密码 {password}）：" + "、".join(USERS))
    print("启动：ledger serve，然后打开 http://127.0.0.1:8000/web/")


if __name__ == "__main__":
    main()
