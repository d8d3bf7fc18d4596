"""命令行 ``ledger``: helpers shared by every command module of ``adapters/cli/``.

Opening the existing ledger as the acting user, printing text or JSON, turning a refused
command into exit 1 with its line errors, and reading the maintained model or a fold of the
log (now, or as the ledger stood ``--as-of`` a moment). Command modules import these from
here, never another module's private names (issue 15)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import click

from adapters.bootstrap import database_url, engine_of, open_ledger
from adapters.store.logreader import LogReader
from adapters.store.views import MaintainedView
from domain.asof import parse_as_of
from domain.errors import LedgerError
from domain.service.application import ImportRefused, Ledger, LineError
from projections.model import AssessmentModel

__all__ = ["AS_OF_HELP", "SHANGHAI", "LineError", "acting", "emit", "existing_ledger", "fail", "fold_log",
           "maintained_view", "member_warning_lines", "model_at", "run", "run_op", "stamp", "verifier_keys", "write"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF_HELP = "按某一时刻账本所知的情况重放（ISO 8601，须带 Z 或时区；只写日期表示北京时间当日结束）"

acting: list[str | None] = [None]  # ``--as`` of this invocation (set by the ``ledger`` group itself)


def existing_ledger() -> Ledger:
    """The existing ledger (creates nothing: a missing database or table is a clear error,
    exit 1); ``ledger init`` alone uses :func:`make_ledger` and creates."""
    try:
        ledger = open_ledger(database_url(), user=acting[0])
    except LedgerError as e:
        fail([LineError(0, e.field, e.reason)], False)
    return ledger


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
    return MaintainedView(engine_of(ledger or existing_ledger()))


def model_at(sections: list[str] | None, as_of: str | None) -> AssessmentModel:
    """The maintained model now, or the fold of the events recorded by ``as_of``."""
    if as_of is None:
        return maintained_view().model(sections)
    moment = run(lambda: parse_as_of(as_of))
    reader = LogReader(engine_of(existing_ledger()))
    if sections is not None:  # only those periods' events (adapters/store/slices.py)
        from adapters.store.slices import sliced_model
        return sliced_model(engine_of(existing_ledger()), sections, reader.position_recorded_by(moment))
    return AssessmentModel().apply_all(reader.read(upto=reader.position_recorded_by(moment)))


def fold_log(fold: Any, as_of: str | None) -> Any:
    """Feed ``fold`` (a :class:`projections.fold.Fold`) the events of its aggregates, all of
    them or those recorded by ``as_of``."""
    reader = LogReader(engine_of(existing_ledger()))
    upto = None if as_of is None else reader.position_recorded_by(run(lambda: parse_as_of(as_of)))
    return fold.apply_all(reader.read(upto=upto, topic_suffixes=fold.topic_filter()))


def stamp(data: dict[str, Any], model: AssessmentModel, as_of: str | None) -> dict[str, Any]:
    """Say which slice of the log a view shows: ``position`` reached, and ``as_of`` if asked."""
    return {**data, "as_of": as_of, "position": model.position}


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
