"""Click's own words in Chinese: usage errors ("缺少选项 '--branch'"), ``--help`` headings
and prompts. Click looks every message up through ``gettext`` in its modules; ``install``
points those lookups at the table below (a message not in it stays as Click wrote it).
Called once when ``adapters.cli.main`` is imported."""
from __future__ import annotations

import importlib
from typing import Callable

MESSAGES: dict[str, str] = {
    "Usage:": "用法：", "Options": "选项", "Commands": "命令", "Positional arguments": "位置参数",
    "Show this message and exit.": "显示本帮助并退出。", "Show the version and exit.": "显示版本并退出。",
    "Error: {message}": "错误：{message}", "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看用法。",
    "Aborted!": "已中止。", "Missing argument": "缺少参数", "Missing option": "缺少选项",
    "Missing parameter": "缺少参数", "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}", "Missing command.": "缺少子命令。",
    "argument": "参数", "option": "选项", "parameter": "参数",
    "No such command {name!r}.": "没有命令 {name!r}。", "No such option {name!r}.": "没有选项 {name!r}。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的编号（UUID）。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "integer": "整数", "float": "数字",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录，应为文件。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，应为目录。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "file": "文件", "directory": "目录", "path": "路径",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "default: {default}": "默认：{default}", "env var: {var}": "环境变量：{var}", "required": "必填",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值，可用：{states}",
    "Do you want to continue?": "是否继续？", "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。", "Error: invalid input": "错误：输入无效",
    "Confirm the action without prompting.": "不经询问直接确认。", "unknown error": "未知错误",
}
PLURALS: dict[str, str] = {  # singular msgid → Chinese (one form for every count)
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "是否想用 {possibility}？",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "{value!r} is not {choice}.": "{value!r} 不是可选值 {choice}。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "{len_type} values are required, but {len_value} was given.": "需要 {len_type} 个值，给了 {len_value} 个。",
}
PLURAL_FORMS = {  # plural msgid → Chinese
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "(Did you mean one of: {possibilities}?)": "（是否想用其中之一：{possibilities}？）",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 中。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不符合格式 {formats} 中的任何一种。",
    "{len_type} values are required, but {len_value} were given.": "需要 {len_type} 个值，给了 {len_value} 个。",
}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return PLURALS.get(singular, singular) if n == 1 else PLURAL_FORMS.get(plural, plural)


TYPE_NAMES = {"STRING": "文本", "INT": "整数", "FLOAT": "数字", "BOOL": "是否", "UUID": "编号"}  # metavars in --help


def install() -> None:
    """Point Click's message lookups (``_`` and ``ngettext`` in each module) at the tables,
    and name the parameter types in Chinese (``--branch 文本``)."""
    import click
    for attr, name in TYPE_NAMES.items():
        type(getattr(click, attr)).name = name
    click.Path.name = "路径"
    click.File.name = "文件"
    click.DateTime.name = "日期时间"
    hooks: dict[str, Callable[..., str]] = {"_": gettext, "ngettext": ngettext}
    for name in ("core", "exceptions", "formatting", "decorators", "types", "parser", "termui", "utils"):
        module = importlib.import_module(f"click.{name}")
        for attr, hook in hooks.items():
            if hasattr(module, attr):
                setattr(module, attr, hook)
