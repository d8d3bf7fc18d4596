"""The commands every adapter sends, validated at the edge with pydantic.

One model per import op. Decimals are parsed exactly from strings or JSON numbers read as
``Decimal`` (never through float); floats, booleans, NaN and Infinity are refused.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Callable, ClassVar, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError

from domain import vocabulary
from domain.asof import SHANGHAI
from domain.assessment.appeal import MAX_ATTACHMENT_BYTES
from domain.decimals import beyond_cents
from domain.errors import InvalidInput
from domain.ids import appeal_id_for_key, entry_id_for_key
from domain.periods import check_month, check_quarter, check_year, quarter_months

# A decimal written as text: ASCII digits, one optional sign, at most one point — nothing
# around it (``Decimal`` alone would also take `` -1 ``, a no-break space, ``1_000``,
# fullwidth digits and exponents). JSON numbers are read as exact Decimals separately.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")


def _exact_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("数值必须写成字符串或精确的 JSON 数字，不能是浮点数或布尔值")
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        text = value
        if text != text.strip() or text != "".join(text.split()):
            raise ValueError(f"不是有效的数值：{text[:50]!r}（数值前后和中间不能有空白字符）")
        if not _NUMBER.match(text):
            special = text.lstrip("+-").lower()
            if special in ("nan", "snan"):
                raise ValueError("数值不能是 NaN 或 Infinity")
            if special in ("inf", "infinity"):
                raise ValueError("数值不能是 NaN 或 Infinity")
            if any(ch.isdigit() for ch in text) and not text.isascii():
                raise ValueError(f"不是有效的数值：{text[:50]!r}（只用 ASCII 数字、小数点和正负号）")
            raise ValueError(f"不是有效的数值：{text[:50]!r}（只用 ASCII 数字、一个正负号和一个小数点）")
        value = Decimal(text)
    if not isinstance(value, Decimal):
        raise ValueError("应为数值")
    if not value.is_finite():
        raise ValueError("数值不能是 NaN 或 Infinity")
    if beyond_cents(value):
        raise ValueError("最多两位小数")
    if value.copy_abs() >= Decimal("1e9"):  # copy_abs: no context, so 1e999999999999 cannot overflow
        raise ValueError("数值过大")
    return value.quantize(Decimal("0.01"))  # exact: at most two places were given


def _today_in_beijing() -> date:
    return datetime.now(SHANGHAI).date()


# The clock the period checks read (today in Beijing). Tests replace it; nothing else should.
TODAY: Callable[[], date] = _today_in_beijing
MONTHS_AHEAD = 1  # a period may start at most this many months after the current one
RULEBOOK_MONTHS_AHEAD = 12  # a rulebook may be adopted up to a year ahead


def latest_month(ahead: int = MONTHS_AHEAD) -> str:
    """The last month a command's period may start in: ``ahead`` months after this one."""
    today = TODAY()
    years, month = divmod(today.month - 1 + ahead, 12)
    return f"{today.year + years:04d}-{month + 1:02d}"


def check_not_future(first_month: str, shown: str, ahead: int = MONTHS_AHEAD) -> str:
    """Return ``shown`` unless its first month ``first_month`` is after :func:`latest_month`
    (raise ``ValueError``, which the command's validation turns into the field's error)."""
    latest = latest_month(ahead)
    if first_month > latest:
        raise ValueError(f"{shown} 尚未到来：只能是不晚于 {latest} 开始的期间（今天是 {TODAY().isoformat()}，"
                         f"北京时间），请检查是否写错")
    return shown


def _month_format(value: Any) -> str:
    try:
        return check_month(value)
    except InvalidInput as e:
        raise ValueError(e.reason) from None


def _month(value: Any) -> str:
    month = _month_format(value)
    return check_not_future(month, month)


def _quarter(value: Any) -> str:
    try:
        quarter = check_quarter(value)
    except InvalidInput as e:
        raise ValueError(e.reason) from None
    return check_not_future(quarter_months(quarter)[0], quarter)


def _year(value: Any) -> str:
    try:
        year = check_year(value)
    except InvalidInput as e:
        raise ValueError(e.reason) from None
    return check_not_future(f"{year}-01", year)


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("应为日期 YYYY-MM-DD")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"不是有效的日期：{value!r}（应为 YYYY-MM-DD）") from None


def _first_month_of_quarter(value: Any) -> str:
    month = _month_format(value)
    if month[5:] not in ("01", "04", "07", "10"):
        raise ValueError(f"考核细则只能自某季度的第一个月起生效（1、4、7、10 月），收到 {month}")
    return check_not_future(month, month, RULEBOOK_MONTHS_AHEAD)


def _text(value: Any) -> str:
    if value is None:
        raise ValueError("不能为空")
    if not isinstance(value, str):
        raise ValueError(f"应为文本，收到{_kind(value)}")
    if not value.strip():
        raise ValueError("不能为空")
    if len(value) > 2000:
        raise ValueError("过长（最多 2000 字）")
    return value


def _kind(value: Any) -> str:
    """What a JSON value is, in Chinese (for "应为文本，收到…")."""
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, (int, float, Decimal)):
        return "数值"
    if isinstance(value, dict):
        return " JSON 对象"
    if isinstance(value, (list, tuple)):
        return "列表"
    return "其他类型"


# Codes and ids (branch codes, person, group, project… ids): 1–32 ASCII letters, digits, ``_``
# and ``-``, so that ``H1 ``, a fullwidth ``Ｈ1``, ``H\n1`` or one with a bidirectional control
# cannot name a second, different-looking-alike branch or person.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
CODE_RULE = "1–32 个 ASCII 字母、数字、下划线或连字符（A-Z a-z 0-9 _ -）"


def _code(value: Any) -> str:
    if value is None:
        raise ValueError("不能为空")
    if not isinstance(value, str):
        raise ValueError(f"应为文本，收到{_kind(value)}")
    if not value:
        raise ValueError("不能为空")
    if not CODE_PATTERN.match(value):
        raise ValueError(f"应为 {CODE_RULE}，收到 {value[:40]!r}")
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal)]
Month = Annotated[str, BeforeValidator(_month)]
Quarter = Annotated[str, BeforeValidator(_quarter)]
Text = Annotated[str, BeforeValidator(_text)]
Code = Annotated[str, BeforeValidator(_code)]
Year = Annotated[str, BeforeValidator(_year)]
QuarterStart = Annotated[str, BeforeValidator(_first_month_of_quarter)]


COMMANDS: dict[str, type["Command"]] = {}  # op → model; every subclass with an ``op`` registers


class Command(BaseModel):
    """Common shape: unknown fields are refused; ``key`` makes a line idempotent.

    A subclass that declares ``op: Literal["name"] = "name"`` is an import op: it registers
    itself in :data:`COMMANDS` (modules of other mechanisms define theirs the same way).
    ``roles`` names who may send it (see ``domain/service/permissions.py``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              ignored_types=(cached_property,))
    roles: ClassVar[tuple[str, ...]] = ()
    if TYPE_CHECKING:  # every command names its op: a Literal field (import ops) or a class attribute
        @property
        def op(self) -> str: ...
    key: Text | None = None
    # The original document's date, kept beside the ledger's recorded-at (migrations only).
    occurred_at: Annotated[str, BeforeValidator(_date)] | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        op = cls.model_fields.get("op")
        if op is not None and isinstance(op.default, str):
            if op.default in COMMANDS and COMMANDS[op.default].__qualname__ != cls.__qualname__:
                raise TypeError(f"op {op.default!r} defined twice")
            COMMANDS[op.default] = cls

    def digest(self) -> str:
        """SHA-256 of the command's content without its key (canonical JSON).

        The declared fields only: a cached property (``RecordScore.entry_id``) also lands in
        ``__dict__`` once read, and must not change the digest of a retried command."""
        content = {k: getattr(self, k) for k in type(self).model_fields if k != "key"}
        canonical = orjson.dumps(content, default=_canonical_nested, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    raise TypeError(type(value))


def _canonical_nested(value: Any) -> Any:
    """:func:`_canonical`, and a nested model (an appeal's attachment) as its fields."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    return _canonical(value)


class RegisterBranch(Command):
    op: Literal["register_branch"] = "register_branch"
    roles = ("registrar",)
    code: Code
    name: Text
    members: StrictInt = Field(ge=0)
    from_month: Month | None = Field(default=None, alias="from")
    actor: Text = "registrar"


class SetMembers(Command):
    op: Literal["set_members"] = "set_members"
    roles = ("registrar",)
    branch: Code
    members: StrictInt = Field(ge=0)
    from_month: Month = Field(alias="from")
    actor: Text


class AppointSecretary(Command):
    op: Literal["appoint_secretary"] = "appoint_secretary"
    roles = ("registrar",)
    branch: Code
    name: Text
    user: Text | None = None
    mode: Literal["full_time", "part_time"]
    allowance: ExactDecimal | None = None
    from_month: Month = Field(alias="from")
    actor: Text = "registrar"


class RecordScore(Command):
    op: Literal["record_score"] = "record_score"
    roles = ("scorer",)
    branch: Code
    period: Month
    category: Text
    points: ExactDecimal
    reason: Text
    department: Text
    actor: Text

    @cached_property
    def entry_id(self) -> UUID | None:
        """Derived from the import key, so a re-import refers to the same entry."""
        return None if self.key is None else entry_id_for_key(self.key)


class SubmitMonth(Command):
    op: Literal["submit_month"] = "submit_month"
    roles = ("aggregator",)
    period: Month
    actor: Text


class ApproveMonth(Command):
    op: Literal["approve_month"] = "approve_month"
    roles = ("approver",)
    period: Month
    actor: Text


class ReturnMonth(Command):
    op: Literal["return_month"] = "return_month"
    roles = ("approver", "aggregator")
    period: Month
    reason: Text
    actor: Text


class ApproveQuarter(Command):
    op: Literal["approve_quarter"] = "approve_quarter"
    roles = ("approver",)
    period: Quarter
    actor: Text


class ReapproveQuarter(Command):
    op: Literal["reapprove_quarter"] = "reapprove_quarter"
    roles = ("approver",)
    period: Quarter
    reason: Text
    actor: Text


class RecordUnitPerformance(Command):
    op: Literal["record_unit_performance"] = "record_unit_performance"
    roles = ("performance",)
    branch: Code
    year: Year
    score: ExactDecimal
    actor: Text


class RecordDebriefing(Command):
    op: Literal["record_debriefing"] = "record_debriefing"
    roles = ("committee",)
    branch: Code
    year: Year
    score: ExactDecimal
    actor: Text


class RecordBusinessScore(Command):
    op: Literal["record_business_score"] = "record_business_score"
    roles = ("performance",)
    branch: Code
    period: Month
    score: ExactDecimal
    actor: Text


class ApproveYear(Command):
    op: Literal["approve_year"] = "approve_year"
    roles = ("committee",)
    year: Year
    actor: Text


class ReapproveYear(Command):
    """Approve a changed year again (重新审批年度总评): the new results and one adjustment per
    award, fine or next-year quota that changed."""

    op: Literal["reapprove_year"] = "reapprove_year"
    roles = ("committee",)
    year: Year
    reason: Text
    actor: Text


class AdoptRulebook(Command):
    op: Literal["adopt_rulebook"] = "adopt_rulebook"
    roles = ("committee",)
    version: StrictInt = Field(ge=2)
    from_month: QuarterStart = Field(alias="from")
    parameters: dict[str, Any]
    actor: Text


class EntryRef(Command):
    """Names an entry by its ledger id or by the import key of the line that created it."""

    entry_id: UUID | None = None
    entry_key: Text | None = None

    def target(self) -> UUID:
        if self.entry_id is not None and self.entry_key is None:
            return self.entry_id
        if self.entry_key is not None and self.entry_id is None:
            return entry_id_for_key(self.entry_key)
        raise InvalidInput("请给出 entry_id 或 entry_key 之一", "entry_id")


_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def _sha256(value: Any) -> str:
    if not isinstance(value, str) or not _SHA256.match(value):
        raise ValueError("应为 64 位小写十六进制的 SHA-256")
    return value


def _file_name(value: Any) -> str:
    name = _text(value)
    if len(name) > 200 or any(ch in name for ch in "/\\") or any(ord(ch) < 32 for ch in name):
        raise ValueError("文件名最多 200 字，不能含路径分隔符或控制字符")
    return name


def _media_type(value: Any) -> str:
    if value not in vocabulary.ATTACHMENT_TYPES:
        raise ValueError("附件只能是 " + "、".join(vocabulary.ATTACHMENT_TYPES.values()))
    return str(value)


class Attachment(BaseModel):
    """A scanned document attached to an appeal: the file is kept outside the log (the
    adapters' attachment store, content-addressed); the log keeps its SHA-256, so it proves
    which file was attached. ``size`` in bytes, at most ``MAX_ATTACHMENT_BYTES``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sha256: Annotated[str, BeforeValidator(_sha256)]
    name: Annotated[str, BeforeValidator(_file_name)]
    media_type: Annotated[str, BeforeValidator(_media_type)]
    size: StrictInt = Field(ge=1, le=MAX_ATTACHMENT_BYTES)


class FileAppeal(EntryRef):
    op: Literal["file_appeal"] = "file_appeal"
    roles = ("secretary",)
    branch: Code
    reason: Text
    actor: Text
    attachment: Attachment | None = None


class DecideAppeal(Command):
    op: Literal["decide_appeal"] = "decide_appeal"
    roles = ("committee",)
    appeal_id: UUID | None = None
    appeal_key: Text | None = None
    decision: Literal["upheld", "rejected"]
    points: ExactDecimal | None = None
    reason: Text
    actor: Text

    def target(self) -> UUID:
        if self.appeal_id is not None and self.appeal_key is None:
            return self.appeal_id
        if self.appeal_key is not None and self.appeal_id is None:
            return appeal_id_for_key(self.appeal_key)
        raise InvalidInput("请给出 appeal_id 或 appeal_key 之一", "appeal_id")


class VoidEntry(EntryRef):
    op: Literal["void_entry"] = "void_entry"
    roles = ("scorer",)
    reason: Text
    actor: Text


class CorrectEntry(EntryRef):
    op: Literal["correct_entry"] = "correct_entry"
    roles = ("committee",)
    points: ExactDecimal
    reason: Text
    actor: Text


def parse_command(data: Any) -> Command:
    """Validate one command (a dict with ``op``); raise :class:`InvalidInput` naming the
    first field at fault."""
    if not isinstance(data, dict):
        raise InvalidInput("每行必须是一个 JSON 对象", None)
    op = data.get("op")
    model = COMMANDS.get(op) if isinstance(op, str) else None
    if model is None:
        raise InvalidInput(f"未知的操作 {repr(op)[:100]}，应为 {', '.join(COMMANDS)}", "op")
    unstorable = _unstorable(data)
    if unstorable is not None:
        raise unstorable
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = [str(p) for p in err["loc"]]
        field = loc[0] if loc else None
        raise InvalidInput(_reason(err), field) from None


_MAX_INT = 2**63 - 1


def _unstorable(data: dict[str, Any]) -> InvalidInput | None:
    """The first value, at any depth, that no field may hold: text with NUL or a lone UTF-16
    surrogate (neither is valid UTF-8 nor PostgreSQL text, so the digest or the store would
    fail later), an integer beyond 64 bits. Iterative: any nesting depth is safe."""
    for field, top in data.items():
        stack = [top]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.keys())
                stack.extend(value.values())
            elif isinstance(value, (list, tuple)):
                stack.extend(value)
            elif isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return InvalidInput("含有不成对的 UTF-16 代理字符，不是有效的文本", str(field)[:100])
                if "\x00" in value:
                    return InvalidInput("含有 NUL 字符（\\u0000），不是有效的文本", str(field)[:100])
            elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_INT:
                return InvalidInput("数值过大", str(field)[:100])
    return None


def _reason(err: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        return "缺少必填字段"
    if kind == "extra_forbidden":
        return "未知字段"
    if kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
        return message if vocabulary.has_chinese(message) else vocabulary.input_reason(kind)
    if kind in ("int_type", "int_parsing"):
        return "应为整数"
    if kind == "greater_than_equal":
        return f"不能小于 {err['ctx']['ge']}"
    if kind == "dict_type":
        return "应为 JSON 对象"
    if kind == "literal_error":
        return f"取值无效，应为 {str(err['ctx']['expected']).replace(' or ', '、')}"
    return vocabulary.input_reason(kind)


# -- the batch import's compact path for score entries -----------------------------------------
_SCORE_FIELDS = frozenset({"op", "key", "branch", "period", "category", "points", "reason", "department", "actor",
                           "occurred_at"})
_SCORE_REQUIRED = ("branch", "period", "category", "points", "reason", "department", "actor")


class ScoreLine:
    """One validated ``record_score`` line as plain values: what :class:`RecordScore` holds,
    its :meth:`Command.digest` and its entry id, without a model object per line."""

    __slots__ = ("key", "branch", "period", "category", "points", "reason", "department", "actor", "occurred_at",
                 "digest", "entry_id")

    def __init__(self, key: str | None, branch: str, period: str, category: str, points: Decimal, reason: str,
                 department: str, actor: str, occurred_at: str | None, digest: str) -> None:
        self.key, self.branch, self.period, self.category = key, branch, period, category
        self.points, self.reason, self.department, self.actor = points, reason, department, actor
        self.occurred_at, self.digest = occurred_at, digest
        self.entry_id: UUID | None = None if key is None else entry_id_for_key(key)

    @classmethod
    def of(cls, command: RecordScore) -> ScoreLine:
        return cls(command.key, command.branch, command.period, command.category, command.points, command.reason,
                   command.department, command.actor, command.occurred_at, command.digest())

    def command(self) -> RecordScore:
        """The equivalent command (for the permission check, once per distinct branch,
        department and ``occurred_at`` of a batch)."""
        return RecordScore.model_construct(key=self.key, branch=self.branch, period=self.period,
                                           category=self.category, points=self.points, reason=self.reason,
                                           department=self.department, actor=self.actor,
                                           occurred_at=self.occurred_at)


class ScoreLineReader:
    """Validates the ``record_score`` lines of one batch as :func:`parse_command` does, with
    the field validators' results remembered per distinct value (a month's lines repeat
    their period, categories, points, reasons and actors).

    A line of the common shape — a JSON object of known fields, every value text (``key``
    and ``occurred_at`` may be null) and every value passing its field's own validator — is
    read directly; any other line (a JSON number, a missing or unknown field, a value a
    validator refuses) goes through :func:`parse_command`, so a refused line gets exactly its
    error. ``tests/unit/test_score_lines.py`` checks both readings agree. Precondition: one
    reader per batch (the period check reads today's date once per distinct period)."""

    def __init__(self) -> None:
        self._months: dict[str, str | None] = {}
        self._points: dict[str, tuple[Decimal, str] | None] = {}
        self._texts: dict[str, bool] = {}
        self._codes: dict[str, bool] = {}
        self._dates: dict[str, str | None] = {}

    def read(self, data: Any) -> ScoreLine:
        """The line's values; raise :class:`InvalidInput` as :func:`parse_command` would."""
        line = self._fast(data) if type(data) is dict else None
        if line is not None:
            return line
        command = parse_command(data)
        if not isinstance(command, RecordScore):
            raise InvalidInput("本批仅含录入得分（record_score）的行", "op")
        return ScoreLine.of(command)

    def _text(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        ok = self._texts.get(value)
        if ok is None:
            ok = bool(value.strip()) and len(value) <= 2000 and "\x00" not in value and _encodable(value)
            self._texts[value] = ok
        return ok

    def _fast(self, data: dict[str, Any]) -> ScoreLine | None:
        if data.get("op") != "record_score" or not data.keys() <= _SCORE_FIELDS:
            return None
        try:
            branch, period, category, points, reason, department, actor = (data[f] for f in _SCORE_REQUIRED)
        except KeyError:
            return None
        key, occurred = data.get("key"), data.get("occurred_at")
        if not (self._text(category) and self._text(reason) and self._text(department) and self._text(actor)
                and (key is None or self._text(key))):
            return None
        if type(branch) is not str or type(period) is not str or type(points) is not str:
            return None
        code_ok = self._codes.get(branch)
        if code_ok is None:
            code_ok = self._codes[branch] = CODE_PATTERN.match(branch) is not None
        month = self._months.get(period, "")
        if month == "":
            month = self._months[period] = _checked(_month, period)
        if points in self._points:
            exact = self._points[points]
        else:
            value = _checked(_exact_decimal, points)
            exact = self._points[points] = None if value is None else (value, _canonical(value))
        if not code_ok or month is None or exact is None:
            return None
        if occurred is not None:
            if type(occurred) is not str:
                return None
            when = self._dates.get(occurred, "")
            if when == "":
                when = self._dates[occurred] = _checked(_date, occurred)
            if when is None:
                return None
            occurred = when
        content = {"op": "record_score", "occurred_at": occurred, "branch": branch, "period": month,
                   "category": category, "points": exact[1], "reason": reason, "department": department,
                   "actor": actor}
        digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
        return ScoreLine(key, branch, month, category, exact[0], reason, department, actor, occurred, digest)


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked(validator: Callable[[Any], Any], value: Any) -> Any:
    """``validator(value)``, or None when it refuses the value (the line then takes the slow path)."""
    try:
        return validator(value)
    except ValueError:
        return None
