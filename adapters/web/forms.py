"""网页表单 (web forms): the commands people send from the member-level and office pages,
each declared once as a :class:`Form`, rendered by ``templates/forms.html`` and sent through
one route, ``POST /web/do/{op}``.

The route reads only the fields its form declares, builds the command's import line from
them (numbers stay text: ``domain.commands`` parses them exactly) and sends it as the
visitor with ``adapters.web.base.send`` — ``command_of`` + ``Service.execute``, the path of
``POST /commands/{op}``, so the one permission check and every refusal are the API's. A
refused form comes back with what was typed (kept in the session's one-off message) and the
refusal's Chinese reason; nothing of it was written.

Field names are the import line's (``from``, ``class``); ``a.b`` nests (``target.unit``); a
``map`` field is one input per key (``attendance.<person>``, ``scores.<candidate>``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.web.base import Refused, flash, form_of, safe_next, send
from domain import commands as c
from domain import vocabulary
from domain.errors import InvalidInput, LedgerError

router = APIRouter(include_in_schema=False)
Options = tuple[tuple[str, str], ...]
NOT_TYPED = ("csrf", "next", "_form", "key")


def choices(mapping: Mapping[Any, str]) -> Options:
    """A vocabulary table as select options (code, Chinese name)."""
    return tuple((str(k), v) for k, v in mapping.items() if k is not None)


@dataclass(frozen=True)
class Field:
    """One input. ``kind``: text, textarea, decimal, int, month, date, select, check, lines
    (one value per line), json, map (one input per key of ``options``, each of ``each``);
    ``options``: select choices, or the name of choices the page gives (people, branches …)."""

    name: str
    label: str = ""
    kind: str = "text"
    options: Options | str = ()
    required: bool = True
    hint: str = ""
    each: str = "text"
    each_options: Options = ()

    @property
    def title(self) -> str:
        return self.label or vocabulary.EVENT_FIELDS.get(self.name.split(".")[-1]) or vocabulary.field_name(self.name)


@dataclass(frozen=True)
class Form:
    """A command's form: its op, fields, the message on success (``{}``: the command's
    result, shortened) and, for irreversible ones, the question asked first."""

    op: str
    fields: tuple[Field, ...]
    done: str
    confirm: str = ""
    title: str = ""
    keyed: bool = True
    field_names: frozenset[str] = dc_field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_names", frozenset(f.name for f in self.fields))

    @property
    def heading(self) -> str:
        return self.title or vocabulary.op_name(self.op)

    def success(self, result: Any) -> str:
        text = str(result) if result is not None else ""
        return self.done.format(text[:8] + "…" if len(text) > 12 else text)

    def line(self, form: FormData) -> dict[str, Any]:
        """The import line of what was posted: the declared fields as their kinds say, and
        any other field of the command (the page's fixed branch, an id) as text; blanks left
        out, so a missing required field is named by the command's own check."""
        data: dict[str, Any] = {}
        for f in self.fields:
            if f.kind == "map":
                prefix = f.name + "."
                entries = {k[len(prefix):]: str(v).strip() for k, v in form.multi_items()
                           if k.startswith(prefix) and str(v).strip()}
                if entries:
                    data[f.name] = entries
                continue
            raw = form.get(f.name)
            if f.kind == "check":
                if raw:
                    data[f.name] = True
                continue
            text = str(raw or "").strip() if f.kind not in ("textarea", "json") else str(raw or "").strip("\r\n ")
            if not text:
                continue
            if f.kind == "int":
                data[f.name] = int(text) if text.isascii() and text.isdigit() else text
            elif f.kind == "lines":
                data[f.name] = [x.strip() for x in text.replace("，", "\n").replace(",", "\n").splitlines() if x.strip()]
            elif f.kind == "json":
                try:
                    data[f.name] = json.loads(text, parse_float=str, parse_int=int)
                except json.JSONDecodeError as e:
                    raise InvalidInput(vocabulary.json_reason(e.msg, e.lineno, e.colno), f.name) from None
            else:
                data[f.name] = text
        model = c.COMMANDS.get(self.op)
        names = {f.alias or n for n, f in model.model_fields.items()} if model is not None else set()
        for k, v in form.multi_items():  # the page's fixed values (branch, ids): the command's own fields, as text
            if k in names and k not in data and k not in NOT_TYPED and k not in self.field_names and str(v).strip():
                data[k] = str(v).strip()
        nested: dict[str, Any] = {}
        for k, v in data.items():
            if "." in k:
                head, _, tail = k.partition(".")
                nested.setdefault(head, {})[tail] = v
            else:
                nested[k] = v
        return nested


FORMS: dict[str, Form] = {}


def register(*forms: Form) -> None:
    """Declare forms (each page module declares its own)."""
    for f in forms:
        FORMS[f.op] = f


def typed(form: FormData) -> dict[str, str]:
    """What the visitor typed, to show again after a refusal."""
    return {k: str(v) for k, v in form.multi_items() if k not in NOT_TYPED and isinstance(v, str)}


@router.post("/web/do/{op}")
async def do(op: str, request: Request) -> Response:
    """Send one declared form's command as the visitor; back to the page it came from,
    at the form."""
    visitor, form = await form_of(request)
    spec = FORMS.get(op)
    if spec is None:
        raise Refused(InvalidInput(f"未知操作 {op!r}", "op"))
    form_id = str(form.get("_form") or f"form-{op}")[:80]
    kept = {"form": form_id, "values": typed(form)}
    back_to = safe_next(form.get("next"))
    try:
        line = spec.line(form)
    except LedgerError as e:
        await run_in_threadpool(flash, request, visitor, "error", e.reason, e.field, kept)
        return RedirectResponse(f"{back_to}#{form_id}", status_code=303)
    if spec.keyed and form.get("key"):
        line["key"] = str(form.get("key"))
    ok = await send(request, visitor, op, line, spec.success, kept)
    return RedirectResponse(back_to if ok else f"{back_to}#{form_id}", status_code=303)
