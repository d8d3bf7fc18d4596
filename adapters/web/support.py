"""What the web pages share: the API called in-process, the visitor, labels and formats.

:class:`Api` is the point of the design: a page never reads the ledger by itself. It calls
the HTTP API's own endpoint functions (the ones ``GET /quarter/{period}``, ``GET
/history`` … run), as the logged-in user, so the read scopes, the refusals written to the
security log and the JSON are exactly the API's. Writes go through
``adapters.http.deps.command_of`` and ``Service.execute`` (``Ledger.execute``: the one
permission check), as ``POST /commands/{op}`` does.
"""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi import params as params_module
from fastapi.routing import APIRoute
from pydantic.fields import FieldInfo
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from adapters.credentials import Session
from adapters.http.deps import Caller
from domain import commands as c
from domain import vocabulary
from domain.asof import SHANGHAI
from domain.assessment.rulebook import CATEGORY_NAMES, DEPARTMENT_NAMES
from domain.service.permissions import (
    ALL_BRANCHES,
    MIGRATOR,
    allowed,
    may_read_branch,
    may_read_rankings,
    readable_branches,
    required,
)

ROLE_NAMES = vocabulary.ROLES
MODE_NAMES, RULE_NAMES, STATUS_NAMES = vocabulary.MODES, vocabulary.RULES, vocabulary.PERIOD_STATES
APPEAL_STATUS = vocabulary.APPEAL_STATES


class Api:
    """The API's endpoint functions by (method, path), called in-process."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._routes: dict[tuple[str, str], Callable[..., Any]] | None = None

    def _endpoint(self, method: str, path: str) -> Callable[..., Any]:
        if self._routes is None:  # the routes exist once create_app has added them all
            found: dict[tuple[str, str], Callable[..., Any]] = {}

            def walk(routes: list[Any]) -> None:
                for r in routes:
                    if isinstance(r, APIRoute):
                        found.update({(m, r.path): r.endpoint for m in r.methods})
                    elif hasattr(r, "original_router"):  # an included router (no prefix: the read routers have none)
                        walk(r.original_router.routes)
            walk(self.app.router.routes)
            self._routes = found
        return self._routes[(method, path)]

    def call(self, method: str, path: str, request: Request, caller: Caller, **params: Any) -> Any:
        """Run the endpoint of ``method path`` with ``params`` (by Python name; the rest take
        their declared defaults) and return its JSON, decoded (decimals stay strings). A
        refusal or error is raised as the API raises it (a ``LedgerError``)."""
        endpoint = self._endpoint(method, path)
        kwargs: dict[str, Any] = {}
        for name, p in inspect.signature(endpoint).parameters.items():
            if name == "request":
                kwargs[name] = request
            elif name == "caller":
                kwargs[name] = caller
            elif name in params:
                kwargs[name] = params[name]
            elif isinstance(p.default, FieldInfo):
                if p.default.is_required():
                    raise TypeError(f"{path} needs {name}")
                kwargs[name] = p.default.get_default(call_default_factory=True)
            elif isinstance(p.default, params_module.Depends):  # a dependency not given: its absence
                kwargs[name] = None  # (the replay point: now)
            elif p.default is not inspect.Parameter.empty:
                kwargs[name] = p.default
            else:
                raise TypeError(f"{path} needs {name}")
        response = endpoint(**kwargs)
        return json.loads(response.body)

    def get(self, path: str, request: Request, caller: Caller, **params: Any) -> Any:
        return self.call("GET", path, request, caller, **params)


@dataclass(frozen=True)
class Visitor:
    """The logged-in user of a page: identity and roles as the API sees them, their
    Chinese name (the ``actor`` of what they send from a page) and their session."""

    caller: Caller
    name: str
    session: Session

    @property
    def user(self) -> str:
        return self.caller.user

    @property
    def roles(self) -> frozenset[str]:
        return self.caller.roles

    def secretary_of(self) -> list[str]:
        return sorted(r.partition(":")[2] for r in self.roles if r.startswith("secretary:"))

    def departments(self) -> list[str]:
        return sorted(r.partition(":")[2] for r in self.roles if r.startswith("scorer:"))

    def may_send(self, op: str, branch: str | None = None, department: str | None = None) -> bool:
        """Whether to show the button for ``op``: the roles ``domain.service.permissions.required``
        asks for. Only a hint for the page — ``Ledger.execute`` checks again when sent."""
        probe = type("Probe", (), {"roles": c.COMMANDS[op].roles, "op": op})()
        probe.branch = branch  # type: ignore[attr-defined]
        if department is not None:
            probe.department = department  # type: ignore[attr-defined]
        return MIGRATOR in self.roles or allowed(self.roles, required(probe))

    def reads_results(self) -> bool:
        """Published results (months, rankings): every role but a bare admin."""
        return may_read_rankings(self.roles)

    def reads_all(self) -> bool:
        return readable_branches(self.roles) == ALL_BRANCHES

    def may_read(self, branch: str) -> bool:
        return may_read_branch(self.roles, branch)

    def role_names(self) -> list[str]:
        return [vocabulary.role_name(r) for r in sorted(self.roles)]


# -- periods ---------------------------------------------------------------------------------
def this_month() -> str:
    return datetime.now(SHANGHAI).strftime("%Y-%m")


def latest_month(engine: Engine) -> str:
    """The latest month the maintained view knows of (the pages' default period), else today's.
    Only a navigation default: the data of that month is read through the API."""
    from adapters.store.views import SECTIONS, VIEW
    with engine.connect() as conn:
        found = conn.execute(select(func.max(SECTIONS.c.section)).where(SECTIONS.c.view == VIEW)
                             .where(SECTIONS.c.section.like("month:%"))).scalar()
    return str(found)[6:] if found else this_month()


def quarters_of(year: str) -> list[str]:
    return [f"{year}Q{n}" for n in range(1, 5)]


# -- formats ---------------------------------------------------------------------------------
def money(value: Any) -> str:
    """1234.5 → 1,234.50 (yuan); None → -."""
    if value is None or value == "":
        return "-"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def score(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def when(value: Any) -> str:
    """An ISO time (as the API gives it, +08:00) as ``2019-07-03 10:00:05``."""
    if not value:
        return "-"
    try:
        return datetime.fromisoformat(str(value)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


FILTERS: dict[str, Callable[..., Any]] = {
    "money": money, "score": score, "when": when,
    "category": lambda v: CATEGORY_NAMES.get(v, v or "-"),
    "department": lambda v: DEPARTMENT_NAMES.get(v, v or "-"),
    "status": lambda v: STATUS_NAMES.get(v, v or "-"),
    "mode": lambda v: MODE_NAMES.get(v, v),
    "event": lambda v: vocabulary.event_name(v) if v else "-",
    "rule": lambda v: RULE_NAMES.get(v, v),
    "appeal_status": lambda v: APPEAL_STATUS.get(v, v),
    "attachment_state": lambda v: vocabulary.ATTACHMENT_STATES.get(v, v),
    "appeal_age": lambda v: vocabulary.APPEAL_AGES.get(v, v),
    "bytes": lambda v: f"{int(v) / 1024:.0f} KB" if int(v) < 1048576 else f"{int(v) / 1048576:.1f} MB",
    "short": lambda v: str(v)[:8] if v else "-",
    "refusal": vocabulary.refusal_name, "field": vocabulary.field_name, "role": vocabulary.role_name,
    "parameter": vocabulary.parameter_name, "replay_note": vocabulary.replay_note,
}
