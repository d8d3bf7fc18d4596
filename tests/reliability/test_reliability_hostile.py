"""Hostile input (issue 10, item 5): the corpus in ``tests/reliability/hostile/`` (see its README), on
both backends.

* every bad import line is refused with its line number, the expected field and a reason,
  and nothing is written (events, positions, keys: the valid lines around it neither);
* every bad ``ledger`` argument list exits non-zero naming the field and reason, nothing written;
* hostile but valid free text (SQL and HTML injection, format strings, control characters)
  is stored verbatim, read back byte for byte, never executed: every table is still there,
  the ledger verifies, and re-importing the same lines skips them.

How it fails if the guarantee breaks — shown by running the corpus against a scratch copy
with the code as it was before this issue: 26 of the 96 import cases failed. ``read_jsonl`` raised
``UnicodeDecodeError`` (five ``*utf8*``/``latin1`` cases) and ``RecursionError``
(``nesting_100000_deep``) instead of a line error, and read 10 MB lines whole; a lone
surrogate, a 2**64 integer and a non-string ``op`` crashed with ``TypeError``;
``1e999999999999999999`` raised ``decimal.Overflow``; NUL in text, fullwidth or ``1_0``
digits, ``２０１９-07``, ``²⁰¹⁹`` and ``2019-07\\n`` were accepted (the last three as periods
distinct from ``2019-07``); a repeated field silently kept its last value. And 6 of the 26
argument lists: ``--reason`` with invalid UTF-8 bytes ended in a ``UnicodeEncodeError``
traceback from the transcoder, ``ledger year unit A ２０１９ 90`` recorded a year ``２０１９``,
``--points -１`` an entry. Fixed in
``adapters/cli/main.py`` (``read_jsonl``), ``domain/commands.py`` (``_exact_decimal``,
``parse_command``, ``_unstorable``) and ``domain/periods.py``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from adapters.bootstrap import engine_of
from adapters.cli import main as cli
from adapters.cli.main import main, read_jsonl
from adapters.store.tree import APPEND_ONLY
from domain.commands import parse_command
from domain.service.application import ImportRefused
from tests.helpers import MIGRATION, company
from tests.reliability.helpers import BASES, assert_verifies

pytestmark = pytest.mark.reliability

HOSTILE = Path(__file__).resolve().parent / "hostile"


def corpus(name: str) -> list[dict[str, Any]]:
    with (HOSTILE / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def valid(n: int) -> bytes:
    return json.dumps(BASES["record_score"] | {"key": f"hostile-ok/{n}"}, ensure_ascii=False).encode()


def line_bytes(case: dict[str, Any]) -> bytes:
    """The bad line of a corpus case, as bytes (no newline)."""
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    if "generate" in case:
        return "".join(piece * times for piece, times in case["generate"]).encode()
    if "line" in case:
        return case["line"].encode("utf-8", "surrogatepass")
    data = BASES[case["base"]] | {"key": f"hostile/{case['name']}"} | case.get("set", {})
    for name in case.get("drop", []):
        data.pop(name, None)
    return json.dumps(data, ensure_ascii=True).encode()


def counts(app: Any) -> tuple[int, ...]:
    with engine_of(app).connect() as conn:
        return tuple(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in APPEND_ONLY)


@pytest.fixture
def ledger(app: Any) -> Any:
    company(app, ("A", "full_time", None), ("B", "part_time", None))
    return app


def test_the_bases_are_valid() -> None:
    for name, base in BASES.items():
        assert parse_command(base).op == name


def test_every_bad_import_line_is_refused_and_nothing_written(ledger: Any, tmp_path: Path) -> None:
    cases = corpus("import_lines.jsonl")
    before = counts(ledger)
    wrong = []
    for case in cases:
        path = tmp_path / "bad.jsonl"
        path.write_bytes(b"\n".join([valid(1), valid(2), line_bytes(case), valid(4)]) + b"\n")
        lines, errors = read_jsonl(path)
        if not errors:
            try:
                ledger.import_batch(lines, MIGRATION)
            except ImportRefused as e:
                errors = e.errors
        got = [(e.line, e.field, e.reason) for e in errors]
        if len(got) != 1 or got[0][:2] != (3, case["field"]) or case["reason"] not in got[0][2]:
            wrong.append((case["name"], got[:3]))
    assert not wrong, f"{len(wrong)} of {len(cases)} cases not refused as expected: {wrong}"
    assert counts(ledger) == before, "a refused file wrote something"


def test_the_cli_prints_line_field_and_reason(ledger: Any, db_url: str, tmp_path: Path) -> None:
    bad = {c["name"]: c for c in corpus("import_lines.jsonl")}
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([valid(1), line_bytes(bad["points_three_places"]), valid(3),
                                 line_bytes(bad["reason_lone_surrogate"])]) + b"\n")
    before = counts(ledger)
    result = CliRunner().invoke(main, ["import", str(path), "--json"], env={"LEDGER_DATABASE_URL": db_url})
    assert result.exit_code == 1, result.output
    errors = json.loads(result.output)["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(2, "points"), (4, "reason")]
    assert all(e["reason"] for e in errors)
    path.write_bytes(valid(1) + b"\n" + line_bytes(bad["invalid_utf8_byte"]) + b"\n")
    result = CliRunner().invoke(main, ["import", str(path)], env={"LEDGER_DATABASE_URL": db_url})
    assert result.exit_code == 1 and "第 2 行" in result.output and "UTF-8" in result.output, result.output
    assert counts(ledger) == before


def test_every_bad_cli_argument_list_is_refused(ledger: Any, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "make_ledger", lambda url=None: ledger)  # one connection pool for the whole corpus
    runner, before, wrong = CliRunner(), counts(ledger), []
    cases = corpus("cli_args.jsonl")
    for case in cases:
        result = runner.invoke(main, case["args"], env={"LEDGER_DATABASE_URL": db_url})
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        if result.exit_code == 0 or not all(fragment in output for fragment in case["expect"]) \
                or (result.exception is not None and not isinstance(result.exception, SystemExit)):
            wrong.append((case["name"], result.exit_code, output[-200:], repr(result.exception)))
    assert not wrong, f"{len(wrong)} of {len(cases)} argument lists not refused as expected: {wrong}"
    assert counts(ledger) == before
    ok = runner.invoke(main, ["score", "--branch", "A", "--period", "2019-07", "--category", "political",
                              "--points", "-1", "--reason", "对照", "--department", "party_mass", "--actor", "u"],
                       env={"LEDGER_DATABASE_URL": db_url})
    assert ok.exit_code == 0, ok.output  # the same command, valid: the harness itself works


def test_hostile_free_text_is_stored_verbatim_and_never_executed(ledger: Any, db_url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cases = corpus("accepted_text.jsonl")
    lines = [BASES["record_score"] | {"key": f"accept/{c['name']}/{c['text'][:200]}", "reason": c["text"],
                                      "actor": c["text"]} for c in cases]
    path = tmp_path / "text.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    monkeypatch.setattr(cli, "make_ledger", lambda url=None: ledger)
    runner = CliRunner()
    first = runner.invoke(main, ["import", str(path), "--json"], env={"LEDGER_DATABASE_URL": db_url})
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["appended"] == len(cases)
    shown = runner.invoke(main, ["entries", "--period", "2019-07", "--json"], env={"LEDGER_DATABASE_URL": db_url})
    stored = {e["key"]: e for e in json.loads(shown.output)["entries"]}
    for line in lines:
        entry = stored[line["key"]]
        assert (entry["reason"], entry["actor"]) == (line["reason"], line["actor"]), line["key"]
    with engine_of(ledger).connect() as conn:  # still there, and only what was written
        for table in (*APPEND_ONLY, "ledger_view_sections", "ledger_view_tracking"):
            conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
        keys = {k for (k,) in conn.execute(text("SELECT key FROM ledger_import_keys WHERE key LIKE 'accept/%'"))}
    assert keys == {line["key"] for line in lines}
    again = runner.invoke(main, ["import", str(path), "--json"], env={"LEDGER_DATABASE_URL": db_url})
    assert json.loads(again.output)["skipped"] == len(cases)
    assert_verifies(ledger)
