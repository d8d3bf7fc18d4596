"""Talks and visits (六必谈 / 六必访): occasions that call for one, and the answer.

An ``Occasion`` (one aggregate per occasion) is raised for a person — one of the six talk
occasions or the six visit occasions [seed] — and answered once by the talk or visit that
met it: who talked or visited, on which date, and a summary. Personnel decisions recorded
in the ledger (``PersonnelDecision``: sanction, criticism, demotion, promotion, job change)
raise the matching talk occasion in the same unit of work.

The summary concerns personal matters (illness, family, discipline): it never enters the
log in clear. The handler seals it with the person's key through a :class:`Vault` (the
key store lives outside the log; ``adapters/store/keystore.py``) and the event holds only the
ciphertext and the SHA-256 of the ciphertext. Erasing a person's key (``PersonKey.Erased``,
no key material) makes their summaries unreadable for good; the log and its proofs are
untouched, since they hash the ciphertext as stored.

Both talks and visits may concern any registered person, party member or not: the seed
describes 六必谈 as "职工的个别教育" and 六必访 as "职工生病住院必访…" — employees
(职工) in both, party members among them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Annotated, Any, ClassVar, Literal, Protocol
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate, event
from pydantic import BeforeValidator

from domain import commands as c
from domain import vocabulary
from domain.errors import InvalidInput, OccasionRefused, VaultUnavailable
from domain.ids import occasion_id_for_key, person_key_id

TALK = "talk"  # 谈话（六必谈）
VISIT = "visit"  # 家访（六必访）
KIND_NAMES = vocabulary.CARE_KINDS

# code → (kind, number within its six, Chinese name) [seed, part 1, 三]
OCCASIONS: dict[str, tuple[str, int, str]] = {
    "work_setback": (TALK, 1, "工作中遭遇困难或挫折"),
    "job_change": (TALK, 2, "岗位异动或职务升降"),
    "emotional": (TALK, 3, "工作中有思想情绪"),
    "integrity_complaint": (TALK, 4, "廉洁从业方面群众有反映"),
    "problem_tendency": (TALK, 5, "发现有苗头性倾向性问题"),
    "criticism": (TALK, 6, "违纪违规受到批评、组织处理或纪律处分"),
    "hospitalised": (VISIT, 1, "生病住院"),
    "bereavement": (VISIT, 2, "直系亲属丧事"),
    "marriage_childbirth": (VISIT, 3, "结婚生育"),
    "family_discord": (VISIT, 4, "家庭不和睦"),
    "hardship": (VISIT, 5, "生活遇到重大困难"),
    "family_accident": (VISIT, 6, "家庭发生意外事故"),
}
OccasionCode = Literal["work_setback", "job_change", "emotional", "integrity_complaint", "problem_tendency",
                       "criticism", "hospitalised", "bereavement", "marriage_childbirth", "family_discord",
                       "hardship", "family_accident"]

# Personnel decisions (人事事项) and the talk occasion each raises.
PERSONNEL_KINDS: dict[str, tuple[str, str]] = {
    "sanction": ("criticism", "纪律处分"),
    "criticism": ("criticism", "批评或组织处理"),
    "demotion": ("job_change", "降职"),
    "promotion": ("job_change", "升职"),
    "job_change": ("job_change", "岗位变动"),
}
PersonnelKind = Literal["sanction", "criticism", "demotion", "promotion", "job_change"]


class Vault(Protocol):
    """Where the per-person keys live (outside the log). Implemented by
    ``adapters/store/keystore.KeyStore``; handlers reach it as ``uow.app.vault`` (:func:`vault_of`)."""

    def seal(self, person: str, plaintext: str) -> str:
        """Encrypt ``plaintext`` with ``person``'s key (created on first use); a text token."""

    def open(self, person: str, ciphertext: str) -> str | None:
        """The plaintext, or None when the person's key is gone (erased) or does not open it."""

    def erase(self, person: str) -> None:
        """Destroy ``person``'s key for good (nothing if there is none)."""


def vault_of(app: Any) -> Vault:
    """The application's vault, or :class:`VaultUnavailable` (field ``summary``)."""
    vault: Vault | None = getattr(app, "vault", None)
    if vault is None:
        raise VaultUnavailable("未配置密钥库（LEDGER_KEYSTORE），不能加密或读取谈话走访摘要", "summary")
    return vault


def sealed_hash(ciphertext: str) -> str:
    """SHA-256 (hex) of the ciphertext as stored — never of the plaintext (README)."""
    return hashlib.sha256(ciphertext.encode("utf-8")).hexdigest()


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_date(value: Any) -> str:
    """A calendar date written YYYY-MM-DD."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"日期应写作 YYYY-MM-DD，收到 {value!r}")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"不是有效的日期：{value}") from None
    return value


Date = Annotated[str, BeforeValidator(check_date)]


# -- aggregates ------------------------------------------------------------------------------
class Occasion(Aggregate):
    """One occasion that calls for a talk or a visit, and the answer to it (at most one)."""

    @event("Raised")
    def __init__(self, id: UUID, occasion: str, kind: str, person: str, branch: str, date: str, cause: str | None,
                 decision_id: UUID | None, actor: str, key: str | None) -> None:
        self.occasion = occasion
        self.kind = kind
        self.person = person
        self.branch = branch
        self.date = date
        self.answered_on: str | None = None

    def check_answer(self, branch: str, date: str) -> None:
        """Refuse an answer from another branch, a second answer, or one dated before the
        occasion (checked before the summary is sealed)."""
        if branch != self.branch:
            raise OccasionRefused(f"该事由属于支部 {self.branch}，不能由支部 {branch} 记录", "branch")
        if self.answered_on is not None:
            what = KIND_NAMES[self.kind]
            raise OccasionRefused(f"该事由已于 {self.answered_on} {what}，不能重复记录", "occasion_id")
        if date < self.date:
            raise OccasionRefused(f"{KIND_NAMES[self.kind]}日期 {date} 早于事由日期 {self.date}", "date")

    def answer(self, branch: str, conducted_by: str, date: str, sealed: str, actor: str, key: str | None) -> None:
        """Precondition: ``sealed`` is the summary sealed with the person's key."""
        self.check_answer(branch, date)
        self._answer(conducted_by=conducted_by, date=date, summary_sealed=sealed, summary_sha256=sealed_hash(sealed),
                     actor=actor, key=key)

    @event("Answered")
    def _answer(self, conducted_by: str, date: str, summary_sealed: str, summary_sha256: str, actor: str,
                key: str | None) -> None:
        self.answered_on = date


class PersonnelDecision(Aggregate):
    """A personnel decision as HR recorded it (人事事项: 处分、批评、降职、升职、岗位变动)."""

    @event("Recorded")
    def __init__(self, id: UUID, person: str, branch: str, kind: str, date: str, occasion_id: UUID, actor: str,
                 key: str | None) -> None:
        self.person = person
        self.kind = kind
        self.date = date


class PersonKey(Aggregate):
    """Exists once a person's summary key has been erased: why their summaries no longer
    open. Carries no key material."""

    @staticmethod
    def create_id(person: str, **_: Any) -> UUID:
        return person_key_id(person)

    @event("Erased")
    def __init__(self, person: str, reason: str | None, actor: str) -> None:
        self.person = person


# -- commands --------------------------------------------------------------------------------
class RaiseOccasion(c.Command):
    """An occasion that calls for a talk or a visit (六必谈 / 六必访), recorded by the branch."""
    op: Literal["raise_occasion"] = "raise_occasion"
    roles = ("secretary",)
    occasion: OccasionCode
    person: c.Code
    branch: c.Code
    date: Date
    actor: c.Text


class AnswerOccasion(c.Command):
    """The talk or visit that answered an occasion. ``summary`` is sealed before it reaches
    the log; the import-key digest leaves it out (README: a digest of the plaintext could be
    checked against guesses after the key is erased)."""
    op: Literal["answer_occasion"] = "answer_occasion"
    roles = ("secretary",)
    occasion_id: UUID | None = None
    occasion_key: c.Text | None = None
    branch: c.Code
    conducted_by: c.Text  # who talked or visited (``by`` on events is the acting user)
    date: Date
    summary: c.Text
    actor: c.Text

    def target(self) -> UUID:
        if self.occasion_id is not None and self.occasion_key is None:
            return self.occasion_id
        if self.occasion_key is not None and self.occasion_id is None:
            return occasion_id_for_key(self.occasion_key)
        raise InvalidInput("请给出 occasion_id 或 occasion_key 之一", "occasion_id")

    def digest(self) -> str:
        """SHA-256 of the command's content without its key and without the summary."""
        content = {k: v for k, v in self.__dict__.items() if k not in ("key", "summary")}
        canonical = orjson.dumps(content, default=c._canonical, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()


class RecordPersonnelEvent(c.Command):
    """A personnel decision (人事事项) recorded by HR; raises the matching talk occasion."""
    op: Literal["record_personnel_event"] = "record_personnel_event"
    roles = ("registrar",)
    person: c.Code
    branch: c.Code
    kind: PersonnelKind
    date: Date
    actor: c.Text


class ErasePersonKey(c.Command):
    """Destroy a person's summary key (no import op: sent by ``ledger person erase`` and
    ``POST /persons/{person}/erase`` only; its handler destroys the key after the erasure
    is saved, ``domain/service/handlers/care.py``)."""
    op: ClassVar[str] = "erase_person_key"  # a class attribute, not a field: never an import op
    roles: ClassVar[tuple[str, ...]] = ("committee",)  # a decision about personal data, not user admin
    person: c.Code
    reason: c.Text | None = None
    actor: c.Text
