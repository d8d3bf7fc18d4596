"""A published dues statement (党费收缴公示) as a checkable document: JSON bundle or Excel.

Bundle format ``dangjian-dues-publication/1``: ``statement`` (the canonical statement, as
hashed), ``publication`` (branch, half, number, statement hash, log position, recorded-at,
actor), ``proof`` (a ``dangjian-ledger-proof/1`` inclusion bundle of the ``Published``
event in the first signed checkpoint covering it — the one recorded with it). The Excel
file carries the same: sheet 1 is the notice (printable), sheet 2 (``核验``) the metadata,
the signed checkpoint, the event and its inclusion proof, so the posted sheet can be checked
offline with only the ledger's public key, and against the ledger where one is at hand.

:func:`verify_publication` reports each check: the rows hash to the recorded hash, the event
in the proof records that hash and those rows, the event is in a checkpoint signed by a
trusted key; with the ledger: the event is the ledger's, the checkpoint is the ledger's, and
the statement recomputed from the log up to the publication equals the published one.
"""
from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import orjson
from sqlalchemy.engine import Engine

from adapters.store.proofs import ProofError, TreeReader, inclusion_bundle, verify_bundle
from domain.integrity.log import untranscode
from domain.members.dues import CENT, statement, statement_hash

FORMAT = "dangjian-dues-publication/1"
NOTICE, DATA = "党费收缴公示", "核验"
HEADER = ["序号", "人员编号", "姓名", "在册月数", "应交（元）", "已交（元）", "欠交（元）", "多交（元）"]
AMOUNTS = ("due", "paid", "arrears", "overpaid")
CHUNK = 30000  # Excel keeps at most 32,767 characters in a cell


def half_name(half: str) -> str:
    return f"{half[:4]}年{'上' if half[5] == '1' else '下'}半年"


def bundle_of(engine: Engine, p: dict[str, Any]) -> dict[str, Any]:
    """The bundle of publication ``p`` (a ``projections.dues`` publication record)."""
    reader = TreeReader(engine)
    leaf = reader.event_at(p["position"])["leaf_index"]
    covering = [cp.number for cp in reader.checkpoints() if cp.size > leaf]
    if not covering:
        raise ProofError(f"位置 {p['position']} 的公示尚未被任何检查点覆盖")
    s = p["statement"]
    return {"format": FORMAT, "statement": s,
            "publication": {"branch": s["branch"], "half": s["half"], "number": p["number"],
                            "statement_hash": p["statement_hash"], "position": p["position"],
                            "recorded_at_us": p["recorded_at_us"], "actor": p["actor"], "by": p.get("by")},
            "proof": inclusion_bundle(reader, p["position"], covering[0])}


# -- Excel ----------------------------------------------------------------------------------
def write_xlsx(bundle: dict[str, Any], path: Path) -> None:
    """The notice (sheet 1, printable) and the verification data (sheet 2)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    s, pub, proof = bundle["statement"], bundle["publication"], bundle["proof"]
    wb = Workbook()
    ws = wb.active
    ws.title = NOTICE
    ws.append([f"{s['branch_name']}{half_name(s['half'])}党费收缴情况公示"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([f"统计期间：{s['months'][0]} 至 {s['months'][-1]}；第 {pub['number']} 次公示；金额单位：元"])
    ws.append([])
    ws.append(HEADER)
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for n, r in enumerate(s["rows"], start=1):
        ws.append([n, r["person"], r["name"], r["months"], *(Decimal(r[k]) for k in AMOUNTS)])
    t = s["totals"]
    ws.append(["合计", None, f"{t['members']} 人", None, *(Decimal(t[k]) for k in AMOUNTS)])
    for row in ws.iter_rows(min_row=5, max_row=ws.max_row, min_col=5, max_col=8):
        for cell in row:
            cell.number_format = "0.00"
    ws.append([])
    for label, value in (("摘要（SHA-256）", pub["statement_hash"]), ("日志位置", pub["position"]),
                         ("检查点", f"树大小 {proof['checkpoint'].splitlines()[1]}，签名见“{DATA}”表"),
                         ("核验方法", "ledger dues verify 本文件 --key 账本公钥文件（公钥：ledger key show）")):
        ws.append([label, None, value])
    for column, width in zip("ABCDEFGH", (8, 14, 10, 10, 12, 12, 12, 12)):
        ws.column_dimensions[column].width = width
    ws.print_title_rows = "4:4"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0

    data = wb.create_sheet(DATA)
    event = proof["event"]
    rows: list[tuple[str, Any]] = [
        ("format", FORMAT), ("statement_format", s["format"]), ("branch", s["branch"]),
        ("branch_name", s["branch_name"]), ("half", s["half"]), ("number", pub["number"]),
        ("statement_hash", pub["statement_hash"]), ("position", pub["position"]),
        ("recorded_at_us", str(pub["recorded_at_us"])), ("actor", pub["actor"]), ("by", pub.get("by") or ""),
        ("checkpoint", proof["checkpoint"]), ("leaf_index", proof["leaf_index"]),
        ("proof", "\n".join(proof["proof"])), ("event_position", event["position"]),
        ("event_recorded_at_us", str(event["recorded_at_us"])), ("event_aggregate_id", event["aggregate_id"]),
        ("event_version", event["version"]), ("event_topic", event["topic"])]
    payload = event["payload"]
    rows += [("event_payload", payload[i:i + CHUNK]) for i in range(0, len(payload), CHUNK)]
    for key, value in rows:
        data.append([key, value])
    data.column_dimensions["A"].width = 22
    data.column_dimensions["B"].width = 100
    from adapters.exports.xlsx_text import as_text
    as_text(wb).save(path)


def _amount(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise ProofError(f"金额单元格无效：{value!r}")
    return str(Decimal(str(value)).quantize(CENT))


def read_xlsx(path: Path) -> dict[str, Any]:
    """The bundle a sheet written by :func:`write_xlsx` carries, its statement rebuilt from
    the notice's visible rows (so an edited cell changes the hash)."""
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file
        raise ProofError(f"无法读取 Excel 文件：{e}") from None
    if NOTICE not in wb.sheetnames or DATA not in wb.sheetnames:
        raise ProofError(f"不是本账本导出的党费公示表（缺少“{NOTICE}”或“{DATA}”表）")
    meta: dict[str, Any] = {}
    payload = []
    for key, value, *_ in wb[DATA].iter_rows(values_only=True):
        if key == "event_payload":
            payload.append(value or "")
        elif key is not None:
            meta[str(key)] = value
    if meta.get("format") != FORMAT:
        raise ProofError("“核验”表的格式标记不符")
    rows = []
    for values in wb[NOTICE].iter_rows(min_row=5, values_only=True):
        if values[0] == "合计":
            break
        if values[0] is None:
            continue
        try:
            rows.append({"person": str(values[1]), "name": str(values[2]), "months": int(values[3]),
                         **{k: _amount(v) for k, v in zip(AMOUNTS, values[4:8])}})
        except (TypeError, ValueError, ArithmeticError) as e:
            raise ProofError(f"公示表第 {len(rows) + 1} 行无效：{e}") from None
    rebuilt = statement(str(meta["branch"]), str(meta["branch_name"]), str(meta["half"]), rows)
    if meta.get("statement_format") != rebuilt["format"]:
        raise ProofError("公示表的格式版本不符")
    proof_hashes = [h for h in str(meta.get("proof") or "").splitlines() if h]
    return {"format": FORMAT, "statement": rebuilt,
            "publication": {"branch": meta["branch"], "half": meta["half"], "number": int(meta["number"]),
                            "statement_hash": meta["statement_hash"], "position": int(meta["position"]),
                            "recorded_at_us": int(meta["recorded_at_us"]), "actor": meta["actor"],
                            "by": meta.get("by") or None},
            "proof": {"format": "dangjian-ledger-proof/1", "kind": "inclusion", "leaf_index": int(meta["leaf_index"]),
                      "checkpoint": str(meta["checkpoint"]), "proof": proof_hashes,
                      "event": {"position": int(meta["event_position"]),
                                "recorded_at_us": int(meta["event_recorded_at_us"]),
                                "aggregate_id": str(meta["event_aggregate_id"]), "version": int(meta["event_version"]),
                                "topic": str(meta["event_topic"]), "payload": "".join(payload)}}}


def read_bundle(path: Path) -> dict[str, Any]:
    """A bundle from ``.xlsx`` or JSON."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    try:
        bundle = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise ProofError(f"不是有效的 JSON：{e}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ProofError("不是本账本导出的党费公示文件")
    return bundle


# -- verification ---------------------------------------------------------------------------
def _check(checks: list[dict[str, Any]], name: str, what: str, action: Callable[[], str]) -> bool:
    try:
        detail = action()
        checks.append({"check": name, "what": what, "ok": True, "detail": detail})
        return True
    except (ProofError, KeyError, TypeError, ValueError) as e:
        checks.append({"check": name, "what": what, "ok": False, "detail": str(e)})
        return False


def verify_publication(bundle: dict[str, Any], vkeys: list[str],
                       ledger: "LedgerChecks | None" = None) -> list[dict[str, Any]]:
    """Every check, in order (``ok`` False on the ones that fail; ``ok`` None: information)."""
    checks: list[dict[str, Any]] = []
    s, pub, proof = bundle["statement"], bundle["publication"], bundle["proof"]

    def rows_hash() -> str:
        digest = statement_hash(s)
        if digest != pub["statement_hash"]:
            raise ProofError(f"公示内容的摘要 {digest[:16]}… 与记录的摘要 {str(pub['statement_hash'])[:16]}… 不符"
                             "（表中数字被改动过，或不是这次公示）")
        return f"公示的 {len(s['rows'])} 行与合计的摘要为 {digest}"

    def event_records() -> str:
        event = proof["event"]
        raw = orjson.loads(base64.b64decode(event["payload"]))
        if not str(event["topic"]).endswith("DuesStatement.Published"):
            raise ProofError(f"证明中的事件不是党费公示事件：{event['topic']}")
        if int(event["position"]) != int(pub["position"]):
            raise ProofError("证明中的事件位置与公示记录的位置不符")
        if raw.get("statement_hash") != pub["statement_hash"] or untranscode(raw.get("statement")) != s:
            raise ProofError("日志中的公示事件记录的摘要或内容与本公示不符")
        return f"日志位置 {event['position']} 的公示事件（第 {raw.get('number')} 次）记录了同一摘要与内容"

    def inclusion() -> str:
        problems = []
        for key in vkeys:
            try:
                return verify_bundle(proof, key)
            except ProofError as e:
                problems.append(str(e))
        raise ProofError("；".join(problems) or "没有可信公钥")

    _check(checks, "statement_hash", "公示内容与摘要一致", rows_hash)
    _check(checks, "event", "日志事件记录了该摘要", event_records)
    _check(checks, "inclusion", "事件包含在已签名的检查点中", inclusion)
    if ledger is not None:
        _check(checks, "ledger_event", "账本中该位置的事件与证明一致", lambda: ledger.same_event(proof["event"]))
        _check(checks, "ledger_checkpoint", "检查点是账本签发的", lambda: ledger.has_checkpoint(proof["checkpoint"]))
        _check(checks, "recomputed", "由公示之前的记录重算结果一致", lambda: ledger.recompute(pub, s))
        later = ledger.changed_since(pub)
        if later:
            checks.append({"check": "later", "what": "公示之后的变化（仅供参考）", "ok": None, "detail": later})
    return checks


class LedgerChecks:
    """The checks that need the ledger's database."""

    def __init__(self, engine: Engine, fold_upto: Callable[[int | None], Any]) -> None:
        self.reader = TreeReader(engine)
        self.fold_upto = fold_upto  # position (None: all) → a folded projections.dues.DuesModel

    def same_event(self, event: dict[str, Any]) -> str:
        stored = self.reader.event_at(int(event["position"]))
        stored.pop("leaf_index")
        if stored != {**event, "position": int(event["position"])}:
            raise ProofError(f"账本中位置 {event['position']} 的事件与公示所附的不同")
        return f"账本中位置 {event['position']} 的事件与公示所附的逐字节相同"

    def has_checkpoint(self, note: str) -> str:
        for cp in self.reader.checkpoints():
            if cp.note == note:
                return f"第 {cp.number} 个检查点（{cp.reason}）"
        raise ProofError("账本中没有这个检查点")

    def recompute(self, pub: dict[str, Any], s: dict[str, Any]) -> str:
        model = self.fold_upto(int(pub["position"]) - 1)
        again = model.statement(s["branch"], s["half"])
        if statement_hash(again) != pub["statement_hash"]:
            differ = [r["person"] for r, a in zip(s["rows"], again["rows"]) if r != a] or ["（人数不同）"]
            raise ProofError(f"由公示之前的记录重算与公示不符：{', '.join(differ[:5])}")
        return "由公示之前的记录（党费基数、交纳、名册、考核细则）重算，结果相同"

    def changed_since(self, pub: dict[str, Any]) -> str | None:
        model = self.fold_upto(None)
        now = model.statement(pub["branch"], pub["half"])
        if statement_hash(now) == pub["statement_hash"]:
            return None
        published = {r["person"]: r for r in self.fold_upto(int(pub["position"]) - 1)
                     .statement(pub["branch"], pub["half"])["rows"]}
        changed = [r["person"] for r in now["rows"] if published.get(r["person"]) != r]
        return (f"公示之后又有记录（如补交或更正），按现在的记录重算有 {len(changed)} 人不同："
                f"{', '.join(changed[:5])}；可再次公示")
