"""集团账本的只读 HTTP 接口 (``ledger group serve``): the group ledger's reads — member
companies with what the group holds of each (witnessed size, root, split-view evidence) and
the group-wide quarter and year rankings, each row with its company's approval event and
inclusion proof against the checkpoint the group witnessed (``adapters/integrity/group.py``).

No log-in: everything served is signed material a company may show anyone (checkpoints,
approval events, proofs), and the group's own judgement of it; the server listens on
127.0.0.1 unless told otherwise. Writes (register, collect, accept) stay CLI commands of
the group's operator. A read never creates the group ledger: without one every request
answers 503 naming the store and how to create it.
"""
from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from adapters.integrity.group import open_group
from adapters.integrity.monitor import WitnessError
from domain.errors import InvalidInput
from domain.periods import check_quarter, check_year


def _plain(data: Any) -> Any:
    """Decimals as strings, the rest as JSON has it (as ``ledger group … --json`` prints)."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def _read(action: Any) -> Any:
    group = open_group(create=False)
    try:
        return _plain(action(group))
    finally:
        group.store.close()


def create_group_app() -> FastAPI:
    """The app over the group ledger named by ``LEDGER_GROUP_DATABASE_URL`` (read per request)."""
    app = FastAPIOffline(title="集团党建考核账本（只读）", description="成员公司、集团季度与年度排名，每行附包含证明。")

    @app.exception_handler(WitnessError)
    def no_group(request: Request, e: WitnessError) -> JSONResponse:
        status = 503 if e.field == "store" else 404
        return JSONResponse({"error": {"field": e.field, "reason": e.reason}}, status_code=status)

    @app.exception_handler(InvalidInput)
    def invalid(request: Request, e: InvalidInput) -> JSONResponse:
        return JSONResponse({"error": {"field": e.field, "reason": e.reason}}, status_code=422)

    @app.get("/group/members", summary="成员公司、集团持有的检查点与分叉证据（ledger group members）")
    def members() -> Any:
        return {"members": _read(lambda g: g.members())}

    @app.get("/group/quarter/{period}", summary="集团全部支部的季度排名（ledger group quarter）")
    def quarter(period: str) -> Any:
        check_quarter(period)
        return _read(lambda g: g.rankings("quarter", period))

    @app.get("/group/year/{year}", summary="集团全部支部的年度排名（ledger group year）")
    def year(year: str) -> Any:
        check_year(year)
        return _read(lambda g: g.rankings("year", year))

    return app
