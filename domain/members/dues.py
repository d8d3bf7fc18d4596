"""Party dues (党费): each member's monthly base, payments, and the half-yearly statement
posted on the branch's notice board (每半年公布1次党费收缴情况 [seed, second report]).

The rate table is the rulebook's ``dues_rates`` / ``dues_no_income``; its default is the
national rule, 中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》(中组发〔2008〕3号):
salaried members pay on their monthly pay after tax — up to 3,000 yuan (inclusive) 0.5%,
3,000–5,000 1%, 5,000–10,000 1.5%, above 10,000 2%; retired members on their pension — up
to 5,000 0.5%, above 1%; members without income 0.2 yuan a month. The rate of the bracket
applies to the whole base (not progressively); the month's due is rounded half-up to the fen.

Two aggregates. ``DuesAccount`` (one per person) holds the bases recorded for the person
(category and base from a month on: 核定党费基数) and the payments (amount, month covered,
channel, date paid), payments corrected only by voiding. ``DuesStatement`` (one per branch
and half-year) holds the statements published: each is computed by the handler from the
accounts and placements, recorded with the SHA-256 of its canonical JSON, and the unit of
work asks the store for a signed checkpoint in the same transaction, so the statement's
hash is in the log and covered by a signed checkpoint (``ledger dues verify``).

Due, paid, arrears and over-payment are computed, never entered: per month, arrears =
max(due − paid, 0), over-payment = max(paid − due, 0); a payment covers the month it names
(an over-payment is not carried to another month).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Callable, Iterable, Literal, Mapping
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from pydantic import BeforeValidator, Field

from domain import commands as c
from domain import vocabulary
from domain.assessment.results import canonical_hash
from domain.assessment.rulebook import Rulebook
from domain.errors import DuesRefused, InvalidInput, PaymentNotFound
from domain.ids import dues_account_id, dues_payment_id_for_key, dues_statement_id
from domain.members.enrolment import span_covers
from domain.members.meetings import Date
from domain.periods import check_half, half_months

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
SALARIED = "salaried"  # 在职：月工资收入（税后）
RETIRED = "retired"  # 离退休：离退休费或养老金
NO_INCOME = "no_income"  # 无收入：学生、下岗失业、依靠抚恤或救济生活等
CATEGORY_NAMES = vocabulary.DUES_CATEGORIES
Category = Literal["salaried", "retired", "no_income"]
CHANNEL_NAMES = vocabulary.DUES_CHANNELS
Channel = Literal["payroll", "cash", "bank_transfer", "wechat", "alipay", "online"]
FORMAT = "dangjian-dues-statement/1"


# -- the arithmetic ------------------------------------------------------------------------
def monthly_due(category: str, base: Decimal, rulebook: Rulebook) -> tuple[Decimal, Decimal | None]:
    """(due, rate) of one month: the rate of the bracket the whole base falls in (bounds
    inclusive) times the base, half-up to the fen; members without income pay the fixed
    ``dues_no_income`` (rate None)."""
    if category == NO_INCOME:
        return rulebook.dues_no_income.quantize(CENT), None
    for upper, rate in rulebook.dues_rates[category]:
        if upper is None or base <= upper:
            return (base * rate).quantize(CENT, rounding=ROUND_HALF_UP), rate
    raise AssertionError("the last bracket has no bound")  # Rulebook.check guarantees it


@dataclass(frozen=True)
class DuesMonth:
    """One member-month: the base in force (None: not assessed), the due, what was paid."""

    month: str
    category: str | None
    base: Decimal | None
    rate: Decimal | None
    due: Decimal | None
    paid: Decimal

    @property
    def arrears(self) -> Decimal:
        return max((self.due or ZERO) - self.paid, ZERO)

    @property
    def overpaid(self) -> Decimal:
        return max(self.paid - (self.due or ZERO), ZERO)


def dues_months(months: Iterable[str], base_of: Callable[[str], tuple[str, Decimal] | None],
                paid_of: Callable[[str], Decimal], rulebook_of: Callable[[str], Rulebook]) -> list[DuesMonth]:
    """Each month's line for one member: ``base_of(month)`` the (category, base) in force,
    ``paid_of(month)`` the payments counted for it, ``rulebook_of(month)`` the version in force."""
    out = []
    for month in months:
        assessed = base_of(month)
        if assessed is None:
            out.append(DuesMonth(month, None, None, None, None, paid_of(month)))
            continue
        category, base = assessed
        due, rate = monthly_due(category, base, rulebook_of(month))
        out.append(DuesMonth(month, category, base, rate, due, paid_of(month)))
    return out


def statement_row(person: str, name: str, lines: list[DuesMonth]) -> dict[str, Any]:
    """One member's line of a published statement (amounts as strings, two places)."""
    return {"person": person, "name": name, "months": len(lines),
            "due": str(sum((m.due or ZERO for m in lines), ZERO)), "paid": str(sum((m.paid for m in lines), ZERO)),
            "arrears": str(sum((m.arrears for m in lines), ZERO)),
            "overpaid": str(sum((m.overpaid for m in lines), ZERO))}


def statement(branch: str, branch_name: str, half: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The canonical statement: what is posted, hashed and recorded. Rows by person id."""
    rows = sorted(rows, key=lambda r: r["person"])
    totals = {k: str(sum((Decimal(r[k]) for r in rows), ZERO)) for k in ("due", "paid", "arrears", "overpaid")}
    return {"format": FORMAT, "branch": branch, "branch_name": branch_name, "half": half,
            "months": half_months(half), "rows": rows, "totals": {"members": len(rows), **totals}}


def statement_hash(value: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the statement's canonical JSON (sorted keys, no spaces)."""
    return canonical_hash(value)


def branch_member_months(spans: Mapping[str, list[list[str | None]]], months: list[str],
                         placed: Callable[[str, str], bool]) -> dict[str, list[str]]:
    """person → the months (of ``months``) in which the roster has them and ``placed(person,
    month)`` says they are a party member of the branch then."""
    out: dict[str, list[str]] = {}
    for person in sorted(spans):
        mine = [m for m in months if any(span_covers(span, m) for span in spans[person])
                and placed(person, m)]
        if mine:
            out[person] = mine
    return out


# -- aggregates ----------------------------------------------------------------------------
class DuesAccount(Aggregate):
    """A member's dues. ``bases``: ``(from_month, category, base)`` in recorded order (a later
    record with the same month supersedes); ``payments[id] = (month, branch, amount)``;
    ``voided`` the payment ids voided."""

    @staticmethod
    def create_id(person: str, **_: Any) -> UUID:
        return dues_account_id(person)

    @event("Opened")
    def __init__(self, person: str) -> None:
        self.person = person
        self.bases: list[tuple[str, str, Decimal]] = []
        self.payments: dict[UUID, tuple[str, str, Decimal]] = {}
        self.voided: set[UUID] = set()

    def base_in(self, month: str) -> tuple[str, Decimal] | None:
        """(category, base) in force in ``month``; None before the first record."""
        current = None
        for start, category, base in self.bases:
            if start <= month:
                current = (category, base)
        return current

    def paid_in(self, month: str) -> Decimal:
        return sum((a for pid, (m, _, a) in self.payments.items() if m == month and pid not in self.voided), ZERO)

    def set_base(self, branch: str, from_month: str, category: str, base: Decimal, actor: str,
                 key: str | None) -> None:
        if self.bases and from_month < self.bases[-1][0]:
            raise DuesRefused(f"{self.person} 的党费基数已自 {self.bases[-1][0]} 起核定，不能早于该月", "from")
        if category == NO_INCOME and base != 0:
            raise DuesRefused("无收入党员按固定金额交纳党费，基数应为 0 或不填", "base")
        if category != NO_INCOME and base <= 0:
            raise DuesRefused("在职、离退休党员的党费基数（税后月收入、离退休费）应大于 0", "base")
        self._set_base(branch=branch, from_month=from_month, category=category, base=base, actor=actor, key=key)

    @event("BaseSet")
    def _set_base(self, branch: str, from_month: str, category: str, base: Decimal, actor: str,
                  key: str | None) -> None:
        self.bases.append((from_month, category, base))

    def record_payment(self, branch: str, month: str, amount: Decimal, channel: str, paid_on: str,
                       actor: str, key: str | None) -> UUID:
        """Precondition (checked by the handler): a member of ``branch`` in ``month``."""
        if amount <= 0:
            raise DuesRefused("交纳金额应大于 0（更正请作废原记录）", "amount")
        payment_id = dues_payment_id_for_key(key) if key else uuid5(self.id, f"payment:{len(self.payments)}")
        if payment_id in self.payments:
            raise DuesRefused(f"交纳记录 {payment_id} 已存在", "key")
        self._pay(payment_id=payment_id, branch=branch, month=month, amount=amount, channel=channel,
                  paid_on=paid_on, actor=actor, key=key)
        return payment_id

    @event("PaymentRecorded")
    def _pay(self, payment_id: UUID, branch: str, month: str, amount: Decimal, channel: str, paid_on: str,
             actor: str, key: str | None) -> None:
        self.payments[payment_id] = (month, branch, amount)

    def void_payment(self, payment_id: UUID, branch: str, reason: str, actor: str, key: str | None) -> None:
        if payment_id not in self.payments:
            raise PaymentNotFound(f"{self.person} 没有交纳记录 {payment_id}", "payment_id")
        if self.payments[payment_id][1] != branch:
            raise DuesRefused(f"该交纳记录由支部 {self.payments[payment_id][1]} 录入，由该支部作废", "branch")
        if payment_id in self.voided:
            raise DuesRefused(f"交纳记录 {payment_id} 已作废", "payment_id")
        self._void(payment_id=payment_id, reason=reason, actor=actor, key=key)

    @event("PaymentVoided")
    def _void(self, payment_id: UUID, reason: str, actor: str, key: str | None) -> None:
        self.voided.add(payment_id)


class DuesStatement(Aggregate):
    """The dues statements a branch published for one half-year; ``hashes`` in order (the
    statements themselves are in the events)."""

    @staticmethod
    def create_id(branch: str, half: str, **_: Any) -> UUID:
        return dues_statement_id(branch, half)

    @event("Opened")
    def __init__(self, branch: str, half: str) -> None:
        self.branch = branch
        self.half = half
        self.hashes: list[str] = []

    def publish(self, statement: dict[str, Any], rulebook_versions: dict[str, int], actor: str,
                key: str | None) -> int:
        """Record the statement and its hash; refused if it is the same as the latest one."""
        digest = statement_hash(statement)
        if self.hashes and self.hashes[-1] == digest:
            raise DuesRefused(f"支部 {self.branch} {self.half} 的党费收缴情况已公示（第 {len(self.hashes)} 次），"
                              "内容未变", "half")
        number = len(self.hashes) + 1
        self._publish(number=number, statement=statement, statement_hash=digest,
                      rulebook_versions=rulebook_versions, actor=actor, key=key)
        return number

    @event("Published")
    def _publish(self, number: int, statement: dict[str, Any], statement_hash: str,
                 rulebook_versions: dict[str, int], actor: str, key: str | None) -> None:
        self.hashes.append(statement_hash)


# -- commands ------------------------------------------------------------------------------
class SetDuesBase(c.Command):
    """The member's dues base from a month on (核定党费基数): category and monthly base
    (pay after tax, or pension; 0 or omitted for members without income)."""
    op: Literal["set_dues_base"] = "set_dues_base"
    roles = ("secretary",)
    branch: c.Code
    person: c.Code
    from_month: c.Month = Field(alias="from")
    category: Category
    base: c.ExactDecimal = Decimal("0.00")
    actor: c.Text


class RecordDuesPayment(c.Command):
    """A payment (交纳): amount, the month it covers, channel and the date paid."""
    op: Literal["record_dues_payment"] = "record_dues_payment"
    roles = ("secretary",)
    branch: c.Code
    person: c.Code
    month: c.Month
    amount: c.ExactDecimal
    channel: Channel
    paid_on: Date
    actor: c.Text


class VoidDuesPayment(c.Command):
    """A payment recorded in error, voided (record the right one anew)."""
    op: Literal["void_dues_payment"] = "void_dues_payment"
    roles = ("secretary",)
    branch: c.Code
    person: c.Code
    payment_id: UUID | None = None
    payment_key: c.Text | None = None
    reason: c.Text
    actor: c.Text

    def target(self) -> UUID:
        if self.payment_id is not None and self.payment_key is None:
            return self.payment_id
        if self.payment_key is not None and self.payment_id is None:
            return dues_payment_id_for_key(self.payment_key)
        raise InvalidInput("请给出 payment_id 或 payment_key 之一", "payment_id")


def _half(value: Any) -> str:
    try:
        half = check_half(value)
    except InvalidInput as e:
        raise ValueError(e.reason) from None
    return c.check_not_future(half_months(half)[0], half)


class PublishDues(c.Command):
    """The branch's dues statement of a half-year (党费收缴情况公示), recorded with a signed
    checkpoint. The branch secretary or the Party-Mass Work Dept may publish it."""
    op: Literal["publish_dues"] = "publish_dues"
    roles = ("secretary", "party_mass")
    branch: c.Code
    half: Annotated[str, BeforeValidator(_half)]
    actor: c.Text
