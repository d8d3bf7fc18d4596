"""Which function runs each command: the registry the application service dispatches on.

A mechanism's module declares its commands (``domain/commands.py`` style) and registers a
handler for each with :func:`handles`; ``domain/service/application.py`` imports every such module
once, so the registry is complete before the first command runs. A handler receives the
application, the unit of work and the validated command; it loads, acts and returns ids —
the unit of work saves.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:  # only for type hints: the application imports this module
    from domain.service.application import Ledger, UnitOfWork

Handler = Callable[["Ledger", "UnitOfWork", Any], Any]
HANDLERS: dict[type, Handler] = {}
F = TypeVar("F", bound=Handler)


def handles(command: type) -> Callable[[F], F]:
    """Register the decorated function as the handler of ``command``."""
    def register(handler: F) -> F:
        if command in HANDLERS:
            raise TypeError(f"{command.__name__} has a handler already")
        HANDLERS[command] = handler
        return handler
    return register
