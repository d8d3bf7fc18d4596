"""Every command's one-line help in its group's listing says something (issue 14 item 11:
nothing a person reads is an empty "..."): Click cuts a command's help at a word boundary that
fits the column, and a Chinese sentence with no space before the limit became "..." alone
(``ledger group --help``: ``init ...``; ``ledger user --help``: ``grant ...``)."""
from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import click

import adapters.cli
from adapters.cli.main import main

WIDTH = 80  # Click's default terminal width in a listing
CJK = re.compile(r"[\u4e00-\u9fff]")


def groups(group: click.Group, path: str = "ledger") -> Iterator[tuple[str, click.Group]]:
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from groups(command, f"{path} {name}")


def test_every_listed_command_has_a_chinese_short_help() -> None:
    for module in pkgutil.iter_modules(adapters.cli.__path__):
        importlib.import_module(f"adapters.cli.{module.name}")
    empty = []
    for path, group in groups(main):
        names = [n for n, c in group.commands.items() if not c.hidden]
        if not names:
            continue
        limit = WIDTH - 6 - max(len(n) for n in names)
        for name in names:
            short = group.commands[name].get_short_help_str(limit)
            if not CJK.search(short):
                empty.append(f"{path} {name}: {short!r}")
    assert not empty, "listed with no readable help: " + "; ".join(empty)
