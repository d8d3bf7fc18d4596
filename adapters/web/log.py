"""网页：全部日志 (web page: the whole log, a page at a time, newest first), filtered by event
type, period and user — for every reader of all branches (the auditor first). Each event in
Chinese: its type by name, its fields by name (``adapters/event_view.py``), its time in
Beijing time; the stored form (JSON as kept) one click away, in the row and on the event's
own page. Reads the API's ``GET /log``.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.event_view import event_rows
from adapters.web.base import page, read
from adapters.web.support import Visitor
from domain import vocabulary

router = APIRouter(include_in_schema=False)
SKIPPED = ("时间", "事件时间", "聚合编号", "聚合版本")
USER = vocabulary.EVENT_FIELDS["by"]  # a user id: shown as code


@router.get("/web/log")
def log(request: Request, event: str | None = None, period: str | None = None, user: str | None = None,
        before: int | None = None) -> Response:
    def build(v: Visitor) -> dict[str, Any]:
        q = {"event": event or None, "period": (period or "").strip() or None, "user": (user or "").strip() or None}
        data = read("/log", request, v, before=before, limit=50, **q)
        rows = [{**e, "fields": [(n, x, code or n == USER) for n, x, code in event_rows(e["payload"]) if n not in SKIPPED],
                 "raw": json.dumps(e["payload"], ensure_ascii=False, indent=1)} for e in data["events"]]
        more = ("/web/log?" + urlencode({**{k: x for k, x in q.items() if x}, "before": data["next_before"]})
                if data["next_before"] else None)
        return {"q": q, "rows": rows, "data": data, "more": more, "first": before is None,
                "event_types": sorted(vocabulary.EVENTS.items(), key=lambda kv: kv[1])}
    return page(request, "log.html", build)
