"""What ``ledger verify`` checks beyond the hashes, as pure functions over folds and rows.

* :func:`view_differences`: the maintained view's stored sections against the same sections
  refolded from the log at the view's position (what ``month show`` and the rest print),
  the quarter rankings it stores (``quarter show``: projections/views.py ``SHOWN``) included.
* :func:`approval_digest_differences`: the approvals a view holds against the result digests
  their approval events recorded.

Imports the domain only; the adapter (adapters/integrity/verify.py) reads the rows.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

import orjson

from domain import vocabulary
from domain.assessment.results import canonical_hash
from domain.integrity.log import LoggedEvent
from domain.service.event_ops import INIT, op_roles, ops_of
from domain.service.permissions import MIGRATOR, allowed
from projections.model import ORG, AssessmentModel
from projections.views import shown_names, stored_sections

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_DETAILS = 20  # differences named per section (the count of the rest is given)
# How far an event's own time (its payload's ``timestamp``, the application's clock when the
# command made it) may precede its recorded-at (the database clock at commit): the command's
# run and lock wait, a batch import's whole run (~5,000 lines a second), and the directory's
# one-second staleness (domain/service/unit_of_work.py). Verify reports a larger gap either
# way (``timestamp_mismatch``) and checks roles at no time earlier than recorded-at minus this.
MAX_COMMAND_LAG_US = 10 * 60 * 1_000_000


def section_names(model: AssessmentModel) -> set[str]:
    """Every section a view of ``model`` stores: the organization, each month and year folded,
    each quarter approved."""
    return {ORG, *(f"month:{p}" for p in model.months), *(f"quarter:{p}" for p in model.quarters),
            *(f"year:{p}" for p in model.years)}


def as_stored(value: Any) -> Any:
    """A section as a view stores it (its JSON, decoded again): the form both sides compare in."""
    return orjson.loads(orjson.dumps(value))


def view_differences(model: AssessmentModel, stored: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(section, detail) for each way the stored sections (name → decoded JSON) differ from
    ``model``'s: a section missing, one that no event makes, and within a month the status,
    entry count, approval and each branch's sums and business score (naming the branch).
    Precondition: ``model`` folded the log up to the position the view records."""
    out: list[tuple[str, str]] = []
    expected = stored_sections(model, section_names(model) | shown_names(model))
    names = set(expected)
    for name in sorted(names | set(stored)):
        if name not in stored:
            out.append((name, f"读模型缺少分段 {name}"))
            continue
        if name not in names:
            out.append((name, f"读模型有日志中没有的分段 {name}"))
            continue
        refolded, kept = as_stored(expected[name]), stored[name]
        if refolded == kept:
            continue
        details = list(_month_details(name, refolded, kept)) if name.startswith("month:") else []
        if not details:
            details = [f"分段 {name} 的内容与日志重算不符（{', '.join(_keys_differing(refolded, kept)) or '整体'}）"]
        out += [(name, d) for d in details[:MAX_DETAILS]]
        if len(details) > MAX_DETAILS:
            out.append((name, f"分段 {name} 另有 {len(details) - MAX_DETAILS} 处不符"))
    return out


def _keys_differing(refolded: Any, kept: Any) -> list[str]:
    if not isinstance(refolded, dict) or not isinstance(kept, dict):
        return []
    return sorted(str(k) for k in set(refolded) | set(kept) if refolded.get(k) != kept.get(k))


def _cents(value: Any) -> str:
    return f"{value / 100:.2f}" if isinstance(value, int) else repr(value)


def _month_details(name: str, refolded: dict[str, Any], kept: Any) -> Iterator[str]:
    period = name.partition(":")[2]
    if not isinstance(kept, dict):
        yield f"{period} 的读模型不是一个对象"
        return
    for key, label in (("status", "状态"), ("entries", "条目数"), ("approval", "审批记录")):
        if refolded.get(key) != kept.get(key):
            shown = "不同" if key == "approval" else f"存储为 {kept.get(key)!r}，日志重算为 {refolded.get(key)!r}"
            yield f"{period} 的{label}{shown}"
    for key, label in (("sums", "分类扣加分合计"), ("business", "经营得分")):
        mine, theirs = refolded.get(key) or {}, kept.get(key) or {}
        if not isinstance(theirs, dict):
            yield f"{period} 的{label}不是一个对象"
            continue
        for branch in sorted(set(mine) | set(theirs)):
            if mine.get(branch) == theirs.get(branch):
                continue
            if key == "sums" and isinstance(mine.get(branch, {}), dict) and isinstance(theirs.get(branch, {}), dict):
                a, b = mine.get(branch, {}), theirs.get(branch, {})
                cats = "；".join(f"{c}：存储 {_cents(b.get(c, 0))}，重算 {_cents(a.get(c, 0))}"
                                for c in sorted(set(a) | set(b)) if a.get(c, 0) != b.get(c, 0))
                yield f"{period} 支部 {branch} 的{label}与日志重算不符（{cats}）"
            else:
                yield (f"{period} 支部 {branch} 的{label}存储为 {theirs.get(branch)!r}，"
                       f"日志重算为 {mine.get(branch)!r}")


def approval_digest_differences(stored: Mapping[str, Any], digests: Mapping[int, str]) -> list[tuple[str, str]]:
    """(section, detail) for each approval held in the stored sections whose results (the rows
    ``month show``, ``quarter show`` and the diffs print as approved) do not hash to the digest
    recorded by the approval event at its position (``digests``: position → result hash)."""
    out = []
    for name, body in sorted(stored.items()):
        if not isinstance(body, dict):
            continue
        kind = name.partition(":")[0]
        approval = body if kind == "quarter" else body.get("approval") if kind in ("month", "year") else None
        if not isinstance(approval, dict):
            continue
        rows = approval.get("ranking" if kind == "quarter" else "results")
        position = approval.get("position")
        expected = digests.get(position) if isinstance(position, int) else None
        if expected is None:
            out.append((name, f"{name} 的审批记录指向位置 {position!r}，那里没有带结果摘要的审批"))
        elif canonical_hash(rows) != expected:
            out.append((name, f"{name} 的审批时结果与位置 {position} 的审批记录的结果摘要不符"))
    return out


# -- replaying the directory and the aggregates' rules alongside the log (issue 19.3) ----------
def _us(value: Any) -> int | None:
    """UTC microseconds of the transcoder's tagged datetime (an event's ``timestamp``), or None."""
    text = value.get("_data_") if isinstance(value, dict) else value
    return _parsed_us(text if type(text) is str else str(text))


_SECONDS: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS" (UTC) → its epoch seconds, for :func:`_parsed_us`
_LAST: tuple[str, int | None] = ("", None)  # the last text parsed (role_time and stamp_gap ask twice)


def _parsed_us(text: str) -> int | None:
    """:func:`_us` of one text: ``int(datetime.fromisoformat(text).timestamp() * 1_000_000)``
    (None when not a time), the float steps included. The transcoder's own form
    (``…THH:MM:SS.ffffff+00:00``) takes its whole seconds from a table (a command's events
    share them) and adds the digits; anything else goes through ``fromisoformat``."""
    global _LAST
    last = _LAST
    if last[0] == text:
        return last[1]
    found: int | None
    if len(text) == 32 and text[19] == "." and text.endswith("+00:00") and text[20:26].isascii() \
            and text[20:26].isdigit():
        seconds = _SECONDS.get(text[:19])
        if seconds is None:
            seconds = _whole_seconds(text[:19])
        found = None if seconds is None else int((seconds * 1_000_000 + int(text[20:26])) / 10**6 * 1_000_000)
    else:
        try:
            found = int(datetime.fromisoformat(text).timestamp() * 1_000_000)
        except ValueError:
            found = None
    _LAST = (text, found)
    return found


def _whole_seconds(prefix: str) -> int | None:
    """Epoch seconds of ``prefix`` (``YYYY-MM-DDTHH:MM:SS``) read as UTC, remembered; None if not a time."""
    try:
        moment = datetime.fromisoformat(prefix + "+00:00")
    except ValueError:
        return None
    seconds = int((moment - _EPOCH).total_seconds())
    if len(_SECONDS) > 100_000:
        _SECONDS.clear()
    _SECONDS[prefix] = seconds
    return seconds


def role_time(e: LoggedEvent) -> int:
    """The moment ``e``'s user must have held a role allowing it: its own time, never later
    than its recorded-at and never earlier than recorded-at minus :data:`MAX_COMMAND_LAG_US`
    (a backdated ``timestamp`` cannot move the check to a time a revoked role was still held;
    a recorded-at earlier than the previous event's is reported as ``timestamp_out_of_order``)."""
    stamped = _us(e.raw.get("timestamp"))
    if stamped is None:
        return e.recorded_at_us
    return max(min(stamped, e.recorded_at_us), e.recorded_at_us - MAX_COMMAND_LAG_US)


def stamp_gap(e: LoggedEvent) -> int | None:
    """Microseconds by which ``e``'s own time precedes its recorded-at (negative: follows it),
    or None when it records no time."""
    stamped = _us(e.raw.get("timestamp"))
    return None if stamped is None else e.recorded_at_us - stamped


def _ident(value: Any) -> str:
    """An id as stored (the transcoder's tagged UUID, or text) as text."""
    return str(value.get("_data_")) if isinstance(value, dict) else str(value)


class Auditor:
    """Replays, beside the fold, what every command was checked against when it ran: the user
    directory (users and their grants over time, as the ``Access`` aggregate keeps them) and the
    state each aggregate's own rules read (a month's status, its entries, a quarter or year
    approved, an appeal decided). :meth:`check` returns what is wrong with one event given
    the state before it, then takes it in. Pure: events in, findings out.

    An event was allowed when its acting user (``by``) existed and held, at the event's time
    (:func:`role_time`: its own timestamp, never later than its recorded-at nor more than
    :data:`MAX_COMMAND_LAG_US` earlier), a role allowing one of the ops that
    make its kind (domain/service/event_ops.py) — secretaries by the appointments in force
    that month (``secretaries``), a ``migrator`` for every op but the directory's — or when it
    is ``ledger init``'s (before any user existed, or in the same transaction as the first)."""

    def __init__(self) -> None:
        self.grants: dict[str, dict[str, list[list[int | None]]]] = {}  # user → role → [[from, until]]
        self.init_at: int | None = None  # recorded-at of the transaction that created the first user
        self.keys_declared = False
        self.opening: dict[Any, dict[str, Any]] = {}  # aggregate id → its first payload
        self.status: dict[Any, str] = {}  # month aggregate → draft/submitted/approved
        self.entries: dict[Any, set[str]] = {}  # month aggregate → entry ids
        self.approved: set[Any] = set()  # quarter and year aggregates approved
        self.appeals: dict[str, str] = {}  # appeal id → "filed" | "decided"
        self.branches: set[str] = set()
        # user → (from, until, roles): roles_at over the span between its grants' nearest bounds
        # (None: unbounded), where it cannot change; forgotten whenever the directory changes
        self.held: dict[str, tuple[int | None, int | None, frozenset[str]]] = {}
        self.needs: dict[tuple[Any, ...], list[list[str]]] = {}  # (ops, branch, department) → roles needed

    # -- who ----------------------------------------------------------------------------------
    def roles_at(self, user: str, at_us: int) -> set[str]:
        return {r for r, spans in self.grants.get(user, {}).items()
                if any(s is not None and s <= at_us and (u is None or at_us < u) for s, u in spans)}

    def _needed(self, ops: tuple[str, ...], branch: str, department: str | None) -> list[list[str]]:
        """For each of ``ops`` the registry knows, the concrete roles any one of which allows it
        (``secretary`` of ``branch`` — the event's, as text —, ``scorer`` of ``department`` or
        of any), remembered."""
        key = (ops, branch, department)
        found = self.needs.get(key)
        if found is None:
            registry = op_roles()
            found = self.needs[key] = [
                [f"secretary:{branch}" if r == "secretary"
                 else f"scorer:{department if department is not None else '*'}" if r == "scorer"
                 else "scorer:party_mass" if r == "party_mass" else r for r in registry[op]]
                for op in ops if op in registry]
        return found

    def _roles(self, user: str, at_us: int) -> set[str]:
        """:meth:`roles_at`, remembered over the span of times around ``at_us`` no grant or
        revocation of ``user`` bounds (roles_at changes only at those bounds)."""
        held = self.held.get(user)
        if held is not None and (held[0] is None or held[0] <= at_us) and (held[1] is None or at_us < held[1]):
            return set(held[2])
        roles = self.roles_at(user, at_us)
        bounds = [b for spans in self.grants.get(user, {}).values() for span in spans for b in span if b is not None]
        self.held[user] = (max((b for b in bounds if b <= at_us), default=None),
                           min((b for b in bounds if b > at_us), default=None), frozenset(roles))
        return roles

    def unauthorized(self, e: LoggedEvent, secretary_user: Callable[[str, int], str | None]) -> str | None:
        """Why the event's user was not allowed to make it (None: allowed)."""
        ops = ops_of(e.name)
        if ops is None:
            return f"没有哪个命令会产生「{vocabulary.event_name(e.name)}」事件"
        if INIT in ops and (not self.grants or e.recorded_at_us == self.init_at
                            or (e.name == "SigningKeys.Declared" and not self.keys_declared)):
            return None  # ledger init: the one command that needs no role
        by = e.raw.get("by")
        if not isinstance(by, str):
            return "事件没有记录操作用户（by）"
        if by not in self.grants:
            return f"操作用户 {by[:64]!r} 在此位置不存在（用户目录中没有）"
        at = role_time(e)
        roles = self._roles(by, at)
        branch = e.raw.get("branch")
        if not isinstance(branch, str):
            branch = self.opening.get(e.aggregate_id, {}).get("branch")
        if isinstance(branch, str) and secretary_user(branch, at) == by:
            roles.add(f"secretary:{branch}")
        department = e.raw.get("department")
        for needed in self._needed(ops, str(branch), department if isinstance(department, str) else None):
            if (MIGRATOR in roles and "admin" not in needed) or allowed(roles, needed):
                return None
        names = "、".join(vocabulary.op_name(op) for op in ops if op != INIT)
        held = "、".join(sorted(roles)) or "无"
        return f"用户 {by} 当时的角色（{held}）不允许{names}"

    # -- what the aggregates' rules would have refused ---------------------------------------------
    def broken(self, e: LoggedEvent) -> str | None:
        """Which rule of its aggregate the event breaks, given the events before it (None: none)."""
        name, raw, agg = e.name, e.raw, e.aggregate_id
        aggregate, _, kind = name.partition(".")
        if aggregate == "AssessmentMonth":
            status = self.status.get(agg, "draft")
            period = self.opening.get(agg, {}).get("period", "")
            word = vocabulary.state_name(status)
            if kind in ("ScoreRecorded", "EntryVoided") and status != "draft":
                return f"{period} 状态为{word}，领域不接受录入或作废"
            if kind == "ScoreRecorded":
                if raw.get("branch") not in self.branches:
                    return f"支部 {raw.get('branch')!r} 未登记"
                if _ident(raw.get("entry_id")) in self.entries.get(agg, set()):
                    return "同一条目编号录入了两次"
            if kind in ("EntryVoided", "EntryCorrected") and _ident(raw.get("entry_id")) not in self.entries.get(agg, set()):
                return f"{period} 没有被{'作废' if kind == 'EntryVoided' else '更正'}的条目"
            if kind == "Submitted" and status != "draft":
                return f"{period} 状态为{word}，只有草稿可以提交"
            if kind in ("Returned", "Approved") and status != "submitted":
                return f"{period} 状态为{word}，只有已提交的月份可以{'退回' if kind == 'Returned' else '审批'}"
        elif aggregate in ("AssessmentQuarter", "AssessmentYear"):
            period = self.opening.get(agg, {}).get("period", "")
            if kind == "Approved" and agg in self.approved:
                return f"{period} 已审批，领域不接受第二次审批"
            if kind == "Reapproved" and agg not in self.approved:
                return f"{period} 尚未审批，不能重新审批"
        elif name == "EntryAppeals.Filed" and self.appeals.get(_ident(raw.get("appeal_id"))) is not None:
            return "同一申诉编号提出了两次"
        elif name == "EntryAppeals.Decided":
            state = self.appeals.get(_ident(raw.get("appeal_id")))
            if state is None:
                return "决定的申诉从未提出"
            if state == "decided":
                return "同一申诉已有决定，领域不接受第二个决定"
        elif name == "Organization.BranchRegistered" and raw.get("code") in self.branches:
            return f"支部 {raw.get('code')!r} 已登记"
        elif name == "Access.UserCreated" and raw.get("user") in self.grants:
            return f"用户 {raw.get('user')!r} 已存在"
        elif name in ("Access.RoleGranted", "Access.RoleRevoked"):
            spans = self.grants.get(str(raw.get("user")), {}).get(str(raw.get("role")), [])
            held = bool(spans) and spans[-1][1] is None
            if str(raw.get("user")) not in self.grants:
                return f"用户 {raw.get('user')!r} 未登记"
            if name == "Access.RoleGranted" and held:
                return f"用户 {raw.get('user')} 已有角色 {raw.get('role')}"
            if name == "Access.RoleRevoked" and not held:
                return f"用户 {raw.get('user')} 没有角色 {raw.get('role')}"
        return None

    def take(self, e: LoggedEvent) -> None:
        """Take the event in (after checking it)."""
        name, raw, agg = e.name, e.raw, e.aggregate_id
        self.opening.setdefault(agg, raw)
        if name.startswith("Access."):
            self.held.clear()
        if name == "Access.UserCreated":
            if not self.grants and self.init_at is None:
                self.init_at = e.recorded_at_us
            self.grants.setdefault(str(raw.get("user")), {})
        elif name == "Access.RoleGranted":
            effective = raw.get("effective_us")
            self.grants.setdefault(str(raw.get("user")), {}).setdefault(str(raw.get("role")), []).append(
                [effective if isinstance(effective, int) else e.recorded_at_us, None])
        elif name == "Access.RoleRevoked":
            spans = self.grants.get(str(raw.get("user")), {}).get(str(raw.get("role")), [])
            effective = raw.get("effective_us")
            if spans and spans[-1][1] is None:
                spans[-1][1] = effective if isinstance(effective, int) else e.recorded_at_us
        elif name == "SigningKeys.Declared":
            self.keys_declared = True
        elif name == "Organization.BranchRegistered":
            self.branches.add(str(raw.get("code")))
        elif name == "AssessmentMonth.ScoreRecorded":
            self.entries.setdefault(agg, set()).add(_ident(raw.get("entry_id")))
        elif name in ("AssessmentMonth.Submitted", "AssessmentMonth.Returned", "AssessmentMonth.Approved"):
            self.status[agg] = {"Submitted": "submitted", "Returned": "draft", "Approved": "approved"}[name[16:]]
        elif name in ("AssessmentQuarter.Approved", "AssessmentYear.Approved"):
            self.approved.add(agg)
        elif name == "EntryAppeals.Filed":
            self.appeals[_ident(raw.get("appeal_id"))] = "filed"
        elif name == "EntryAppeals.Decided":
            self.appeals[_ident(raw.get("appeal_id"))] = "decided"
