"""命令行 ``ledger``: helpers shared by every command module of ``adapters/cli/``.

Opening the existing ledger as the acting user, printing text or JSON, turning a refused
command into exit 1 with its line errors, and reading the maintained model or a fold of the
log (now, as the ledger stood ``--as-of`` a moment, or as the documents said ``--documented-by``
one). Command modules import these from here, never another module's private names (issue 15)."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

import click

from adapters.bootstrap import close, database_url, engine_of, open_engine, open_ledger
from domain import vocabulary
from domain.asof import AsOf, replay_point
from domain.errors import ImportRefused, LedgerError, LineError

if TYPE_CHECKING:  # imported where used, so that ``ledger --help`` loads no database or domain code
    from sqlalchemy.engine import Engine

    from adapters.store.replay import F, Foldable
    from adapters.store.views import MaintainedView
    from domain.service.application import Ledger
    from projections.model import AssessmentModel

__all__ = ["acting", "AS_OF_HELP", "AsOf", "DOCUMENTED_BY_HELP", "emit", "existing_engine", "existing_ledger", "fail",
           "fold_log",
           "LineError", "maintained_view", "member_warning_lines", "model_at", "replay_note", "replay_options", "run",
           "run_op", "SHANGHAI", "stamp", "stamp_fields", "verifier_keys", "write"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF_HELP = "按某一时刻账本所知的情况重放（账本记录时间；ISO 8601，须带 Z 或时区；只写日期表示北京时间当日结束）"
DOCUMENTED_BY_HELP = ("按单据日期重放：截至某日各原始单据所载的情况（迁移事件按原始单据日期，其余按录入时间；"
                      "与 --as-of 只能择一）")

acting: list[str | None] = [None]  # ``--as`` of this invocation (set by the ``ledger`` group itself)


OPENED, ENGINE = "adapters.cli.ledger", "adapters.cli.engine"  # the invocation's, in click's context meta


def existing_ledger() -> Ledger:
    """The existing ledger (creates nothing: a missing database or table is a clear error,
    exit 1); ``ledger init`` alone uses :func:`make_ledger` and creates.

    Opened once per invocation: inside a click command every call returns the same
    application (one connection pool, one start-up), closed when the command ends."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is not None and OPENED in root.meta:
        opened: Ledger = root.meta[OPENED]
        return opened
    try:
        ledger = open_ledger(database_url(), user=acting[0])
    except LedgerError as e:
        fail([LineError(0, e.field, e.reason)], False)
    if root is not None:
        root.meta[OPENED] = ledger
        root.call_on_close(lambda: close(ledger))
    return ledger


def existing_engine() -> Engine:
    """The existing ledger's database, for reads: the engine of the ledger this invocation
    opened, else an engine alone (:func:`adapters.bootstrap.open_engine`: the application is
    not built, a read needs none of it), opened once per invocation and disposed when the
    command ends. Missing database or tables: exit 1, as :func:`existing_ledger`."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is None or OPENED in root.meta or ":memory:" in database_url():
        return engine_of(existing_ledger())
    if ENGINE not in root.meta:
        try:
            engine = open_engine(database_url())
        except LedgerError as e:
            fail([LineError(0, e.field, e.reason)], False)
        root.meta[ENGINE] = engine
        root.call_on_close(engine.dispose)
    opened: Engine = root.meta[ENGINE]
    return opened


def emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    """Print ``data`` as indented JSON, or as ``text(data)``."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(text(data))


def fail(errors: list[LineError], as_json: bool) -> None:
    """Print the errors (JSON on stdout, or one Chinese line each on stderr) and exit 1."""
    if as_json:
        click.echo(json.dumps({"errors": [e.__dict__ for e in errors]}, ensure_ascii=False, indent=2))
    else:
        for e in errors:
            where = f"第 {e.line} 行 " if e.line else ""
            field = f"字段 {e.field}：" if e.field else ""
            click.echo(f"错误：{where}{field}{e.reason}", err=True)
    sys.exit(1)


def run(action: Callable[[], Any], as_json: bool = False) -> Any:
    """``action()``'s result; a refused import or any :class:`LedgerError` is :func:`fail`."""
    try:
        return action()
    except ImportRefused as e:
        fail(e.errors, as_json)
    except LedgerError as e:
        fail([LineError(0, e.field, e.reason)], as_json)


def write(action: Callable[[Ledger], Any], message: Callable[[Any], str]) -> None:
    """Run ``action`` on the existing ledger and print ``message`` of its result."""
    ledger = existing_ledger()
    result = run(lambda: action(ledger))
    click.echo(message(result))


def run_op(op: str, message: Callable[[Any], str], **fields: Any) -> None:
    """Validate and run one command as the import op ``op`` would."""
    write(lambda ledger: ledger.command(op, **fields), message)


def maintained_view(ledger: Ledger | None = None) -> MaintainedView:
    """The maintained view of ``ledger`` (none given: the existing ledger)."""
    from adapters.store.views import MaintainedView
    return MaintainedView(engine_of(ledger) if ledger is not None else existing_engine())


def replay_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--as-of T`` (log clock) and ``--documented-by T`` (document clock) for a read
    command; the command receives ``as_of``: the :class:`AsOf` asked for, or None (now).
    Both given, or a moment that does not parse, is exit 1 naming the option's field."""
    @functools.wraps(command)
    def with_point(*args: Any, as_of: str | None = None, documented_by: str | None = None, **kwargs: Any) -> Any:
        return command(*args, as_of=run(lambda: replay_point(as_of, documented_by)), **kwargs)
    with_point = click.option("--documented-by", "documented_by", default=None, help=DOCUMENTED_BY_HELP)(with_point)
    return click.option("--as-of", "as_of", default=None, help=AS_OF_HELP)(with_point)


def model_at(sections: list[str] | None, point: AsOf | None) -> AssessmentModel:
    """The maintained model now, or the model replayed at ``point`` on its clock
    (adapters/store/replay.py)."""
    from adapters.store import replay
    if point is None:
        ctx = click.get_current_context(silent=True)
        if ctx is None or not {OPENED, ENGINE} & set(ctx.find_root().meta):  # nothing opened yet: try the driver alone
            from adapters.store.fastview import current_model
            model = current_model(database_url(), sections)
            if model is not None:
                return model
        return maintained_view().model(sections)
    return run(lambda: replay.model_at(existing_engine(), sections, point))


def shown_quarter(period: str) -> tuple[dict[str, Any], int] | None:
    """The quarter's ranking as the current maintained view stores it, and the view's
    position, read over the bare driver (adapters/store/fastview.py); None when the view is
    behind, lacks it or the driver cannot open the URL (then :func:`model_at` answers)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and {OPENED, ENGINE} & set(ctx.find_root().meta):
        return None  # an engine is open already: its path catches the view up
    from adapters.store.fastview import current_shown
    return current_shown(database_url(), period)


def fold_log(fold: F, point: AsOf | None) -> F:
    """Feed ``fold`` (a :class:`projections.fold.Fold`) the events of its aggregates: all of
    them, or those at ``point`` on its clock."""
    from adapters.store import replay
    return run(lambda: replay.fold_at(existing_engine(), fold, point))


def stamp(data: dict[str, Any], model: Foldable, point: AsOf | None) -> dict[str, Any]:
    """Say which replay a view shows: ``position`` reached, ``as_of`` or ``documented_by``
    if asked, and on the document clock what it placed (``document_clock``)."""
    from adapters.store import replay
    return replay.stamp(data, model, point)


def stamp_fields(point: AsOf | None) -> dict[str, str | None]:
    """``as_of`` and ``documented_by`` of a replay (for views that carry no ``position``)."""
    from adapters.store import replay
    return replay.stamp_fields(point)


def replay_note(d: dict[str, Any]) -> str:
    """The heading's note of a replayed view (empty now): which clock, which moment, how far
    (the wording is :func:`domain.vocabulary.replay_note`'s, the web's too)."""
    note = vocabulary.replay_note(d)
    return f" —— {note}" if note else ""


def member_warning_lines(warnings: list[dict[str, Any]]) -> list[str]:
    """One line per branch whose enrolled members disagree with its declared count."""
    return [f"注意：支部 {w['branch']} {w['month']} 登记在册党员 {w['enrolled']} 人，与申报人数 {w['declared']} 人不一致；"
            "计算指标以登记在册人数为准" for w in warnings]


def verifier_keys(key_file: Path | None) -> list[str]:
    """Verifier keys to trust: a file holding ``ledger key show``'s line; none given, the
    keys the log declares are used (adapters/integrity/verify.py) and no key file is read."""
    if key_file is not None:
        return [line.strip() for line in key_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return []
