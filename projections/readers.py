"""Which read model reads each event (读取登记): the read side of the one registry (issue 15).

The write side is ``domain/service/handlers`` (each command's handler, roles, Chinese name);
this module says, for every kind of event the domain can record, which fold turns it into what
people read — found from the folds themselves (:class:`projections.model.AssessmentModel`'s
handlers, each :class:`projections.fold.Fold`'s ``on_<Aggregate>_<Event>`` methods) — or, for
an event no fold needs, where it is read instead (:data:`READ_ELSEWHERE`, with the reason).
``tests/unit/test_readers.py`` fails when an event is in neither place (a new event no view
would ever show) or when an entry here names an event that does not exist.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import MappingProxyType
from typing import Iterator, Mapping

from projections.fold import Fold
from projections.model import AssessmentModel

AUDIT = "审计历史与核验（ledger history、/web/log、ledger verify）：作为事件本身展示与核验，不折叠为读模型"
READ_ELSEWHERE: Mapping[str, str] = MappingProxyType({
    # the user directory: replayed by permissions and by verify, listed by the admin's views
    "Access.Opened": "用户目录（domain/access/users.py）由权限检查与 ledger verify 重放",
    "Access.UserCreated": "用户目录：权限检查、ledger verify、管理员的用户列表",
    "Access.RoleGranted": "用户目录：权限检查、ledger verify、管理员的用户列表",
    "Access.RoleRevoked": "用户目录：权限检查、ledger verify、管理员的用户列表",
    "Access.TokenIssued": "用户目录：接口令牌认证",
    "Access.TokenRevoked": "用户目录：接口令牌认证",
    # amounts an approval recorded: the ranking carries them; the events are the paper trail
    "AssessmentQuarter.AwardGranted": AUDIT,
    "AssessmentQuarter.FineImposed": AUDIT,
    "AssessmentQuarter.AmountAdjusted": "重新审批的调整（projections/compare.py adjustments）",
    "AssessmentYear.AwardGranted": AUDIT,
    "AssessmentYear.FineImposed": AUDIT,
    "AssessmentYear.QuotaSet": AUDIT,
    "AssessmentYear.AmountAdjusted": "重新审批的调整（projections/compare.py adjustments）",
    # appeals: read beside the month by explanations and entry rows (adapters/exports/explanations.py)
    "EntryAppeals.Opened": "申诉：说明与条目列表随其条目读取（adapters/exports/explanations.py）",
    "EntryAppeals.Filed": "申诉：说明与条目列表随其条目读取（adapters/exports/explanations.py）",
    "EntryAppeals.Decided": "申诉：说明与条目列表随其条目读取（adapters/exports/explanations.py）",
    "Organization.Created": "组织的建立（ledger init）：只记操作人；" + AUDIT,
    "Organization.MonthSealed": "月度封存：写入时由组织聚合检查（不再接受录入）；" + AUDIT,
    "MemberPoints.OrganizationalLifeDerived": AUDIT,
    "PersonnelDecision.Recorded": "人事决定：谈话走访的触发由其处理函数直接登记；" + AUDIT,
    "ProjectYear.Opened": "项目年度：登记项目时由聚合检查编号唯一；" + AUDIT,
    "ProjectYear.ProjectAdded": "项目年度：登记项目时由聚合检查编号唯一；" + AUDIT,
    # the ledger's own keys: read by verify and by every checkpoint check
    "SigningKeys.Declared": "签名公钥：ledger verify 与检查点核验（adapters/integrity/verify.py）",
    "SigningKeys.Rotated": "签名公钥：ledger verify 与检查点核验（adapters/integrity/verify.py）",
})


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def folded() -> dict[str, list[str]]:
    """Event name (``Aggregate.Event``) → the folds that read it, from the folds' own handlers."""
    import projections
    for module in pkgutil.iter_modules(projections.__path__):
        importlib.import_module(f"projections.{module.name}")
    found: dict[str, list[str]] = {}
    for name in AssessmentModel().handled_events():
        found.setdefault(name, []).append(AssessmentModel.__name__)
    for fold in _subclasses(Fold):
        for attr in dir(fold):
            if attr.startswith("on_"):
                found.setdefault(attr[3:].replace("_", ".", 1), []).append(fold.__name__)
    return found


def readers() -> dict[str, list[str]]:
    """Every event name a fold or :data:`READ_ELSEWHERE` accounts for → who reads it."""
    found = folded()
    for name, why in READ_ELSEWHERE.items():
        found.setdefault(name, []).append(why)
    return found
