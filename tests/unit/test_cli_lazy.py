"""CLI start-up (issue 18): ``ledger --help`` imports no database, domain-service, web or
signing code, and lists the commands of modules it has not imported from
``adapters.cli.main.lazy_commands`` (read from the modules' text, nothing imported), which must be
what those modules register.
(The time itself is measured by ``scripts/bench_cli.py``, never here.)"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

import adapters.cli
from adapters.cli.main import NOT_COMMANDS, lazy_commands, main

LAZY_COMMANDS = lazy_commands()

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "pydantic", "eventsourcing", "eventsourcing_sqlalchemy", "fastapi", "starlette", "uvicorn",
         "openpyxl", "weasyprint", "cryptography", "argon2", "psycopg2", "domain.service", "adapters.http",
         "adapters.web", "adapters.store", "projections")


def modules_after(args: list[str], env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The modules a fresh process holds after ``ledger ARGS``, and what it printed."""
    script = ("import json, sys\nfrom adapters.cli.main import main\n"
              "try:\n    main(sys.argv[1:], prog_name='ledger')\nexcept SystemExit:\n    pass\n"
              "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80", **(env or {})})
    return set(json.loads(done.stderr.strip().splitlines()[-1])), done.stdout


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(adapters.cli.__path__) if m.name not in NOT_COMMANDS)


def load_all() -> None:
    for module in command_modules():
        importlib.import_module(f"adapters.cli.{module}")


def defined_in(command: click.Command) -> set[str]:
    """The modules whose functions make up ``command`` and its subcommands."""
    out = {command.callback.__module__} if command.callback is not None else set()
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            out |= defined_in(sub)
    return out


def test_help_imports_no_database_web_or_signing_code_and_no_command_module() -> None:
    modules, printed = modules_after(["--help"])
    assert "month" in printed and "verify" in printed and "dues" in printed
    assert not heavy(modules), heavy(modules)
    lazy = sorted(m for m in modules if m.startswith("adapters.cli.") and m.split(".")[2] not in NOT_COMMANDS)
    assert not lazy, lazy


def test_the_lazy_table_is_what_the_modules_register() -> None:
    load_all()
    own = {name for name, command in main.commands.items() if defined_in(command) == {"adapters.cli.main"}}
    registered = {name: command for name, command in main.commands.items() if name not in own}
    assert sorted(registered) == sorted(LAZY_COMMANDS), "lazy_commands (the modules' @main.group/command) misses or adds: " \
        f"{sorted(set(registered) ^ set(LAZY_COMMANDS))}"
    for name, command in registered.items():
        lazy = LAZY_COMMANDS[name]
        assert {f"adapters.cli.{m}" for m in lazy.modules} == defined_in(command), name
        assert (command.short_help or command.help) == lazy.help, f"{name}: help differs from lazy_commands"
        assert not command.hidden and not command.deprecated, name
    listed = {m for lazy in LAZY_COMMANDS.values() for m in lazy.modules}
    assert listed == set(command_modules()), sorted(listed ^ set(command_modules()))


def test_help_without_the_modules_is_the_help_with_all_of_them() -> None:
    _, fresh = modules_after(["--help"])
    load_all()
    loaded = CliRunner().invoke(main, ["--help"], prog_name="ledger", terminal_width=80)
    assert loaded.exit_code == 0, loaded.output
    assert fresh == loaded.output


def test_a_subcommand_of_a_lazy_group_runs_and_one_module_is_imported() -> None:
    modules, printed = modules_after(["verify-proof", "--help"])
    assert "离线核验证明文件" in printed
    commands = sorted(m for m in modules if m.startswith("adapters.cli.") and m.split(".")[2] not in NOT_COMMANDS)
    assert commands == ["adapters.cli.tamper"], commands
    assert "fastapi" not in modules and "openpyxl" not in modules


def test_an_unknown_command_is_refused_in_chinese() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
    assert "no-such-command" in result.output


def test_the_driver_only_read_parses_urls_as_sqlalchemy_does() -> None:
    from sqlalchemy.engine import make_url

    from adapters.store.fastview import postgresql_arguments, sqlite_file
    for url in ("postgresql+psycopg2://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dt_1",
                "postgresql://us%40er:p%3Ass@db.example:6543/led%20ger", "postgresql://localhost/test",
                "postgresql+psycopg2:///test?host=/var/run/postgresql"):
        parsed = make_url(url)
        expected = {**parsed.translate_connect_args(username="user", database="dbname"), **parsed.query}
        assert postgresql_arguments(url) == expected, url
    for url in ("postgresql+psycopg://h/db", "mysql://h/db", "postgresql://h/db?a=1&a=2"):
        assert postgresql_arguments(url) is None, url
    assert sqlite_file("sqlite:///ledger.sqlite3") == Path(make_url("sqlite:///ledger.sqlite3").database or "")
    assert sqlite_file("sqlite:////tmp/x/ledger.sqlite3") == Path("/tmp/x/ledger.sqlite3")
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "postgresql://h/db"):
        assert sqlite_file(url) is None, url
