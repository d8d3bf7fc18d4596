"""Text cells that stay text (Excel 公式注入防护): every workbook the ledger writes passes
through :func:`as_text` before it is saved.

Reasons, names and actors come from people (a scorer, a secretary's appeal). openpyxl turns
a string starting with ``=`` into a formula, and Excel or WPS turn a text cell starting with
``= + - @``, a tab or a carriage return into one when it is edited. So every string cell is
stored as a string (``t="inlineStr"``, never ``<f>``) and, where it starts with one of those
characters, also marked ``quotePrefix`` (Excel's leading apostrophe: shown as typed, kept as
text when edited). The text itself is never changed, so what the ledger holds is what the
sheet shows and what ``ledger dues verify`` reads back. Numbers (negative ones too) are
numbers and untouched.
"""
from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def as_text(workbook: Any) -> Any:
    """Make every string cell of every sheet of ``workbook`` a text cell; return it."""
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl made "=…" a formula ("f")
                    if value.startswith(FORMULA_STARTS):
                        cell.quotePrefix = True
    return workbook
