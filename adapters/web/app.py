"""网页界面 (web pages): server-rendered Chinese pages on the HTTP API's own application.

``mount_web(app, service)`` (called by ``adapters.http.app.create_app``) adds ``/web/…`` to the
API's FastAPI app: the same process, the same ``Service`` (one ledger, one lock), the
same permission check. Pages read by calling the API's endpoint functions in-process as
the logged-in user (``adapters.web.support.Api``) and write with ``command_of`` +
``Service.execute`` as ``POST /commands/{op}`` does — there is no second path to the data.

Log-in: a password per user (argon2 hash outside the log, ``adapters/credentials.py``),
a server-side session in an HttpOnly, SameSite=Lax cookie, a CSRF token per session in
every form. Every form is post-redirect-get: the page after it shows what happened — or
the refusal's Chinese reason (``LedgerError.reason``); a command is one transaction, so a
refused one wrote nothing. Templates: ``adapters/web/templates``; CSS and a small script:
``adapters/web/static`` (nothing is fetched from elsewhere; the pages work without the script).

Modules: ``base.py`` (the per-application :class:`~adapters.web.base.WebState` on
``app.state.web``, the visitor, rendering, forms, sending), and one router per area:
``session.py`` (log-in, password, home), ``branch.py`` (a secretary's branch,
appeals, receipts), ``scoring.py`` (scoring, month/quarter/year actions),
``committee.py`` (approvals, appeals to decide), ``results.py`` (month, quarter,
year, print, explanations, events), ``audit.py`` (history, verification, checkpoints,
Excel). ``ROUTERS`` lists them in the order they are mounted; this is the one web module
that imports the routers, and no web module imports ``adapters/http/app.py`` (they use
``adapters/http/deps.py`` and ``errors.py``).
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from adapters.credentials import Credentials
from adapters.http.deps import Service
from adapters.web import audit as web_audit
from adapters.web import branch as web_branch
from adapters.web import committee as web_committee
from adapters.web import errors as web_errors
from adapters.web import results as web_results
from adapters.web import scoring as web_scoring
from adapters.web import session as web_session
from adapters.web.base import LoginRequired, Refused, WebState, login_required, refused
from adapters.web.support import FILTERS, Api
from domain.assessment.rulebook import CATEGORY_NAMES, DEPARTMENT_NAMES

HERE = Path(__file__).resolve().parent
ROUTERS: tuple[APIRouter, ...] = (web_session.router, web_branch.router, web_scoring.router, web_committee.router,
                                  web_results.router, web_audit.router)


def mount_web(app: FastAPI, service: Service) -> None:
    """Add the pages (``/web/…``), their static files and ``/`` → ``/web/``."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(FILTERS)
    templates.env.globals.update(CATEGORY_NAMES=CATEGORY_NAMES, DEPARTMENT_NAMES=DEPARTMENT_NAMES,
                                 quote=quote, urlencode=urlencode)
    app.state.web = WebState(service=service, credentials=Credentials(service.engine), api=Api(app),
                             templates=templates, secure_cookie=os.environ.get("LEDGER_WEB_SECURE_COOKIE") == "1")
    app.mount("/web/static", StaticFiles(directory=str(HERE / "static")), name="web-static")
    app.add_exception_handler(LoginRequired, login_required)  # type: ignore[arg-type]
    app.add_exception_handler(Refused, refused)  # type: ignore[arg-type]
    web_errors.install(app)  # 404/405/400/500 under /web/ as Chinese pages; the API keeps JSON
    from adapters.web import roles  # every role's daily work (adapters/web/roles.py)
    for router in ROUTERS + roles.install(templates):
        app.include_router(router)
