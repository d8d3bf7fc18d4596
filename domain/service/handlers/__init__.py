"""Which function runs each command: the one registry the application service dispatches on.

Every command has one handler, a plain function ``(uow, cmd)`` in a module of this package
(one module per mechanism: ``domain/service/handlers/<mechanism>.py``), registered with
:func:`handles`. It loads through the unit of work, acts on the aggregates and returns ids;
the unit of work saves. :func:`discover` imports every module of the package (a package
scan, no list to keep), so the registry is complete before the first command runs; the
application (``domain/service/application.py``) calls it once when it is imported.
``tests/unit/test_registry.py`` fails for a command without a handler, roles, a Chinese name or
a way in (CLI, HTTP). How to add a mechanism: docs/DESIGN.md.
"""
from __future__ import annotations

import pkgutil
from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:  # only for type hints; the unit of work imports no handler module
    from domain.service.unit_of_work import UnitOfWork

Handler = Callable[["UnitOfWork", Any], Any]
HANDLERS: dict[type, Handler] = {}
F = TypeVar("F", bound=Handler)


def handles(command: type) -> Callable[[F], F]:
    """Register the decorated function as the handler of ``command`` (one handler each)."""
    def register(handler: F) -> F:
        if command in HANDLERS and HANDLERS[command] is not handler:
            raise TypeError(f"{command.__name__} has a handler already")
        HANDLERS[command] = handler
        return handler
    return register


def discover() -> dict[type, Handler]:
    """Import every handler module of this package (idempotent); returns the registry."""
    for module in pkgutil.iter_modules(__path__):
        import_module(f"{__name__}.{module.name}")
    return HANDLERS
