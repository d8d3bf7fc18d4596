"""Python's cyclic garbage collector paused around work that allocates many short-lived
objects and makes no reference cycles worth collecting (folds, decoding stored sections).
Kept apart from the log reader so that the driver-only reads (adapters/store/fastview.py)
use it without importing SQLAlchemy."""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_PAUSES = [0]
_PAUSE_LOCK = threading.Lock()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a fold runs (its collections, triggered by
    the many short-lived payloads, cost ~10% of a rebuild; folds make no reference cycles
    worth collecting). Nested and concurrent uses keep it off until the last one ends; it is
    switched back on only if it was on before the first."""
    with _PAUSE_LOCK:
        if _PAUSES[0] == 0:
            _PAUSES.append(gc.isenabled())
            gc.disable()
        _PAUSES[0] += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSES[0] -= 1
            if _PAUSES[0] == 0 and _PAUSES.pop():
                gc.enable()
