"""The organization (公司党委所属党支部): branches, member counts and secretaries.

One aggregate holds every branch: it guards that a branch code is registered once, and it
is the directory the approvals enumerate. It changes rarely, so a cached copy serves the
frequent reads (``record_score`` checks the branch without copying it).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.assessment.in_force import members_in as members_in  # re-exported: importers of these from here
from domain.assessment.in_force import ranked_throughout as ranked_throughout
from domain.assessment.in_force import secretary_in as secretary_in
from domain.assessment.in_force import takes_part as takes_part
from domain.assessment.in_force import taking_part as taking_part
from domain.assessment.in_force import version_in_force as version_in_force
from domain.assessment.rulebook import MODES, PART_TIME, Rulebook
from domain.assessment.scoring import Secretary
from domain.decimals import beyond_cents
from domain.errors import BranchAlreadyRegistered, BranchNotFound, InvalidInput, RulebookRefused
from domain.ids import organization_id


class Organization(Aggregate):
    """Branches by code: ``{code: {"name", "from_month", "members", "secretaries"}}``.

    ``members`` is a list of ``(from_month, count)``; ``secretaries`` a list of
    ``(from_month, name, mode, user, allowance)``, in the order recorded.
    Rulebook versions are kept here too: ``rulebooks[version] = (effective_from, params)``.
    """

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return organization_id()

    @event("Created")
    def __init__(self, actor: str) -> None:
        self.branches: dict[str, dict[str, Any]] = {}
        self.rulebooks: dict[int, tuple[str | None, dict[str, Any]]] = {}
        self.sealed_months: set[str] = set()

    # -- rulebook ----------------------------------------------------------------------
    def adopt_rulebook(self, rulebook: Rulebook, effective_from: str | None, actor: str) -> int:
        """Append the next rulebook version; returns its number. Preconditions checked by
        :meth:`adopt_version` for versions after the first."""
        version = max(self.rulebooks, default=0) + 1
        self._adopt(version=version, effective_from=effective_from,
                    parameters=rulebook.to_parameters(), actor=actor)
        return version

    def adopt_version(self, version: int, effective_from: str, changes: dict[str, Any], actor: str,
                      key: str | None = None) -> Rulebook:
        """Adopt ``changes`` over the latest version, effective from the first month of a
        quarter (checked at the edge). Refused if ``version`` is not the next number, if it
        starts before the latest version does, or if a month from ``effective_from`` on is
        already approved (a version never changes a period approved before it)."""
        latest = max(self.rulebooks)
        if version != latest + 1:
            raise InvalidInput(f"下一个版本号应为 {latest + 1}", "version")
        start = self.rulebooks[latest][0]
        if start is not None and effective_from < start:
            raise RulebookRefused(f"第 {latest} 版自 {start} 起生效，新版本不能更早生效", "from")
        sealed = sorted(m for m in self.sealed_months if m >= effective_from)
        if sealed:
            raise RulebookRefused(f"{sealed[0]} 已审批，新版本不能自 {effective_from} 起生效", "from")
        merged = {**self.rulebooks[latest][1], **_plain(changes)}
        try:
            rulebook = Rulebook.from_parameters(version, merged)
        except (ValueError, TypeError, ArithmeticError, AttributeError) as e:
            raise InvalidInput(f"考核细则参数无效：{e}", "parameters") from None
        self._adopt(version=version, effective_from=effective_from,
                    parameters=rulebook.to_parameters(), actor=actor)
        return rulebook

    @event("RulebookAdopted")
    def _adopt(self, version: int, effective_from: str | None, parameters: dict[str, Any],
               actor: str) -> None:
        self.rulebooks[version] = (effective_from, parameters)

    def rulebook_in_force(self, month: str) -> Rulebook:
        """The latest version whose ``effective_from`` is not after ``month``.

        Precondition: a version exists (``ledger init``).
        """
        best = version_in_force(((v, start) for v, (start, _) in self.rulebooks.items()), month)
        return _rulebook(best, self.rulebooks[best][1])

    def rulebook_version(self, version: int) -> Rulebook:
        """A given version (one a period was approved under)."""
        return _rulebook(version, self.rulebooks[version][1])

    def seal_month(self, period: str) -> None:
        """Note that a month was approved (recorded with the approval, in one transaction),
        so that a later rulebook version cannot reach back into it."""
        self._seal(period=period)

    @event("MonthSealed")
    def _seal(self, period: str) -> None:
        self.sealed_months.add(period)

    # -- branches ----------------------------------------------------------------------
    def branch(self, code: str) -> dict[str, Any]:
        try:
            return self.branches[code]
        except KeyError:
            raise BranchNotFound(f"支部 {code!r} 未登记", "branch") from None

    def register_branch(self, code: str, name: str, members: int, from_month: str | None,
                        actor: str, key: str | None) -> None:
        if code in self.branches:
            raise BranchAlreadyRegistered(f"支部代码 {code!r} 已登记", "code")
        _check_members(members)
        if not name.strip():
            raise InvalidInput("支部名称不能为空", "name")
        self._register(code=code, name=name, members=members, from_month=from_month,
                       actor=actor, key=key)

    @event("BranchRegistered")
    def _register(self, code: str, name: str, members: int, from_month: str | None,
                  actor: str, key: str | None) -> None:
        self.branches[code] = {"name": name, "from_month": from_month,
                               "members": [(from_month, members)], "secretaries": []}

    def set_members(self, branch: str, members: int, from_month: str, actor: str,
                    key: str | None) -> None:
        self.branch(branch)
        _check_members(members)
        self._set_members(branch=branch, members=members, from_month=from_month, actor=actor,
                          key=key)

    @event("MembersSet")
    def _set_members(self, branch: str, members: int, from_month: str, actor: str,
                     key: str | None) -> None:
        self.branches[branch]["members"].append((from_month, members))

    def appoint_secretary(self, branch: str, name: str, user: str | None, mode: str,
                          allowance: Decimal | None, from_month: str, actor: str,
                          key: str | None) -> None:
        self.branch(branch)
        if mode not in MODES:
            raise InvalidInput(f"任职方式应为 full_time（专职）或 part_time（兼职），收到 {mode!r}", "mode")
        if mode == PART_TIME and (allowance is None or allowance < 0):
            raise InvalidInput("兼职书记必须给出每月津贴（元，不小于 0）", "allowance")
        if mode != PART_TIME and allowance is not None:
            raise InvalidInput("专职书记没有每月津贴，请不要填写 allowance", "allowance")
        if allowance is not None and beyond_cents(allowance):
            raise InvalidInput("金额最多两位小数（分）", "allowance")
        if not name.strip():
            raise InvalidInput("书记姓名不能为空", "name")
        self._appoint(branch=branch, name=name, user=user, mode=mode, allowance=allowance,
                      from_month=from_month, actor=actor, key=key)

    @event("SecretaryAppointed")
    def _appoint(self, branch: str, name: str, user: str | None, mode: str,
                 allowance: Decimal | None, from_month: str, actor: str,
                 key: str | None) -> None:
        self.branches[branch]["secretaries"].append((from_month, name, mode, user, allowance))

    # -- questions ---------------------------------------------------------------------
    def taking_part(self, first_month: str) -> list[str]:
        """Codes of branches taking part in a period that starts at ``first_month``."""
        return taking_part(self.branches, first_month)

    def secretary_in(self, code: str, month: str) -> Secretary | None:
        return secretary_in(self.branches[code]["secretaries"], month)


_parsed: dict[int, tuple[dict[str, Any], Rulebook]] = {}


def _rulebook(version: int, params: dict[str, Any]) -> Rulebook:
    """Parsed once per version (versions are immutable; the identity check guards reuse
    across ledgers whose version numbers carry other parameters)."""
    cached = _parsed.get(version)
    if cached is None or (cached[0] is not params and cached[0] != params):
        cached = _parsed[version] = (params, Rulebook.from_parameters(version, params))
    return cached[1]


def _plain(value: Any) -> Any:
    """Decimals in submitted parameters as strings (how versions are stored)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value


def _check_members(members: int) -> None:
    if isinstance(members, bool) or not isinstance(members, int) or members < 0:
        raise InvalidInput("党员人数必须是不小于 0 的整数", "members")
