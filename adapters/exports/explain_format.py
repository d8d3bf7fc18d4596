"""How an explanation's entries read for people (CLI text, Excel): the words for an entry's
state, its corrections and voids, and its appeals. Only formatting: every figure comes from
the explanation model (projections/explain.py)."""
from __future__ import annotations

from typing import Any

from domain import vocabulary

STATE_NAMES, CAUSE_NAMES = vocabulary.ENTRY_STATES, vocabulary.CORRECTION_CAUSES  # domain/vocabulary.py
APPEAL_STATES = {**vocabulary.APPEAL_STATES, "open": "申诉未决"}  # in an entry line "待决定" alone is unclear


def state_text(e: dict[str, Any]) -> str:
    """录入 → 现值 → 计入, e.g. ``录入 -2.00，已更正为 0.00，计入 0.00``."""
    if e["state"] == "voided":
        now = "已作废"
    elif e["state"] == "corrected":
        now = f"已更正为 {e['current_points']}"
    else:
        now = ""
    counted = f"计入 {e['counted_points']}" + (f"（{e['cap']}）" if e.get("cap") else "")
    return "，".join(x for x in (f"录入 {e['points']}", now, counted) if x)


def change_text(c: dict[str, Any]) -> str:
    """One correction or void of an entry."""
    what = "作废" if c["kind"] == "voided" else f"更正为 {c['points']}"
    cause = CAUSE_NAMES.get(c.get("cause") or "", c.get("cause"))
    return (f"位置 {c['position']} {c['recorded_at'][:19]} {what}" + (f"（{cause}）" if cause else "")
            + f" {c['actor']}：{c['reason']}")


def appeal_text(a: dict[str, Any]) -> str:
    """One appeal against an entry: its filing and, once decided, the decision."""
    f = a["filed"]
    text = (f"{APPEAL_STATES.get(a['state'], a['state'])}：位置 {f['position']} {f['recorded_at'][:19]} "
            f"{f['actor']} 提出：{f['reason']}")
    d = a.get("decided")
    if d:
        text += (f"；位置 {d['position']} {d['recorded_at'][:19]} {d['actor']} 决定"
                 + (f"更正为 {a['points']}" if a.get("points") is not None else "") + f"：{d['reason']}")
    return text


def history_text(e: dict[str, Any]) -> str:
    """An entry's corrections, voids and appeals in one cell (Excel): one per line."""
    return "\n".join([*(change_text(c) for c in e["changes"]), *(appeal_text(a) for a in e["appeals"])])
