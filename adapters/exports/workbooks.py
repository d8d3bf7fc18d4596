"""Excel exports (Excel 导出): month sheet, quarter ranking, annual evaluation, a branch's history.

Each function takes the JSON a read returns (``month_json``, ``quarter_json``,
``year_json`` — as ``ledger … show --json`` and the HTTP API give them — or the API's
history rows) and builds one workbook with openpyxl: a title row, a row saying which
slice of the log it shows (status, rulebook version, log position, as-of, exported at),
an empty row, the Chinese header on row 4 (bold, frozen, with an autofilter) and one row
per branch or event from row 5. Numbers are numbers, never text: scores ``0.00``,
coefficients ``0.0000``, money ``#,##0.00`` (yuan), counts ``0``; times are Excel
date-times in Beijing time. The web pages and ``ledger export … --xlsx`` call the same
functions on the same data, so a sheet from either is identical but for its export time.
"""
from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from adapters.exports.xlsx_text import as_text
from domain import vocabulary
from domain.asof import SHANGHAI
from domain.assessment.rulebook import CATEGORY_NAMES
from domain.periods import quarter_months

SCORE, COEFFICIENT, MONEY, COUNT, TIME, TEXT = "0.00", "0.0000", "#,##0.00", "0", "yyyy-mm-dd hh:mm:ss", "@"
HEADER_ROW, FIRST_ROW = 4, 5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Names people read come from domain/vocabulary.py (the aliases keep older imports working).
STATUS_NAMES = vocabulary.PERIOD_STATES
MODE_NAMES = vocabulary.MODES
EVENT_NAMES = vocabulary.EVENTS
RULE_NAMES = vocabulary.RULES

Column = tuple[str, str | None, float]  # header, number format (None: text), width


def _d(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _stamp_line(data: dict[str, Any]) -> str:
    parts = [f"状态：{STATUS_NAMES.get(data.get('status', ''), data.get('status', '-'))}"]
    if data.get("rulebook_version") is not None:
        parts.append(f"考核细则第 {data['rulebook_version']} 版")
    if data.get("position") is not None:
        parts.append(f"日志位置 {data['position']}")
    if data.get("as_of"):
        parts.append(f"截至 {data['as_of']}")
    if data.get("documented_by"):
        parts.append(f"按单据日期截至 {data['documented_by']}")
    changed = [b["branch"] for b in data.get("branches", []) if b.get("changed_since_approval")]
    if changed:
        parts.append(f"注意：支部 {'、'.join(changed)} 审批后有变化，表中为当前结果，与签名审批时不同")
    parts.append(f"导出于 {datetime.now(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）")
    return "；".join(parts)


def _sheet(title: str, sheet: str, subtitle: str, columns: Sequence[Column],
           rows: Iterable[Sequence[Any]]) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.cell(2, 1, subtitle).font = Font(color="666666")
    fill = PatternFill("solid", fgColor="DDE5F0")
    for c, (header, _, width) in enumerate(columns, start=1):
        cell = ws.cell(HEADER_ROW, c, header)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = width
    r = FIRST_ROW - 1
    for r, row in enumerate(rows, start=FIRST_ROW):
        for c, ((_, fmt, _), value) in enumerate(zip(columns, row), start=1):
            cell = ws.cell(r, c, value)
            if fmt is not None and value is not None:
                cell.number_format = fmt
    ws.freeze_panes = ws.cell(FIRST_ROW, 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(columns))}{max(r, HEADER_ROW)}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    return as_text(wb)


def month_workbook(data: dict[str, Any]) -> Workbook:
    """月度考核表: ``month_json`` (scores, coefficients of full-time secretaries, allowances
    of part-time ones, the business score and the dual hundred-point result)."""
    columns: list[Column] = [("支部代码", None, 11), ("支部名称", None, 18), ("书记", None, 10),
                             ("任职方式", None, 9), ("得分", SCORE, 9), ("绩效系数", COEFFICIENT, 10),
                             ("津贴（元）", MONEY, 12), ("经营得分", SCORE, 10), ("双百分得分", SCORE, 11),
                             ("审批后有变化", None, 12)]
    rows = [[b["branch"], b["name"], b.get("secretary"), MODE_NAMES.get(b.get("mode"), b.get("mode")),
             _d(b["score"]), _d(b.get("coefficient")), _d(b.get("allowance")), _d(b.get("business")),
             _d(b.get("combined")),
             None if "changed_since_approval" not in b else ("是" if b["changed_since_approval"] else "否")]
            for b in data["branches"]]
    return _sheet(f"{data['period']} 月度考核结果", "月度考核", _stamp_line(data), columns, rows)


def quarter_workbook(data: dict[str, Any]) -> Workbook:
    """季度评比表: ``quarter_json`` (the three months, the quarter's score, rank, award, fine)."""
    months = quarter_months(data["period"])
    columns: list[Column] = [("名次", COUNT, 6), ("支部代码", None, 11), ("支部名称", None, 18),
                             *((f"{int(m[5:])}月得分", SCORE, 10) for m in months),
                             ("季度得分", SCORE, 10), ("奖励（元）", MONEY, 12), ("罚款（元）", MONEY, 12),
                             ("季末书记", None, 10), ("任职方式", None, 9), ("说明", None, 36)]
    rows = [[b["rank"], b["branch"], b["name"], *(_d(b["months"].get(m)) for m in months), _d(b["score"]),
             _d(b["award"]), _d(b["fine"]), b.get("secretary"), MODE_NAMES.get(b.get("mode"), b.get("mode")),
             "；".join(RULE_NAMES.get(n, n) for n in b.get("notes", [])) or None]
            for b in data["branches"]]
    return _sheet(f"{data['period']} 季度评比排名", "季度排名", _stamp_line(data), columns, rows)


def year_workbook(data: dict[str, Any]) -> Workbook:
    """年度总评表: ``year_json`` (mean, inputs, score, rank, award, fine, next year's quotas)."""
    columns: list[Column] = [("名次", COUNT, 6), ("支部代码", None, 11), ("支部名称", None, 18),
                             ("月均分", SCORE, 9), ("单位经营业绩", SCORE, 12), ("书记述职评分", SCORE, 12),
                             ("总评得分", SCORE, 10), ("奖励（元）", MONEY, 12), ("罚款（元）", MONEY, 12),
                             ("党员人数", COUNT, 9), (f"{data['quota_year']}年发展党员指标", COUNT, 14),
                             (f"{data['quota_year']}年优秀党员指标", COUNT, 14), ("12月书记", None, 10),
                             ("说明", None, 30)]
    rows = [[b["rank"], b["branch"], b["name"], _d(b["monthly_mean"]), _d(b.get("unit_score")),
             _d(b.get("debriefing_score")), _d(b.get("score")), _d(b["award"]), _d(b["fine"]), b.get("members"),
             b.get("development_quota"), b.get("excellent_member_quota"), b.get("secretary"),
             "；".join(RULE_NAMES.get(n, n) for n in b.get("notes", [])) or None]
            for b in data["branches"]]
    return _sheet(f"{data['period']} 年度总评", "年度总评", _stamp_line(data), columns, rows)


HISTORY_COLUMNS: list[Column] = [
    ("日志位置", COUNT, 9), ("记录时间（北京时间）", TIME, 20), ("事件类型代码", None, 30), ("事件", None, 14),
    ("操作人", None, 14), ("执行用户", None, 12), ("期间", None, 9), ("类别", None, 14), ("分值", SCORE, 8),
    ("理由", None, 36), ("历史迁移", None, 9), ("存储原文（JSON）", None, 60)]  # codes and raw form: for auditors


def event_points(detail: dict[str, Any]) -> Decimal | None:
    """The points an event records: an entry's, a correction's new points, a decision's."""
    for key in ("points", "new_points"):
        if detail.get(key) not in (None, ""):
            try:
                return Decimal(str(detail[key]))
            except ArithmeticError:
                return None
    return None


def event_period(event: dict[str, Any]) -> str | None:
    """A history row's period: the API's ``period`` (the event's or its aggregate's), else the
    detail's year or first month."""
    d = event["detail"]
    return event.get("period") or d.get("period") or d.get("year") or d.get("from_month") or d.get("from")


def history_workbook(data: dict[str, Any], filters: dict[str, str | None] | None = None) -> Workbook:
    """一个支部的全部记录: the API's ``/history`` rows (as filtered on the page, if so)."""
    rows = []
    for e in data["events"]:
        d = e["detail"]
        at = datetime.fromisoformat(e["recorded_at"]).astimezone(SHANGHAI).replace(tzinfo=None)
        rows.append([e["position"], at, e["event"], vocabulary.event_name(e["event"]), e.get("actor"), d.get("by"),
                     event_period(e), vocabulary.code_name("category", d.get("category")) or d.get("category"),
                     event_points(d), d.get("reason"), "是" if d.get("migrated") else None,
                     json.dumps(d, ensure_ascii=False, sort_keys=True)])
    shown = "；".join(f"{name}：{value}" for name, value in (filters or {}).items() if value)
    subtitle = f"共 {len(rows)} 条" + (f"（筛选 {shown}）" if shown else "") + \
        f"；导出于 {datetime.now(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）"
    return _sheet(f"支部 {data['branch']} 全部记录", "支部记录", subtitle, HISTORY_COLUMNS, rows)


def filter_history(events: list[dict[str, Any]], period: str | None = None, actor: str | None = None,
                   category: str | None = None) -> list[dict[str, Any]]:
    """History rows whose period starts with ``period`` (``2019``, ``2019-07``, ``2019Q3``: its
    months), whose document name or acting user contains ``actor``, of ``category``."""
    months = set(quarter_months(period)) if period and "Q" in period else None

    def keep(e: dict[str, Any]) -> bool:
        d = e["detail"]
        if period:
            p = str(event_period(e) or "")
            if not ((months is not None and (p in months or p == period)) or (months is None and p.startswith(period))):
                return False
        if actor and actor not in f"{e.get('actor') or ''} {d.get('by') or ''}":
            return False
        return not (category and d.get("category") != category)
    return [e for e in events if keep(e)]


def workbook_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    as_text(wb).save(out)
    return out.getvalue()


EXPLAIN_COLUMNS: list[Column] = [
    ("月份", None, 9), ("日志位置", COUNT, 9), ("录入时间（北京时间）", TIME, 20), ("类别", None, 14),
    ("录入分值", SCORE, 9), ("现分值", SCORE, 9), ("计入分值", SCORE, 9), ("状态", None, 8), ("上限说明", None, 22),
    ("部门", None, 12), ("操作人", None, 14), ("理由", None, 30), ("更正、作废与申诉", None, 60)]
COUNTED_LABEL, COUNTED_VALUE = 3, 6  # summary rows: label in 类别, figure in 计入分值 (0-based columns)


def explain_rows(m: dict[str, Any]) -> list[list[Any]]:
    """A month's explanation (``explain_month``) as sheet rows: one per entry, then its
    计入合计, 基础分 and 得分 rows — the counted column adds up to the score."""
    from adapters.exports.explain_format import STATE_NAMES, history_text
    rows: list[list[Any]] = []
    for e in m["entries"]:
        at = datetime.fromisoformat(e["recorded_at"]).astimezone(SHANGHAI).replace(tzinfo=None)
        rows.append([m["period"], e["position"], at, CATEGORY_NAMES.get(e["category"], e["category"]),
                     _d(e["points"]), _d(e["current_points"]), _d(e["counted_points"]),
                     STATE_NAMES.get(e["state"], e["state"]), e.get("cap"), e["department"], e["actor"], e["reason"],
                     history_text(e) or None])
    for label, value in (("计入合计", m["counted_total"]), ("基础分", m["base"]), ("得分", m["score"])):
        row: list[Any] = [m["period"]] + [None] * (len(EXPLAIN_COLUMNS) - 1)
        row[COUNTED_LABEL], row[COUNTED_VALUE] = label, _d(value)
        rows.append(row)
    return rows


def explain_month_workbook(data: dict[str, Any]) -> Workbook:
    """某支部某月得分由来: the explanation model (``ledger explain month --json``)."""
    subtitle = (f"基础分 {data['base']} + 计入合计 {data['counted_total']} = 得分 {data['score']}；"
                + (f"未决申诉 {data['open_appeals']} 项；" if data.get("open_appeals") else "")
                + _stamp_line({**data, "rulebook_version": data["rulebook"]["version"]}))
    return _sheet(f"{data['period']} 支部 {data['branch']} 得分由来", "得分由来", subtitle, EXPLAIN_COLUMNS,
                  explain_rows(data))


def explain_quarter_workbook(data: dict[str, Any]) -> Workbook:
    """某支部季度得分由来: each month's entries and sums (``ledger explain quarter --json``)."""
    subtitle = (f"季度得分 {data['score']} = （{' + '.join(data['mean_of'])}）÷ 3；第 {data['rank']} 名 / 共 "
                f"{data['of']} 个；奖励 {data['award']} 元，罚款 {data['fine']} 元；"
                + _stamp_line({**data, "rulebook_version": data["rulebook"]["version"]}))
    return _sheet(f"{data['period']} 支部 {data['branch']} 季度得分由来", "季度得分由来", subtitle, EXPLAIN_COLUMNS,
                  [row for m in data["months"] for row in explain_rows(m)])


EXPORTS: dict[str, Callable[[dict[str, Any]], Workbook]] = {
    "month": month_workbook, "quarter": quarter_workbook, "year": year_workbook}
