"""One registry (issue 15): every command has a handler, roles, a Chinese name and a way in.

Every module under ``domain/`` is imported (a package walk), so a command class defined in a
module that no handler module imports is still found. The test reads the tables the code
itself uses, never a copy of them: the handler registry (``domain/service/handlers``), each
command's ``roles`` (what ``domain/service/permissions.py`` checks), the vocabulary's ``OPS``,
the op table that ``ledger import`` and ``POST /commands/{op}`` parse (``domain.commands.COMMANDS``),
the click command tree of ``adapters/cli`` and the routes of the HTTP application.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from types import CodeType
from typing import Any, Callable, Iterator

import click
import pytest

import domain
from domain import commands as c
from domain import vocabulary


def _subclasses(cls: type) -> Iterator[type]:
    for s in cls.__subclasses__():
        yield s
        yield from _subclasses(s)


def _op_of(cls: type) -> str | None:
    """The op a command class declares: a field default (an import op) or a class attribute."""
    field = cls.model_fields.get("op")  # type: ignore[attr-defined]
    if field is not None and isinstance(field.default, str):
        return field.default
    op = cls.__dict__.get("op")
    return op if isinstance(op, str) else None


def _commands() -> dict[type, str]:
    """Every command class in domain/ (with its op); classes without one are shared bases."""
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    importlib.import_module("domain.service.application")  # discovers the handlers
    found = {cls: _op_of(cls) for cls in _subclasses(c.Command) if cls.__module__.startswith("domain.")}
    bases = [cls for cls, op in found.items() if op is None]
    assert all(any(issubclass(s, b) and found[s] for s in found) for b in bases), f"commands without an op: {bases}"
    return {cls: op for cls, op in found.items() if op is not None}


COMMANDS = _commands()


def _names_in(code: CodeType) -> set[str]:
    """Every global name and string constant a function's code (and the code nested in it) uses."""
    out = set(code.co_names) | {k for k in code.co_consts if isinstance(k, str)}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            out |= _names_in(const)
    return out


def _uses(function: Callable[..., Any] | None, cls: type) -> bool:
    code = getattr(function, "__code__", None)
    return code is not None and cls.__name__ in _names_in(code)


def _cli_commands() -> list[click.Command]:
    """Every command as ``ledger`` finds it: each group's ``list_commands`` and ``get_command``
    (the top-level group imports a command module on first use, adapters/cli/main.py)."""
    from adapters.cli.main import main
    out, todo = [], [main]
    ctx = click.Context(main)
    while todo:
        command = todo.pop()
        out.append(command)
        if isinstance(command, click.Group):
            found = [command.get_command(ctx, name) for name in command.list_commands(ctx)]
            assert all(found), f"{command.name}: listed commands that cannot be loaded"
            todo.extend(sub for sub in found if sub is not None)
    return out


def _routes(routes: list[Any]) -> Iterator[Any]:
    """The routes of an application, those of included routers too."""
    for route in routes:
        included = getattr(route, "original_router", None)  # an included router (FastAPI ≥ 0.16x)
        yield from (_routes(included.routes) if included is not None else [route])


def test_there_are_commands_and_each_op_is_one_class() -> None:
    assert len(COMMANDS) > 50
    ops = list(COMMANDS.values())
    assert len(ops) == len(set(ops)), sorted(o for o in ops if ops.count(o) > 1)


def test_every_command_has_one_handler_and_every_handler_a_command() -> None:
    from domain.service.handlers import HANDLERS
    missing = sorted(op for cls, op in COMMANDS.items() if cls not in HANDLERS)
    assert not missing, f"commands without a handler (a module in domain/service/handlers/): {missing}"
    stale = sorted(cls.__name__ for cls in HANDLERS if cls not in COMMANDS)
    assert not stale, f"handlers of classes that are not commands: {stale}"
    for cls, handler in HANDLERS.items():
        assert handler.__module__.startswith("domain.service.handlers."), (cls.__name__, handler.__module__)


def test_every_command_names_who_may_send_it() -> None:
    known = set(vocabulary.ROLES) | {"secretary", "scorer", "party_mass"}  # scoped: domain/service/permissions.py
    bad = sorted(op for cls, op in COMMANDS.items() if not cls.roles or not set(cls.roles) <= known)
    assert not bad, f"commands without roles, or with an unknown role: {bad}"


def test_every_command_has_a_chinese_name() -> None:
    bad = sorted(op for op in COMMANDS.values() if not re.search(r"[\u4e00-\u9fff]", vocabulary.OPS.get(op, "")))
    assert not bad, f"ops without a Chinese name in domain/vocabulary.py OPS: {bad}"


def test_every_command_has_a_cli_way_in() -> None:
    """An import op reaches the CLI through ``ledger import`` (it parses against the op
    table); any other command through a CLI command that builds it."""
    cli = _cli_commands()
    assert any(command.name == "import" for command in cli)
    for cls, op in COMMANDS.items():
        if op in c.COMMANDS:
            assert c.COMMANDS[op] is cls
            with pytest.raises(domain.errors.InvalidInput) as e:
                c.parse_command({"op": op, "no_such_field": 1})
            assert e.value.field != "op", op  # known to the parser: refused for its fields only
        else:
            assert any(_uses(command.callback, cls) for command in cli), f"{op}: no CLI command sends it"


def test_every_command_has_an_http_route(tmp_path: Any) -> None:
    from fastapi.routing import APIRoute

    from adapters.bootstrap import close, initialize, make_ledger
    from adapters.http.app import create_app
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = make_ledger(url)
    initialize(ledger)
    close(ledger)
    routes = [r for r in _routes(create_app(url).routes) if isinstance(r, APIRoute) and "POST" in r.methods]
    posts = {r.path for r in routes}
    for cls, op in COMMANDS.items():
        if op in c.COMMANDS:
            assert f"/commands/{op}" in posts, f"{op}: no POST /commands/{op}"
        else:
            assert any(_uses(r.endpoint, cls) for r in routes), f"{op}: no HTTP route sends it"
