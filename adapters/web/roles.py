"""网页：各角色的日常工作 (web pages for every role's daily work), added to the pages of
``adapters/web/app.py`` by :func:`install`: the forms route (``adapters/web/forms.py``), a
branch's member-level work (``members.py``), the Party-Mass Dept's innovation and selections
(``party_mass.py``), the committee's corrections, debriefings and rulebook (``committee_work.py``),
the registrar's branches, secretaries and people (``registry.py``), performance scores
(``performance.py``), the admin's users, roles, tokens and security log (``admin.py``), the
whole log paged and filtered (``log.py``), printable PDFs with a receipt's QR code (``pdf.py``).
"""
from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.templating import Jinja2Templates

from adapters.web import admin, committee_work, forms, log, members, party_mass, pdf, performance, registry
from domain import vocabulary

ROUTERS: tuple[APIRouter, ...] = (forms.router, members.router, party_mass.router, committee_work.router,
                                  registry.router, performance.router, admin.router, log.router, pdf.router)

FILTERS = {
    "person_kind": lambda v: vocabulary.PERSON_KINDS.get(v, v or "-"),
    "care_state": lambda v: vocabulary.CARE_STATES.get(v, v or "-"),
    "link_flag": lambda v: vocabulary.LINK_FLAGS.get(v, v or "-"),
    "selection_state": lambda v: vocabulary.SELECTION_STATES.get(v, v or "-"),
    "attendance": lambda v: vocabulary.ATTENDANCE.get(v, v or "-"),
    "compact": lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v),
}


def install(templates: Jinja2Templates) -> tuple[APIRouter, ...]:
    """Give the templates the declared forms and the filters; the routers to include."""
    templates.env.globals["forms"] = forms.FORMS
    templates.env.filters.update(FILTERS)
    return ROUTERS
