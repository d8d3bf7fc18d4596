"""命令行 ``ledger``: the CLI over the application service (help text in Chinese).

Start-up is kept short (issue 18): this module imports only Click and small domain tables;
the database, the application, FastAPI, openpyxl and the signing code are imported inside the
commands that use them, and each other command module of ``adapters/cli/`` is imported only
when one of its commands runs (:class:`LedgerGroup`, :func:`lazy_commands`)."""
from __future__ import annotations

import ast
import functools
import importlib
import json
import pkgutil
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from adapters.bootstrap import database_url, initialize, make_ledger
from adapters.cli import zh as cli_zh
from adapters.cli.common import (
    AsOf,
    acting,
    emit,
    existing_engine,
    existing_ledger,
    fail,
    maintained_view,
    member_warning_lines,
    model_at,
    replay_note,
    replay_options,
    run,
    run_op,
    shown_quarter,
    stamp,
    write,
)
from adapters.json_input import decode_text
from domain import vocabulary
from domain.errors import InvalidInput, LedgerError, LineError
from domain.integrity.log import provenance_text
from domain.periods import check_month, check_quarter, check_year, quarter_months

cli_zh.install()  # Click's usage errors and help headings in Chinese
STATUS_NAMES, MODE_NAMES = vocabulary.PERIOD_STATES, vocabulary.MODES  # names: domain/vocabulary.py


class Lazy:
    """A command of another module of ``adapters/cli/``: the modules that define it and its
    subcommands, and its help, shown by ``ledger --help`` without importing them (a test
    compares both with the commands the modules register)."""

    def __init__(self, modules: tuple[str, ...], help: str) -> None:
        self.modules, self.help = modules, help


DECORATOR = re.compile(r"^@(\w+)\.(group|command)\(", re.M)
IMPORTED_GROUP = re.compile(r"^from adapters\.cli\.(\w+) import (\w+)$", re.M)
DEF = re.compile(r"^def (\w+)\(", re.M)


def _call_text(source: str, start: int) -> str:
    """The parenthesis opening at ``source[start]`` up to its closing ``)`` (a decorator's call):
    parentheses counted outside string literals (the help texts hold full-width ones only)."""
    depth, quote, i = 0, "", start
    while True:
        ch = source[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return source[start:i + 1]
        i += 1


def _text(node: ast.expr, source: str) -> str | None:
    """A help text as the module's text writes it: string literals, joined by ``+``, and
    names of module-level string constants of the same file (``NAME = "…"``); else ``None``."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, source), _text(node.right, source)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Name):
        assigned = re.search(rf"^{node.id} = ", source, re.M)
        if assigned is not None:
            start = assigned.end()
            written = (_call_text(source, start) if source[start] == "(" else
                       source[start:source.index("\n", start)])
            value = ast.parse(written, mode="eval").body
            return _text(value, source)
    return None


def _command_name(function: str) -> str:
    """The name Click gives a command made from ``function`` without a name."""
    name = function.lower().replace("_", "-")
    for suffix in ("-command", "-cmd", "-group", "-grp"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _registrations(source: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """What a command module's text registers, read without importing it: its commands on
    ``main`` (name → help and the function), and the groups of other modules it adds to
    (module, function). The convention (each top-level command is ``@main.group(...)`` or
    ``@main.command(...)`` with ``help=`` a string literal) is held by
    tests/unit/test_cli_lazy.py, which compares this with what the modules register."""
    own: dict[str, tuple[str, str]] = {}
    imported = {name: module for module, name in IMPORTED_GROUP.findall(source)}
    extends: list[tuple[str, str]] = []
    for match in DECORATOR.finditer(source):
        target = match.group(1)
        if target in imported:
            extends.append((imported[target], target))
        if target != "main":
            continue
        call = ast.parse("f" + _call_text(source, match.end() - 1), mode="eval").body
        assert isinstance(call, ast.Call)
        function = DEF.search(source, match.end())
        assert function is not None
        given = {k.arg: _text(k.value, source) for k in call.keywords}
        positional = [a.value for a in call.args if isinstance(a, ast.Constant)]
        name = str(given.get("name") or (positional[0] if positional else _command_name(function.group(1))))
        own[name] = (str(given.get("short_help") or given.get("help") or ""), function.group(1))
    return own, extends


@functools.cache
def lazy_commands() -> dict[str, Lazy]:
    """The commands of the other modules of ``adapters/cli/`` (a directory listing, each
    file's text read, nothing imported): the modules that make up each and its help."""
    import adapters.cli
    found: dict[str, dict[str, tuple[str, str]]] = {}
    extending: dict[str, list[tuple[str, str]]] = {}
    for info in pkgutil.iter_modules(adapters.cli.__path__):
        if info.name in NOT_COMMANDS:
            continue
        source = (Path(adapters.cli.__path__[0]) / f"{info.name}.py").read_text(encoding="utf-8")
        found[info.name], extending[info.name] = _registrations(source)
    out: dict[str, Lazy] = {}
    for module, commands in found.items():
        for name, (help_text, function) in commands.items():
            more = tuple(sorted(m for m, ext in extending.items() if m != module and (module, function) in ext))
            out[name] = Lazy((module, *more), help_text)
    return dict(sorted(out.items()))


NOT_COMMANDS = frozenset({"main", "zh", "common"})  # helper modules of the package, not command groups


def short_help(text: str | None, limit: int) -> str:
    """A command's one line in its group's listing: the help's first paragraph if it fits in
    ``limit`` characters, else cut after the last full stop or semicolon (。；) in the first third
    or more of the room, else at the last comma-like mark (，、：) with "…", else at the limit
    with "…". Click's own cut goes back to the last space, which a Chinese sentence does not
    have: it printed "..." alone (``ledger group``, ``group init``, ``user grant``)."""
    first = " ".join((text or "").split("\n\n")[0].split())
    if len(first) <= limit:
        return first
    room = first[:limit - 1]
    for marks, tail in (("。；！？", ""), ("，、：", "…")):
        at = max(room.rfind(mark) for mark in marks)
        if at >= limit // 3:
            return room[:at + 1] if not tail else room[:at] + tail
    return room + "…"


class ShortHelp:
    """Commands listed with :func:`short_help` unless they give their own ``short_help``."""

    short_help: str | None
    help: str | None

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help:
            return super().get_short_help_str(limit)  # type: ignore[misc, no-any-return]
        return short_help(self.help, limit)


class LedgerCommand(ShortHelp, click.Command):
    """Every ``ledger`` command (made by a group's ``command`` decorator)."""


class LedgerSubgroup(ShortHelp, click.Group):
    """Every group under ``ledger`` (``ledger user``, ``ledger group`` …) and theirs."""

    command_class = LedgerCommand
    group_class = type  # its groups are of this class too


class LedgerGroup(ShortHelp, click.Group):
    """The ``ledger`` group: the commands of this module as usual, the others of
    :func:`lazy_commands` imported on first use (each module registers its commands on
    :func:`main` when imported); ``--help`` lists them from the table, importing nothing.

    A refusal escaping a command — a read that meets a stored event it cannot read
    (:class:`domain.errors.CorruptLog`, naming its position) — ends it as every refusal
    does: the reason in Chinese on stderr, exit 1, no traceback."""

    command_class = LedgerCommand
    group_class = LedgerSubgroup

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as e:
            fail([LineError(0, e.field, e.reason)], False)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *lazy_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:  # this module's commands need no reading of the others
            lazy = lazy_commands().get(cmd_name)
            for module in lazy.modules if lazy is not None else ():
                importlib.import_module(f"adapters.cli.{module}")
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As :meth:`click.Group.format_commands`, with the help of a command not yet
        imported taken from :func:`lazy_commands`."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                rows.append((name, short_help(lazy_commands()[name].help, limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section(click.core._("Commands")):
                formatter.write_dl(rows)


@click.group(cls=LedgerGroup, help="党建考核审计账本：每一条得分、扣分、审批都是不可篡改的事件。\n\n"
                  "数据库由环境变量 LEDGER_DATABASE_URL 指定（默认当前目录的 ledger.sqlite3），签名私钥由 LEDGER_SIGNING_KEY 指定"
                  "（默认当前目录的 ledger-signing.key）；只有 ledger init 会新建数据库、表与密钥。"
                  "写入命令以 --as 指定的用户（或环境变量 LEDGER_USER）执行，并按其角色检查权限。")
@click.option("--as", "as_user", default=None, envvar="LEDGER_USER", help="以哪个用户的身份执行（用户编号）")
def main(as_user: str | None) -> None:
    acting[0] = as_user


@main.command("init", help="初始化账本：建表，登记考核细则第 1 版；--admin 创建第一个系统管理员。")
@click.option("--actor", default="system", show_default=True, help="操作人")
@click.option("--admin", default=None, help="第一个系统管理员的用户编号（尚无用户时创建）")
@click.option("--name", "admin_name", default=None, help="系统管理员姓名")
@click.option("--documented-at", "documented_at", default=None,
              help="迁移历史时：账本起点（考核细则第 1 版、组织）的原始单据日期 YYYY-MM-DD，供按单据日期重放")
def init(actor: str, admin: str | None, admin_name: str | None, documented_at: str | None) -> None:
    ledger = make_ledger(database_url(), user=acting[0])
    version = run(lambda: initialize(ledger, actor, admin, admin_name, documented_at))
    click.echo(f"账本已就绪（{database_url()}），考核细则当前版本：第 {version} 版")


@main.command("import", help="批量导入 JSONL 文件（每行一条命令）：全部成功或全部不写入。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
@click.option("--attachment", "attachments", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="申诉附件（扫描件：PDF、JPEG 或 PNG，最大 10 MB；可多次给出）：file_appeal 行以 "
                   "\"attachment\": \"文件名\" 指明；只有一个附件和一条申诉时自动附上")
def import_(file: Path, as_json: bool, attachments: tuple[Path, ...]) -> None:
    lines, errors = read_jsonl(file)
    if errors:
        fail(errors, as_json)
    ledger = existing_ledger()
    if attachments:
        from adapters.store.attachments import attach_files
        lines, errors = attach_files(ledger.attachments, lines, list(attachments))
        if errors:
            fail(errors, as_json)
    result = run(lambda: ledger.import_batch(lines, acting[0]), as_json)
    maintained_view(ledger).model()  # catch the maintained view up
    emit({"appended": result.appended, "skipped": result.skipped, "ids": result.ids, "warnings": result.warnings},
          as_json, lambda d: "\n".join([f"导入完成：新增 {d['appended']} 行，跳过 {d['skipped']} 行（已在账本中）",
                                         *(f"注意：第 {w['line']} 行 {w['message']}" for w in d["warnings"])]))


MAX_LINE_BYTES = 1 << 20  # a command is a few hundred bytes; a longer line is refused, never read whole


def read_jsonl(path: Path) -> tuple[list[tuple[int, Any]], list[LineError]]:
    """Decode each non-blank line; numbers become exact Decimals, NaN/Infinity are refused.

    Hostile input is a line error, never an exception: invalid UTF-8, a line longer than
    ``MAX_LINE_BYTES`` (skipped in pieces, memory stays bounded), nesting too deep to
    decode, a field given twice in one object (``json`` would keep the last silently)."""
    lines, errors = [], []
    with path.open("rb") as f:
        number = 0
        while raw := f.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                errors.append(LineError(number, None, f"行过长（超过 {MAX_LINE_BYTES} 字节），未读取"))
                while raw and not raw.endswith(b"\n"):
                    raw = f.readline(MAX_LINE_BYTES)
                continue
            try:
                text = raw.decode("utf-8")
                if text.strip():
                    lines.append((number, decode_text(text)))
            except UnicodeDecodeError as e:
                errors.append(LineError(number, None, f"不是有效的 UTF-8 编码（第 {e.start + 1} 字节）"))
            except InvalidInput as e:
                errors.append(LineError(number, e.field, e.reason))
    return lines, errors


# -- month ------------------------------------------------------------------------------
@main.group(help="月度考核：查看、提交、审批、退回。")
def month() -> None:
    pass


@month.command("show", help="查看某月各支部得分、绩效系数与津贴，如 ledger month show 2019-07")
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供其他工具使用）")
@replay_options
def month_show(period: str, as_json: bool, as_of: AsOf | None) -> None:
    from projections.views import month_json
    run(lambda: check_month(period))
    model = model_at(["month:" + period], as_of)
    emit(stamp(run(lambda: month_json(model, period)), model, as_of), as_json, month_text)


def month_text(d: dict[str, Any]) -> str:
    lines = [f"{d['period']} 月度考核（{STATUS_NAMES[d['status']]}）{replay_note(d)}",
             f"{'支部':<8}{'名称':<12}{'得分':>8}  {'书记':<6}{'方式':<6}{'绩效系数':>8}{'津贴(元)':>10}"]
    for b in d["branches"]:
        lines.append(f"{b['branch']:<8}{b['name']:<12}{b['score']:>8}  {b['secretary'] or '-':<6}"
                     f"{MODE_NAMES[b['mode']]:<6}{b['coefficient'] or '-':>8}{b['allowance'] or '-':>10}"
                     f"{_changed_mark(b)}")
    return "\n".join([*lines, *_changed_lines(d, None), *_approval_lines(d)])


CHANGED_MARK = "  ※审批后有变化"


def _changed_mark(row: dict[str, Any]) -> str:
    """The mark of a row whose result differs from the latest approval's."""
    return CHANGED_MARK if row.get("changed_since_approval") else ""


def _changed_lines(d: dict[str, Any], diff_command: str | None) -> list[str]:
    """A warning under a table whose approved results changed since (none if none did)."""
    changed = [b["branch"] for b in d.get("branches", []) if b.get("changed_since_approval")]
    if not changed:
        return []
    again = f"尚待重新审批；审批时与当前的对照见 {diff_command}" if diff_command else "月度审批不重做，变化已计入其后的季度与年度"
    return [f"注意：支部 {'、'.join(changed)} 的结果在审批后有变化（如申诉成立后的更正），标 ※ 的行为当前结果，"
            f"与签名审批时不同，{again}"]


def _approval_lines(d: dict[str, Any]) -> list[str]:
    a = d.get("approval")
    if not a:
        return []
    return [f"审批：{a['actor']}（用户 {a['by'] or '-'}，日志位置 {a['position']}）{provenance_text(a)}"]


@month.command("submit", help="党群工作部提交某月考核结果，提交后不能再录入。")
@click.argument("period")
@click.option("--actor", required=True, help="操作人")
def month_submit(period: str, actor: str) -> None:
    write(lambda ledger: ledger.submit_month(period=period, actor=actor), lambda p: f"{p} 已提交")


@month.command("approve", help="党委书记审批某月考核结果，审批后该月封存。")
@click.argument("period")
@click.option("--actor", required=True, help="操作人")
def month_approve(period: str, actor: str) -> None:
    write(lambda ledger: ledger.approve_month(period=period, actor=actor), lambda p: f"{p} 已审批封存")


@month.command("return", help="党委书记将已提交的月份退回草稿。")
@click.argument("period")
@click.option("--reason", required=True, help="退回理由")
@click.option("--actor", required=True, help="操作人")
def month_return(period: str, reason: str, actor: str) -> None:
    write(lambda ledger: ledger.return_month(period=period, reason=reason, actor=actor), lambda p: f"{p} 已退回草稿")


# -- quarter ----------------------------------------------------------------------------
@main.group(help="季度评比：查看排名、审批。")
def quarter() -> None:
    pass


@quarter.command("show", help="查看季度排名、奖励与罚款，如 ledger quarter show 2019Q3")
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供其他工具使用）")
@replay_options
def quarter_show(period: str, as_json: bool, as_of: AsOf | None) -> None:
    from adapters.store.gcpause import gc_paused
    from projections.model import AssessmentModel
    from projections.views import quarter_json
    run(lambda: check_quarter(period))
    with gc_paused():  # ~10^5 short-lived containers (sections, rows), no cycles: no collections meanwhile
        stored = shown_quarter(period) if as_of is None else None
        if stored is not None:  # the ranking the current view stores (projections/views.py SHOWN)
            model = AssessmentModel()
            data, model.position = stored
        else:
            model = model_at([*("month:" + m for m in quarter_months(period)), "quarter:" + period], as_of)
            data = run(lambda: quarter_json(model, period))
        shown = stamp(data, model, as_of)
    emit(shown, as_json, quarter_text)


def quarter_text(d: dict[str, Any]) -> str:
    months = quarter_months(d["period"])
    head = "".join(f"{m[5:] + '月':>8}" for m in months)
    lines = [f"{d['period']} 季度评比（{STATUS_NAMES[d['status']]}）{replay_note(d)}",
             f"{'名次':>4}  {'支部':<8}{'名称':<12}{head}{'季度得分':>9}{'奖励(元)':>10}{'罚款(元)':>10}  书记"]
    for b in d["branches"]:
        ms = "".join(f"{b['months'][m]:>10}" for m in months)
        who = f"{b['secretary']}（{MODE_NAMES[b['mode']]}）" if b["secretary"] else "无书记"
        lines.append(f"{b['rank']:>4}  {b['branch']:<8}{b['name']:<12}{ms}{b['score']:>10}"
                     f"{b['award']:>10}{b['fine']:>10}  {who}{_changed_mark(b)}")
    return "\n".join([*lines, *_changed_lines(d, f"ledger quarter diff {d['period']}"), *_approval_lines(d)])


@quarter.command("diff", help="审批时的排名与当前排名对照，并列出审批后引起变化的事件。")
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def quarter_diff_cmd(period: str, as_json: bool, as_of: AsOf | None) -> None:
    from adapters.diffs import quarter_diff_now
    emit(run(lambda: quarter_diff_now(existing_engine(), period, as_of), as_json), as_json, _compare_text)


@quarter.command("whatif", help="假设某些记录或决定不存在（或某条目按其他分值计），重算季度，不写入任何内容。")
@click.argument("period")
@click.option("--without", "refs", multiple=True, help="条目编号、申诉编号（其决定）或日志位置")
@click.option("--set", "sets", multiple=True, help="ENTRY=POINTS：假设该条目按此分值计")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def quarter_whatif_cmd(period: str, refs: tuple[str, ...], sets: tuple[str, ...], as_json: bool,
                       as_of: AsOf | None) -> None:
    from adapters.diffs import quarter_whatif_now
    from domain import commands as c
    run(lambda: check_quarter(period))
    wanted = {_ref(r) for r in refs}
    points = {}
    for item in sets:
        entry, _, value = item.partition("=")
        line = {"op": "correct_entry", "entry_id": entry, "points": value, "reason": "-", "actor": "-"}
        points[_ref(entry)] = run(lambda: c.parse_command(line).points)  # noqa: B023 - run calls it at once
    emit(run(lambda: quarter_whatif_now(existing_engine(), period, wanted, points, as_of)), as_json,
         _compare_text)


def _ref(text: str) -> str:
    if text.isdigit():
        return text
    try:
        return str(UUID(text))
    except ValueError:
        fail([LineError(0, "without", f"{text!r} 不是条目编号、申诉编号或日志位置")], False)
        raise


def _compare_text(d: dict[str, Any]) -> str:
    first, second = ("approved", "now") if "approval_id" in d else ("now", "whatif")
    names = {"approved": "审批时", "now": "当前", "whatif": "假设"}
    lines = [f"{d['period']}：{names[first]} 对照 {names[second]}{replay_note(d)}"]
    for b in d["branches"]:
        a, n = b.get(first) or {}, b.get(second) or {}
        mark = "  *" if b.get("changed", b.get("moves")) else "   "
        lines.append(f"{mark} {b['branch']:<8} {a.get('score', '-'):>7} 第{a.get('rank', '-')}名 奖{a.get('award', '-')} "
                     f"罚{a.get('fine', '-')}  →  {n.get('score', '-'):>7} 第{n.get('rank', '-')}名 "
                     f"奖{n.get('award', '-')} 罚{n.get('fine', '-')}")
        lines.extend(_cause_lines(b.get("causes", [])))
    return "\n".join(lines)


def _cause_lines(causes: list[dict[str, Any]]) -> list[str]:
    """One line per event after the approval that changed a branch's line."""
    lines = []
    for cause in causes:
        if cause.get("entry_id") is not None:
            lines.append(f"        位置 {cause['position']} {vocabulary.event_name(cause['event'])} {cause['period']} "
                         f"条目 {cause['entry_id']} "
                         f"→ {cause['points']}（{cause['actor']}：{cause['reason']}）")
        else:
            what = f"党员人数 {cause['members']}" if cause.get("members") is not None else f"党员 {cause.get('person')}"
            lines.append(f"        位置 {cause['position']} {vocabulary.event_name(cause['event'])} "
                         f"自 {cause['period']} 起 {what}"
                         f"（{cause.get('actor') or '-'}）")
    return lines


KIND_NAMES = {k: f"{n}（元）" if k in ("award", "fine") else n for k, n in vocabulary.AMOUNT_KINDS.items()}


def _reapproved(kind: str, period: str, approval_id: Any, as_json: bool) -> None:
    """Say what a re-approval recorded: its id and each adjustment (branch, kind, previous,
    new, delta), read back from the log."""
    from adapters.store.logreader import LogReader
    from domain.ids import quarter_id, year_id
    from projections.compare import adjustments
    aggregate = quarter_id(period) if kind == "quarter" else year_id(period)
    events = LogReader(existing_engine()).read(aggregate_id=aggregate)
    data = {"period": period, "approval_id": str(approval_id), "adjustments": adjustments(events, str(approval_id))}
    name = "季度排名" if kind == "quarter" else "年度总评"

    def text(d: dict[str, Any]) -> str:
        lines = [f"{period} {name}已重新审批（审批编号 {d['approval_id']}）"]
        if not d["adjustments"]:
            lines.append("奖罚与指标均无变化，未记录调整")
            return "\n".join(lines)
        lines.append(f"记录调整 {len(d['adjustments'])} 项（正数为补发或增加，负数为追回或减少）：")
        lines.append(f"  {'支部':<8}{'项目':<14}{'原':>10}{'新':>10}{'差额':>10}")
        for a in d["adjustments"]:
            delta = a["delta"] if a["delta"].startswith("-") else "+" + a["delta"]
            lines.append(f"  {a['branch']:<8}{KIND_NAMES.get(a['kind'], a['kind']):<14}{a['previous']:>10}"
                         f"{a['new']:>10}{delta:>10}" + (f"  （{a['for_year']} 年）" if a.get("for_year") else ""))
        return "\n".join(lines)
    emit(data, as_json, text)


@quarter.command("reapprove", help="季度结果变化后（如申诉成立）重新审批：记录新排名及奖罚的补发或追回。")
@click.argument("period")
@click.option("--reason", required=True, help="理由")
@click.option("--actor", required=True, help="操作人")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（审批编号与各项调整）")
def quarter_reapprove(period: str, reason: str, actor: str, as_json: bool) -> None:
    approval_id = run(lambda: existing_ledger().reapprove_quarter(period=period, reason=reason, actor=actor), as_json)
    _reapproved("quarter", period, approval_id, as_json)


@quarter.command("approve", help="党委书记审批季度排名（三个月均已审批后），并记录奖励与罚款。")
@click.argument("period")
@click.option("--actor", required=True, help="操作人")
def quarter_approve(period: str, actor: str) -> None:
    write(lambda ledger: ledger.approve_quarter(period=period, actor=actor),
           lambda a: f"{period} 季度排名已审批（审批编号 {a}）")


# -- entries and scoring ----------------------------------------------------------------
@main.command("entries", help="列出某月的得分条目（谁、何时、为何；录入分值、现分值、计入分值，更正、作废与申诉）。")
@click.option("--period", required=True, help="月份 YYYY-MM")
@click.option("--branch", default=None, help="支部代码")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def entries(period: str, branch: str | None, as_json: bool) -> None:
    from adapters.exports.explanations import entries_at
    run(lambda: check_month(period))
    model = model_at(["month:" + period], None)
    rows = run(lambda: entries_at(existing_engine(), model, period, branch))
    emit({"entries": rows}, as_json, _entries_text)


def _entries_text(d: dict[str, Any]) -> str:
    from adapters.exports.explain_format import STATE_NAMES, appeal_text, change_text
    from domain.assessment.rulebook import CATEGORY_NAMES
    lines = [f"{'位置':>6}  {'录入时间（北京时间）':<21}{'支部':<8}{'类别':<10}{'录入':>7}{'现分值':>8}{'计入':>7}  "
             f"{'状态':<5}{'操作人':<12} 理由"]
    for r in d["entries"]:
        lines.append(f"{r['position']:>6}  {r['recorded_at'][:19]:<21}{r['branch']:<8}"
                     f"{CATEGORY_NAMES.get(r['category'], r['category']):<10}{r['points']:>7}"
                     f"{r['current_points'] or '-':>8}{r['counted_points']:>7}  {STATE_NAMES[r['state']]:<5}"
                     f"{r['actor']:<12} {r['reason']}{provenance_text(r)}"
                     + (f"（{r['cap']}）" if r["cap"] else ""))
        lines += [f"{'':>8}{change_text(c)}" for c in r["changes"]]
        lines += [f"{'':>8}{appeal_text(a)}" for a in r["appeals"]]
    return "\n".join(lines)


@main.group(help="支部：登记、党员人数、任命书记。")
def branch() -> None:
    pass


@branch.command("register", help="登记支部。")
@click.argument("code")
@click.argument("name")
@click.option("--members", type=int, required=True, help="党员人数")
@click.option("--from", "from_month", default=None, help="自某月（YYYY-MM）起参加考核")
@click.option("--actor", default="registrar", show_default=True, help="操作人")
def branch_register(code: str, name: str, members: int, from_month: str | None, actor: str) -> None:
    from domain import commands as c
    cmd = run(lambda: c.parse_command({"op": "register_branch", "code": code, "name": name,
                                        "members": members, "from": from_month, "actor": actor}))
    write(lambda ledger: ledger.execute(cmd), lambda code: f"支部 {code} 已登记")


@branch.command("members", help="变更支部党员人数（自某月起）。")
@click.argument("code")
@click.argument("members", type=int)
@click.option("--from", "from_month", required=True, help="自某月（YYYY-MM）起")
@click.option("--actor", required=True, help="操作人")
def branch_members(code: str, members: int, from_month: str, actor: str) -> None:
    from domain import commands as c
    cmd = run(lambda: c.parse_command({"op": "set_members", "branch": code, "members": members,
                                        "from": from_month, "actor": actor}))
    write(lambda ledger: ledger.execute(cmd), lambda code: f"支部 {code} 党员人数已变更")


@branch.command("secretary", help="任命支部书记（专职 full_time / 兼职 part_time）。")
@click.argument("code")
@click.argument("name")
@click.option("--mode", type=click.Choice(["full_time", "part_time"]), required=True, help="专职或兼职")
@click.option("--allowance", default=None, help="兼职书记每月津贴（元）")
@click.option("--from", "from_month", required=True, help="自某月（YYYY-MM）起任职")
@click.option("--user", default=None, help="书记的用户编号")
@click.option("--actor", default="registrar", show_default=True, help="操作人")
def branch_secretary(code: str, name: str, mode: str, allowance: str | None, from_month: str,
                     user: str | None, actor: str) -> None:
    from domain import commands as c
    cmd = run(lambda: c.parse_command({"op": "appoint_secretary", "branch": code, "name": name,
                                        "mode": mode, "allowance": allowance, "from": from_month,
                                        "user": user, "actor": actor}))
    write(lambda ledger: ledger.execute(cmd), lambda code: f"支部 {code} 书记已任命")


@main.command("score", help="录入一条扣分（负数）或特色加分（正数）。")
@click.option("--branch", required=True, help="支部代码")
@click.option("--period", required=True, help="月份 YYYY-MM")
@click.option("--category", required=True, help="考核类别，如 political、bonus")
@click.option("--points", required=True, help="分值，扣分为负数，最多两位小数")
@click.option("--reason", required=True, help="理由")
@click.option("--department", required=True, help="考核部门：party_mass / discipline_inspection / office")
@click.option("--actor", required=True, help="操作人")
@click.option("--key", default=None, help="幂等键（可选）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果（条目编号与提示）")
def score(as_json: bool, **fields: Any) -> None:
    from domain import commands as c
    cmd = run(lambda: c.parse_command({"op": "record_score", **fields}), as_json)
    ledger = existing_ledger()
    entry_id, warnings = run(lambda: ledger.execute_noting(cmd), as_json)
    if entry_id is None and cmd.key is not None:  # applied before under this key: nothing written again
        entry_id = cmd.entry_id
    emit({"entry_id": str(entry_id), "warnings": warnings}, as_json,
          lambda d: "\n".join([f"已录入，条目编号 {d['entry_id']}", *(f"注意：{w['message']}" for w in d["warnings"])]))


# -- year, business scores, rulebook ----------------------------------------------------------
@main.group(help="年度总评：录入单位经营业绩与书记述职评分、查看、审批（委员会）。")
def year() -> None:
    pass


@year.command("show", help="查看年度总评排名、奖惩与下一年度指标，如 ledger year show 2019")
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def year_show(period: str, as_json: bool, as_of: AsOf | None) -> None:
    from projections.annual import year_json
    run(lambda: check_year(period))
    model = model_at(None, as_of)
    emit(stamp(run(lambda: year_json(model, period)), model, as_of), as_json, year_text)


def year_text(d: dict[str, Any]) -> str:
    lines = [f"{d['period']} 年度总评（{STATUS_NAMES[d['status']]}，考核细则第 {d['rulebook_version']} 版；"
             f"指标适用于 {d['quota_year']} 年）{replay_note(d)}",
             f"{'名次':>4}  {'支部':<8}{'月均分':>8}{'经营业绩':>8}{'述职':>8}{'总评':>8}{'奖励':>10}{'罚款':>10}"
             f"{'发展指标':>6}{'优秀党员':>6}"]
    for b in d["branches"]:
        lines.append(f"{b['rank'] or '-':>4}  {b['branch']:<8}{b['monthly_mean']:>10}{b['unit_score'] or '-':>10}"
                     f"{b['debriefing_score'] or '-':>10}{b['score'] or '-':>10}{b['award']:>10}{b['fine']:>10}"
                     f"{b['development_quota'] if b['development_quota'] is not None else '-':>8}"
                     f"{b['excellent_member_quota'] if b['excellent_member_quota'] is not None else '-':>8}"
                     f"{_changed_mark(b)}")
    lines.extend([*member_warning_lines(d.get("member_warnings", [])),
                  *_changed_lines(d, f"ledger year diff {d['period']}"), *_approval_lines(d)])
    return "\n".join(lines)


@year.command("approve", help="公司党委会审批年度总评（十二个月与四个季度均已审批、年度评分齐全后）。")
@click.argument("period")
@click.option("--actor", required=True, help="操作人")
def year_approve(period: str, actor: str) -> None:
    run_op("approve_year", lambda a: f"{period} 年度总评已审批（审批编号 {a}）", year=period, actor=actor)


@year.command("diff", help="审批时的年度总评与当前对照，并列出审批后引起变化的事件（更正、作废、党员人数）。")
@click.argument("period")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def year_diff_cmd(period: str, as_json: bool, as_of: AsOf | None) -> None:
    from adapters.diffs import year_diff_now
    emit(run(lambda: year_diff_now(existing_engine(), period, as_of), as_json), as_json, _year_diff_text)


def _year_diff_text(d: dict[str, Any]) -> str:
    def line(x: dict[str, Any] | None) -> str:
        if not x:
            return "-"
        dq = "-" if x.get("development_quota") is None else x["development_quota"]
        eq = "-" if x.get("excellent_member_quota") is None else x["excellent_member_quota"]
        return (f"月均{x.get('monthly_mean') or '-'} 总评{x.get('score') or '-'} 第{x.get('rank') or '-'}名 "
                f"奖{x.get('award')} 罚{x.get('fine')} 发展{dq} 优秀{eq}")
    lines = [f"{d['period']} 年度总评：审批时（日志位置 {d['approved_at_position']}）对照 当前{replay_note(d)}"]
    for b in d["branches"]:
        mark = "  *" if b["changed"] else "   "
        lines.append(f"{mark} {b['branch']:<8} {line(b['approved'])}  →  {line(b['now'])}")
        lines.extend(_cause_lines(b["causes"]))
    return "\n".join(lines)


@year.command("reapprove", help="年度总评变化后（如申诉成立）由党委会重新审批：记录新结果及奖罚、指标的调整。")
@click.argument("period")
@click.option("--reason", required=True, help="理由")
@click.option("--actor", required=True, help="操作人")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（审批编号与各项调整）")
def year_reapprove(period: str, reason: str, actor: str, as_json: bool) -> None:
    approval_id = run(lambda: existing_ledger().command("reapprove_year", year=period, reason=reason, actor=actor), as_json)
    _reapproved("year", period, approval_id, as_json)


@year.command("unit", help="录入单位年度经营业绩得分（0–100）。")
@click.argument("branch")
@click.argument("period")
@click.argument("score")
@click.option("--actor", required=True, help="操作人")
def year_unit(branch: str, period: str, score: str, actor: str) -> None:
    run_op("record_unit_performance", lambda b: f"支部 {b} {period} 年经营业绩已录入",
        branch=branch, year=period, score=score, actor=actor)


@year.command("debriefing", help="录入支部书记年度述职评分（0–100）。")
@click.argument("branch")
@click.argument("period")
@click.argument("score")
@click.option("--actor", required=True, help="操作人")
def year_debriefing(branch: str, period: str, score: str, actor: str) -> None:
    run_op("record_debriefing", lambda b: f"支部 {b} {period} 年述职评分已录入",
        branch=branch, year=period, score=score, actor=actor)


@main.command("business", help="录入某月单位经营（生产、重点工作）得分，用于“双百分”联动。")
@click.argument("branch")
@click.argument("period")
@click.argument("score")
@click.option("--actor", required=True, help="操作人")
def business(branch: str, period: str, score: str, actor: str) -> None:
    run_op("record_business_score", lambda b: f"支部 {b} {period} 经营得分已录入",
        branch=branch, period=period, score=score, actor=actor)


def parameter_text(name: str, value: Any) -> str:
    """A rulebook parameter's value for people: categories, departments, meeting kinds and
    dues categories by their Chinese names; numbers as they are."""
    from domain.members.meetings import KIND_NAMES as MEETING_KINDS
    if name == "category_points":
        return "，".join(f"{vocabulary.category_name(c)} {p}" for c, p in value.items())
    if name == "departments":
        return "；".join(f"{vocabulary.department_name(d)}：{'、'.join(vocabulary.category_name(c) for c in cs)}"
                        for d, cs in value.items())
    if name == "meeting_frequency":
        return "，".join(f"{MEETING_KINDS.get(k, k)} 每 {n} 个月" for k, n in value.items())
    if name == "dues_rates":
        return "；".join(f"{vocabulary.DUES_CATEGORIES.get(k, k)}：" + "，".join(
            f"{'更高' if top is None else f'{top} 元及以下'} {rate}" for top, rate in brackets) for k, brackets in value.items())
    if name == "dual_formula":
        return {"mutual": "相乘（党建 × 经营 ÷ 100）", "weighted": "加权（经营 × 经营权重 + 党建 × 其余）"}.get(value, str(value))
    return str(value)


@main.group(help="考核细则：查看各版本、通过新版本（自某季度首月起生效）。")
def rulebook() -> None:
    pass


@rulebook.command("show", help="显示考核细则各版本的参数。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def rulebook_show(as_json: bool) -> None:
    model = maintained_view().model([])
    versions = [{"version": int(v), "from": start, "parameters": params}
                for v, (start, params) in sorted(model.org["rulebooks"].items(), key=lambda kv: int(kv[0]))]
    emit({"versions": versions}, as_json, lambda d: "\n\n".join(
        f"第 {v['version']} 版（自 {v['from'] or '最初'} 起）\n"
        + "\n".join(f"  {vocabulary.parameter_name(k)}（{k}）：{parameter_text(k, p)}" for k, p in v["parameters"].items())
        for v in d["versions"]))


@rulebook.command("adopt", help="通过考核细则新版本：FILE 为只含变更参数的 JSON 对象。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", type=int, required=True, help="新版本号")
@click.option("--from", "from_month", required=True, help="自某季度首月（YYYY-MM）起生效")
@click.option("--actor", required=True, help="操作人")
def rulebook_adopt(file: Path, version: int, from_month: str, actor: str) -> None:
    params = json.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    run_op("adopt_rulebook", lambda v: f"考核细则第 {v} 版已通过，自 {from_month} 起生效",
        version=version, **{"from": from_month}, parameters=params, actor=actor)


@main.command("rebuild", help="从第一条事件起重新折叠全部投影。")
def rebuild() -> None:
    model = maintained_view().rebuild()
    click.echo(f"投影已重建至位置 {model.position}")


if __name__ == "__main__":  # ``python -m adapters.cli.main``: run the group the command modules register on
    importlib.import_module("adapters.cli.main").main()
