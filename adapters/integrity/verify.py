"""``ledger verify``: recompute everything from the stored events, trust no stored hash.

Checks, in one pass over the log in leaf order: every leaf hash against the event it
stands for (payload changed), leaf indices without gaps and positions rising with them
(order changed), each aggregate's versions rising with position (order changed), no
event without a leaf (event inserted) and no leaf without an event (event missing); then
the tree rebuilt from the recomputed leaves against every stored tree row and every
checkpoint (root and signature; cosignatures listed), and every approval's recorded
result hash against the result recomputed from the events before it.

Times: each event's recorded-at (``ledger_positions.recorded_at_us``, the database clock,
rising from one transaction to the next) must be no earlier than the previous event's
(``timestamp_out_of_order``) and no later than the verifier's clock plus
:data:`~projections.audit.MAX_COMMAND_LAG_US` (``timestamp_in_future``); its own time (the
payload's ``timestamp``) within that lag of its recorded-at (``timestamp_mismatch``). The
role check (projections/audit.py) uses the event's own time bounded by its recorded-at, so a
backdated ``timestamp`` cannot reach back to when a revoked role was held.

Attachments (``attachments``: the folder of adapters/store/attachments.py): every event that
names an attached file must find it there with the SHA-256 and size it records
(``attachment_missing``, ``attachment_altered``); a folder given that does not exist while the
log names files is ``attachments_unchecked`` (never read as all well). Nothing is created.

Keys: the log declares the ledger's signing keys (``SigningKeys`` events, domain/integrity/signing.py).
A checkpoint of size S must carry a valid signature by the key in force at S (the latest
declared among its S leaves; the first declared key before any declaration). Trusted keys
given (``--key``): the log's first declared key must be one of them (``key_untrusted``).
A log that declares no key (begun before keys were declared) is checked against the given
keys, following ``new-key`` checkpoint extensions; with none given, ``key_undeclared``.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from uuid import UUID

import orjson
from eventsourcing.domain import CanInitAggregate, DomainEvent
from eventsourcing.utils import TopicError, resolve_topic
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from adapters.store.attachments import MATCHES, MISSING, AttachmentStore
from adapters.store.gcpause import gc_paused
from adapters.store.logreader import uuid_of
from adapters.store.views import SECTIONS, TRACKING, VIEW
from domain import vocabulary
from domain.asof import SHANGHAI
from domain.assessment.organization import secretary_in
from domain.assessment.results import canonical_hash, month_records
from domain.errors import CorruptLog, LedgerError
from domain.integrity.log import LoggedEvent, leaf_bytes, untranscode
from domain.integrity.merkle import CompactRange, leaf_hash
from domain.integrity.note import NoteError, open_note, parse_checkpoint
from domain.service.permissions import month_of
from domain.topics import MOVED_MODULES, register_moved_topics
from projections.annual import year_view
from projections.audit import MAX_COMMAND_LAG_US, Auditor, approval_digest_differences, stamp_gap, view_differences
from projections.model import FOLD_ERRORS, AssessmentModel, plain
from projections.views import month_view, quarter_view

PROBLEM_NAMES = dict(vocabulary.VERIFY_PROBLEMS)  # kind → Chinese name (other checks add theirs)
PROBLEMS_SHOWN = 50  # problems `ledger verify` and the audit page list as text (``--json`` lists every one)
KEY_EVENTS = ("SigningKeys.Declared", "SigningKeys.Rotated")
APPROVALS = ("AssessmentMonth.Approved", "AssessmentQuarter.Approved", "AssessmentQuarter.Reapproved",
             "AssessmentYear.Approved", "AssessmentYear.Reapproved")


@dataclass
class Problem:
    kind: str
    position: int | None
    detail: str


def problem_text(problem: dict[str, Any]) -> str:
    """One problem of a report (a :class:`Problem`'s fields, as the JSON carries them) as people
    read it, in the CLI and on the audit page alike: where (the log position, or 整个日志 for a
    checkpoint or key problem), its Chinese name, its kind and the detail."""
    where = "整个日志" if problem["position"] is None else f"位置 {problem['position']}"
    return f"{where}：{PROBLEM_NAMES.get(problem['kind'], problem['kind'])}（{problem['kind']}）——{problem['detail']}"


@dataclass
class Report:
    events: int = 0
    checkpoints: int = 0
    approvals: int = 0
    view_sections: int = 0  # maintained view sections compared with the refold
    attachments: int = 0  # events naming an attached file
    attachments_checked: int = 0  # of them, checked against the attachment folder
    signatures: dict[int, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self) -> Problem | None:
        located = [p for p in self.problems if p.position is not None]
        return min(located, key=lambda p: p.position) if located else (self.problems[0] if self.problems else None)


SHA256 = re.compile(r"[0-9a-f]{64}")


def shown_time(at_us: int) -> str:
    """UTC microseconds as Beijing time, to the microsecond."""
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=at_us)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S.%f") + "（北京时间）"


def _lag(us: int) -> str:
    minutes, seconds = divmod(abs(us) // 1_000_000, 60)
    return f"{minutes} 分 {seconds} 秒" if minutes else f"{abs(us) / 1_000_000:.3f} 秒"


def _rows(engine: Engine) -> Iterator[Any]:
    """The leaves in order, each with its event (None columns when it has none). On PostgreSQL
    the aggregate id comes as text (no UUID object built by the driver; :func:`uuid_of` makes
    one per aggregate) through a server-side cursor in pages of 20,000."""
    pg = engine.dialect.name == "postgresql"
    agg = "e.originator_id::text" if pg else "e.originator_id"
    sql = ("SELECT p.seq, p.position, p.recorded_at_us, p.leaf_hash, e.id, " + agg + ", "
           "e.originator_version, e.topic, e.state FROM ledger_positions p "
           "LEFT JOIN ledger_events e ON e.id = p.position ORDER BY p.seq")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor(name="ledger_verify") if pg else raw.cursor()
        if pg:
            cursor.itersize = 20000
        cursor.execute(sql)
        while rows := cursor.fetchmany(20000):
            yield from rows
        cursor.close()
        raw.commit()
    finally:
        raw.close()


class Verifier:
    """One verification run over a ledger's tables."""

    def __init__(self, engine: Engine, verifier_keys: list[str], witness_keys: list[str] | None = None,
                 event_modules: tuple[str, ...] = (), attachments: Path | None = None,
                 plain: bool = False) -> None:
        self.engine = engine
        self.plain = plain  # the reference path: the root at every size, each month computed afresh
        self.secretaries: dict[tuple[str, str], tuple[list[Any], int, str | None]] = {}  # see _secretary_user
        self.months: dict[int, str] = {}  # hour (UTC µs // 3,600,000,000) → its month, where the whole hour is one
        self.attachments = attachments  # the attachment folder (None: not asked; the caller checks them)
        self.store = AttachmentStore(attachments) if attachments is not None and attachments.is_dir() else None
        self.files: dict[tuple[str, Any], str] = {}  # (sha256, size) → status, each file hashed once
        self.unchecked: list[int] = []  # positions of events naming a file not checked
        self.now_us = time.time_ns() // 1000
        self.event_modules = event_modules  # modules besides domain's whose events the log may hold (tests)
        self.trusted = list(verifier_keys)
        self.keys = self.trusted + list(witness_keys or [])
        self.declared: list[tuple[int, str, int]] = []  # (leaf index, verifier key, position) of each key event
        self.report = Report()
        self.model = AssessmentModel()
        self.topics: dict[str, tuple[str, bool] | None] = {}
        self.auditor = Auditor()  # the directory and the aggregates' rules, replayed beside the fold
        self.digests: dict[int, str] = {}  # approval position → the result digest it recorded
        self.view_at, self.view = 0, None
        register_moved_topics()  # events stored before the modules moved name the old paths

    def problem(self, kind: str, position: int | None, detail: str) -> None:
        self.report.problems.append(Problem(kind, position, detail))

    def run(self) -> Report:
        with self.engine.connect() as conn:
            trees = list(conn.execute(text("SELECT size, compact FROM ledger_tree ORDER BY size")))
            checkpoints = list(conn.execute(text(
                "SELECT number, size, root, note FROM ledger_checkpoints ORDER BY number")))
            cosigned = list(conn.execute(text("SELECT checkpoint, note FROM ledger_cosignatures ORDER BY id")))
            orphans = [r[0] for r in conn.execute(text(
                "SELECT e.id FROM ledger_events e LEFT JOIN ledger_positions p ON p.position = e.id "
                "WHERE p.position IS NULL ORDER BY e.id"))]
        for position in orphans:
            self.problem("event_inserted", position, f"位置 {position} 的事件不在任何叶子中")
        self.view_at, self.view = self._stored_view()
        wanted = None if self.plain else {0, *(size for size, _ in trees), *(r[1] for r in checkpoints)}
        with gc_paused():  # the walk makes no cycles; the collector's passes over the growing fold cost ~15%
            roots = self._leaves(wanted)
        if self.view is not None:  # the view reached the log's end (or beyond: sections no event made)
            self._check_view()
        self._trees(trees, roots)
        self._checkpoints(checkpoints, cosigned, roots)
        if self.unchecked and self.attachments is not None:
            self.problem("attachments_unchecked", None,
                         f"日志中 {len(self.unchecked)} 个事件附有文件（第一个在位置 {self.unchecked[0]}），"
                         f"附件库 {self.attachments.resolve()} 不存在：这些附件未核验（用 --attachments 或 "
                         "LEDGER_ATTACHMENTS 指定附件库）")
        return self.report

    def _leaves(self, wanted: set[int] | None) -> dict[int, tuple[bytes, int | None]]:
        """Walk the leaves; returns the recomputed root at each size in ``wanted`` the log
        reaches (None: at every size — the plain path, which tests compare with this one), with
        the position of the leaf that makes that size (for locating a change).

        An event that cannot be read (not JSON, a topic naming no event class, an event of
        an aggregate never opened or of another kind than the one opened) is reported and
        not folded; the walk goes on (its leaf still counts in the tree)."""
        tree, last_position, last_at, future = CompactRange(), 0, None, 0
        versions: dict[UUID, int] = {}
        kinds: dict[UUID, str] = {}  # aggregate id → the aggregate class its first event opened
        ids: dict[Any, UUID] = {}
        roots: dict[int, tuple[bytes, int | None]] = {0: (tree.root(), None)}
        for i, (seq, position, at, stored, eid, agg, version, topic, state) in enumerate(_rows(self.engine)):
            self.report.events += 1
            if seq != i:
                self.problem("leaf_missing", position, f"叶子序号应为 {i}，实为 {seq}")
            if position <= last_position:
                self.problem("order_changed", position, f"位置 {position} 排在位置 {last_position} 之后")
            if last_at is not None and at < last_at:
                self.problem("timestamp_out_of_order", position,
                             f"位置 {position} 的记录时间 {shown_time(at)} 早于前一个事件（位置 {last_position}）的"
                             f"记录时间 {shown_time(last_at)}")
            if at > self.now_us + MAX_COMMAND_LAG_US:
                if not future:
                    self.problem("timestamp_in_future", position,
                                 f"位置 {position} 的记录时间 {shown_time(at)} 晚于核验时的时钟 {shown_time(self.now_us)}")
                future += 1
            last_position, last_at = position, at
            if self.view is not None and position > self.view_at:
                self._check_view()
            if eid is None:
                self.problem("event_missing", position, f"叶子 {seq} 指向的位置 {position} 没有事件")
                recomputed = bytes(stored)  # nothing to recompute from; the tree check still runs
            else:
                agg_id = ids.get(agg)
                if agg_id is None:
                    agg_id = ids[agg] = uuid_of(agg)
                previous = versions.get(agg_id, 0)
                if previous >= version:
                    self.problem("order_changed", position,
                                 f"聚合 {agg_id} 的版本 {version} 出现在版本 {previous} 之后")
                versions[agg_id] = version
                payload = bytes(state)
                recomputed = leaf_hash(leaf_bytes(position, at, agg_id, version, topic, payload))
                if recomputed != bytes(stored):
                    self.problem("payload_changed", position, f"位置 {position} 的事件与其叶子哈希不符")
                event = self._readable(position, at, agg_id, version, topic, payload, kinds)
                if event is not None:
                    self._fold(event)
            tree.append(recomputed)
            if wanted is None or tree.size in wanted:
                roots[tree.size] = (tree.root(), position)
        if future > 1:
            self.problem("timestamp_in_future", None, f"另有 {future - 1} 个事件的记录时间晚于核验时的时钟")
        return roots

    def _stored_view(self) -> tuple[int, dict[str, Any] | None]:
        """The maintained view as stored: its position and sections (decoded), or None when the
        ledger stores none (its tables absent: reads fold the log in memory)."""
        present = set(inspect(self.engine).get_table_names())
        if not {SECTIONS.name, TRACKING.name} <= present:
            return 0, None
        sections: dict[str, Any] = {}
        with self.engine.connect() as conn:
            at = conn.execute(select(TRACKING.c.position).where(TRACKING.c.view == VIEW)).scalar()
            for name, body in conn.execute(select(SECTIONS.c.section, SECTIONS.c.body).where(SECTIONS.c.view == VIEW)):
                try:
                    sections[name] = orjson.loads(bytes(body))
                except ValueError:
                    self.problem("view_unreadable", None, f"读模型分段 {name} 不是有效的 JSON")
        if at is None or not at:
            return 0, None  # nothing stored yet: every read folds the log
        return int(at), sections

    def _check_view(self) -> None:
        """Compare the stored view with the fold at the view's position (called once, as the
        walk passes that position); then every approval it holds with its recorded digest."""
        stored, self.view = self.view or {}, None
        self.report.view_sections = len(stored)
        where = f"读模型（维护至位置 {self.view_at}）"
        for _, detail in [*view_differences(self.model, stored), *approval_digest_differences(stored, self.digests)]:
            self.problem("view_mismatch", None, f"{where}：{detail}")

    def _readable(self, position: int, at: int, agg_id: UUID, version: int, topic: str, payload: bytes,
                  kinds: dict[UUID, str]) -> LoggedEvent | None:
        """The event, or None after reporting why it cannot be read: ``undecodable_payload``,
        ``unknown_topic``, ``unknown_aggregate`` (no opening event before it, or its topic
        names another aggregate class than the one opened)."""
        try:
            raw = orjson.loads(payload)
        except ValueError:
            self.problem("undecodable_payload", position,
                         f"位置 {position} 的事件内容不是有效的 JSON（{len(payload)} 字节）")
            return None
        if type(raw) is not dict:
            self.problem("undecodable_payload", position, f"位置 {position} 的事件内容不是一个 JSON 对象")
            return None
        known = self._topic(topic)
        if known is None:
            self.problem("unknown_topic", position, f"位置 {position} 的事件类型 {topic[:120]!r} 不是账本的事件类型")
            return None
        aggregate, opens = known
        opened = kinds.get(agg_id)
        if opened is None:
            if not opens or version != 1:
                self.problem("unknown_aggregate", position,
                             f"位置 {position} 的事件（{vocabulary.event_name(topic)}）所属的对象 {agg_id} 此前未建立")
                return None
            kinds[agg_id] = aggregate
        elif opened != aggregate or opens:
            self.problem("unknown_aggregate", position,
                         f"位置 {position} 的事件（{vocabulary.event_name(topic)}）不属于对象 {agg_id}（"
                         + ("该对象已建立" if opens and opened == aggregate else f"该对象是 {opened}") + "）")
            return None
        return LoggedEvent(position, at, agg_id, version, topic, raw)

    def _topic(self, topic: str) -> tuple[str, bool] | None:
        """(aggregate class name, whether the event opens an aggregate) of a stored topic,
        or None if it names no event class of the domain. Only modules of ``domain`` (or the
        old paths of moved ones) are imported: a topic never makes verify import anything else."""
        if topic in self.topics:
            return self.topics[topic]
        module, _, qualified = topic.partition(":")
        found: tuple[str, bool] | None = None
        if (module.startswith("domain.") or module in MOVED_MODULES or module in self.event_modules) \
                and qualified.count(".") == 1:
            try:
                cls = resolve_topic(topic)
            except (TopicError, ImportError, AttributeError, ValueError):
                cls = None
            if isinstance(cls, type) and issubclass(cls, DomainEvent):
                found = (qualified.partition(".")[0], issubclass(cls, CanInitAggregate))
        self.topics[topic] = found
        return found

    def _check_times(self, e: LoggedEvent) -> None:
        """The event's own time against its recorded-at (:data:`MAX_COMMAND_LAG_US` either way)."""
        gap = stamp_gap(e)
        if gap is not None and abs(gap) > MAX_COMMAND_LAG_US:
            own = shown_time(e.recorded_at_us - gap)
            self.problem("timestamp_mismatch", e.position,
                         f"位置 {e.position} 的事件（{vocabulary.event_name(e.topic)}）自身的时间 {own}"
                         f"{'早于' if gap > 0 else '晚于'}其记录时间 {shown_time(e.recorded_at_us)} {_lag(gap)}，"
                         f"超过容许的 {MAX_COMMAND_LAG_US // 60_000_000} 分钟")

    def _check_attachment(self, e: LoggedEvent) -> None:
        """The file the event names (``attachment``: ``sha256``, ``size``, ``name``), if any,
        against the attachment folder."""
        named = e.raw.get("attachment")
        if not isinstance(named, dict):
            return
        self.report.attachments += 1
        if self.attachments is None:
            return
        if self.store is None:
            self.unchecked.append(e.position)
            return
        self.report.attachments_checked += 1
        sha, size, name = named.get("sha256"), named.get("size"), str(named.get("name"))[:200]
        what = f"位置 {e.position} 的事件（{vocabulary.event_name(e.topic)}）所附的文件 {name!r}"
        if not isinstance(sha, str) or not SHA256.fullmatch(sha):
            self.problem("attachment_altered", e.position, f"{what}：记录的 SHA-256 {str(sha)[:80]!r} 无效")
            return
        wanted = size if isinstance(size, int) and not isinstance(size, bool) else None
        status = self.files.get((sha, wanted))
        if status is None:
            status = self.files[(sha, wanted)] = self.store.check(sha, wanted)
        if status == MISSING:
            self.problem("attachment_missing", e.position, f"{what} 不在附件库中（应在 {self.store.path(sha)}）")
        elif status != MATCHES:
            self.problem("attachment_altered", e.position,
                         f"{what}（{self.store.path(sha)}）与日志记录的 SHA-256 {sha}、{size} 字节不符：文件已被替换")

    def _fold(self, e: LoggedEvent) -> None:
        self._check_times(e)
        self._check_attachment(e)
        if e.name in KEY_EVENTS:
            self.declared.append((self.report.events - 1, str(e.raw.get("verifier_key")), e.position))
        if e.name in APPROVALS:
            self._check_approval(e)
        if e.topic.partition(":")[0] in self.event_modules:
            return  # a test's own aggregate: no command of the ledger makes it, no rule of it applies
        why = self.auditor.unauthorized(e, self._secretary_user)
        if why is not None:
            self.problem("unauthorized_event", e.position,
                         f"位置 {e.position} 的事件（{vocabulary.event_name(e.topic)}）：{why}")
        rule = self.auditor.broken(e)
        if rule is not None:
            self.problem("invariant_broken", e.position,
                         f"位置 {e.position} 的事件（{vocabulary.event_name(e.topic)}）：{rule}")
        self.auditor.take(e)
        try:
            self.model.apply(e)
        except CorruptLog as exc:
            self.problem("unfoldable_event", e.position, f"位置 {e.position} 的事件（{vocabulary.event_name(e.topic)}）"
                                                         f"无法折叠：{exc.what}")

    def _secretary_user(self, branch: str, at_us: int) -> str | None:
        """The user of the secretary of ``branch`` in office in the month of ``at_us`` (as
        appointed by the events folded so far), or None."""
        found = self.model.branches.get(branch)
        if not found:
            return None
        month, appointments = self._month(at_us), found["secretaries"]
        if not self.plain:  # remembered while the branch's appointments (appended to, never edited) stay as they were
            known = self.secretaries.get((branch, month))
            if known is not None and known[0] is appointments and known[1] == len(appointments):
                return known[2]
        secretary = secretary_in(appointments, month)
        user = None if secretary is None else secretary.user
        self.secretaries[(branch, month)] = (appointments, len(appointments), user)
        return user

    def _month(self, at_us: int) -> str:
        """``month_of(at_us)``, remembered per UTC hour when the hour's first and last
        microsecond fall in one month (every hour but one a month where Beijing time's offset
        is whole hours); the plain path computes it every time."""
        if self.plain:
            return month_of(at_us)
        hour = at_us // 3_600_000_000
        month = self.months.get(hour)
        if month is None:
            month = month_of(at_us)
            if month_of(hour * 3_600_000_000) == month_of(hour * 3_600_000_000 + 3_599_999_999):
                self.months[hour] = month
        return month

    def _check_approval(self, e: LoggedEvent) -> None:
        proof = e.raw.get("proof")
        if not proof:
            return
        self.report.approvals += 1
        period = self.model.names.get(e.aggregate_id)
        try:
            if e.name.startswith("AssessmentMonth"):
                expected: Any = month_records(month_view(self.model, period)[1])
            elif e.name.startswith("AssessmentQuarter"):
                expected = [r.to_record() for r in quarter_view(self.model, period)[1]]
            else:
                expected = [r.to_record() for r in year_view(self.model, period)[2]]
        except (*FOLD_ERRORS, LedgerError) as exc:
            self.problem("approval_mismatch", e.position, f"无法重算 {period} 的审批结果：{str(exc)[:200]}")
            return
        if isinstance(proof, dict) and isinstance(proof.get("result_hash"), str):
            self.digests[e.position] = proof["result_hash"]
            recorded = e.raw.get("ranking" if "Quarter" in e.name else "results")
            if canonical_hash(plain(untranscode(recorded))) != proof["result_hash"]:
                self.problem("approval_mismatch", e.position,
                             f"{period} 的审批事件（位置 {e.position}）记录的结果与其结果摘要不符")
        if not isinstance(proof, dict) or canonical_hash(expected) != proof.get("result_hash"):
            self.problem("approval_mismatch", e.position,
                         f"{period} 的审批结果（位置 {e.position}）与其之前的事件重算的结果不符")

    def _trees(self, trees: list[Any], roots: dict[int, tuple[bytes, int | None]]) -> None:
        for size, compact in trees:
            if size not in roots:
                self.problem("event_missing", None, f"树记录覆盖 {size} 个叶子，日志只有 {self.report.events} 个")
                continue
            try:
                stored = CompactRange.from_bytes(bytes(compact)).root()
            except (ValueError, TypeError, IndexError):
                stored = b""
            if stored != roots[size][0]:
                self.problem("tree_altered", roots[size][1], f"大小为 {size} 的树记录与重算的树不符")

    def _in_force(self, size: int) -> str:
        """The declared key in force for a checkpoint of ``size`` leaves. Precondition: some key declared."""
        keys = [k for index, k, _ in self.declared if index < size]
        return keys[-1] if keys else self.declared[0][1]

    def _checkpoints(self, checkpoints: list[Any], cosigned: list[Any],
                     roots: dict[int, tuple[bytes, int | None]]) -> None:
        declared = [k for _, k, _ in self.declared]
        if declared and self.trusted and declared[0] not in self.trusted:
            self.problem("key_untrusted", self.declared[0][2],
                         f"日志登记的第一个签名公钥 {declared[0]} 不在信任的公钥中：检查点由账本自称的密钥签名，不能据此信任")
        if not declared and not self.trusted:
            self.problem("key_undeclared", None, "日志中没有登记签名公钥，无法核验检查点签名：请用 --key 指定信任的公钥，"
                                                 "或运行 ledger init 登记")
        extra: dict[int, list[str]] = {}
        for number, note in cosigned:
            try:
                extra.setdefault(number, []).extend(open_note(note, [*dict.fromkeys(self.keys + declared)])[1])
            except NoteError:
                pass  # a cosignature by a key not given here: listed nowhere, refused nothing
        for number, size, root, note in checkpoints:
            self.report.checkpoints += 1
            try:
                if declared:
                    in_force = self._in_force(size)
                    body, signers = open_note(note, [in_force])
                    others = [k for k in dict.fromkeys(self.keys) if k != in_force]
                    if others:
                        signers = sorted(set(signers) | set(_signers_or_none(note, others)))
                else:
                    body, signers = open_note(note, self.keys)
                cp = parse_checkpoint(body)
            except NoteError as e:
                self.problem("signature_bad", None, f"第 {number} 个检查点：{e}")
                continue
            if not declared:
                for line in cp.extensions:  # key rotation: a trusted checkpoint introduces the next key
                    if line.startswith("new-key "):
                        self.keys = [*self.keys, line.removeprefix("new-key ")]
            self.report.signatures[number] = sorted(set(signers) | set(extra.get(number, [])))
            if cp.root != bytes(root) or cp.size != size:
                self.problem("checkpoint_root_altered", None, f"第 {number} 个检查点的存储值与签名内容不符")
            if size not in roots:
                self.problem("event_missing", None,
                             f"第 {number} 个检查点覆盖 {size} 个叶子，日志只有 {self.report.events} 个")
            elif roots[size][0] != cp.root:
                self.problem("checkpoint_root_altered", roots[size][1],
                             f"第 {number} 个检查点的根与日志重算的根不符")


def _signers_or_none(note: str, keys: list[str]) -> list[str]:
    """Names of ``keys`` whose signatures on ``note`` verify (a witness's in the note itself)."""
    try:
        return open_note(note, keys)[1]
    except NoteError:
        return []


def verify_ledger(engine: Engine, verifier_keys: list[str], witness_keys: list[str] | None = None,
                  event_modules: tuple[str, ...] = (), attachments: Path | None = None,
                  plain: bool = False) -> Report:
    """Verify the ledger; ``verifier_keys``: the keys trusted as the ledger's (may be empty:
    then the log's own declaration is used); ``witness_keys``: cosigners' keys to list;
    ``event_modules``: modules besides ``domain``'s whose event classes count as the log's
    (a test's own aggregate; the CLI gives none, so a topic never makes verify import code);
    ``attachments``: the attachment folder to check every attached file against (None: not
    checked, and not reported — for a caller that checks them itself, as a restore does);
    ``plain``: the reference path (the root recomputed at every tree size, nothing
    remembered), reporting the same problems at the same positions, slower (tests compare)."""
    return Verifier(engine, verifier_keys, witness_keys, event_modules, attachments, plain).run()
