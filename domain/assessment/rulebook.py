"""The rulebook (考核细则): every number the scoring rules use, as named parameters.

Version 1 carries the seed's numbers and the project's defaults where the seed is silent
(README, "Rulebook v1"). Versions are events of the ``RulebookRegister`` aggregate; a new
version is a new event, never an edit.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import cached_property
from typing import Any, Callable, Mapping

from domain import vocabulary

# Task categories (任务书九大类) and the bonus items.
POLITICAL = "political"  # 政治建设
IDEOLOGICAL = "ideological"  # 思想建设
ORGANIZATIONAL = "organizational"  # 组织建设
CONDUCT = "conduct"  # 作风建设
DISCIPLINE = "discipline"  # 纪律建设
ANTI_CORRUPTION = "anti_corruption"  # 反腐败斗争
GOVERNANCE = "governance"  # 综合治理
MASS_WORK = "mass_work"  # 群团工作
DAILY = "daily"  # 日常工作及临时任务
BONUS = "bonus"  # 特色加分项

CATEGORY_NAMES: Mapping[str, str] = vocabulary.CATEGORIES  # names live in domain/vocabulary.py

# Scoring departments (分块考核).
PARTY_MASS = "party_mass"  # 党群工作部
DISCIPLINE_INSPECTION = "discipline_inspection"  # 纪检监察部
OFFICE = "office"  # 办公室

DEPARTMENT_NAMES: Mapping[str, str] = vocabulary.DEPARTMENTS

FULL_TIME = "full_time"  # 专职
PART_TIME = "part_time"  # 兼职
MODES = (FULL_TIME, PART_TIME)


def _cents(value: Decimal) -> int:
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"数值 {value} 超过两位小数")
    return int(scaled)


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True, eq=False)
class Rulebook:
    """One version of the rulebook. All amounts in yuan, all scores in points."""

    version: int = 1
    category_points: Mapping[str, Decimal] = field(default_factory=lambda: {
        POLITICAL: Decimal(15), IDEOLOGICAL: Decimal(10), ORGANIZATIONAL: Decimal(15),
        CONDUCT: Decimal(10), DISCIPLINE: Decimal(10), ANTI_CORRUPTION: Decimal(10),
        GOVERNANCE: Decimal(10), MASS_WORK: Decimal(10), DAILY: Decimal(10),
    })
    departments: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: {
        DISCIPLINE_INSPECTION: (CONDUCT, DISCIPLINE, ANTI_CORRUPTION),
        OFFICE: (GOVERNANCE, DAILY),
        PARTY_MASS: (POLITICAL, IDEOLOGICAL, ORGANIZATIONAL, MASS_WORK, BONUS),
    })
    base_score: Decimal = Decimal(100)  # a month starts at 100; no entries → 100
    bonus_cap: Decimal = Decimal(5)  # cap on the month's sum of bonus points
    coefficient_places: int = 4  # coefficient = min(score, 100) / 100, four decimals
    part_time_allowance_floor: Decimal = Decimal(95)  # below it the month's allowance is 0
    quarter_first_award: Decimal = Decimal(3000)  # every branch at rank 1
    quarter_fine_threshold: Decimal = Decimal(98)  # last rank and below it → fined
    quarter_fine_full_time: Decimal = Decimal(2000)
    quarter_fine_part_time: Decimal = Decimal(1000)
    quarter_fined_places: int = 1  # 末位: how many last places are fined when below the threshold (seed: the last)
    # Annual overall evaluation (每年一总评): weights of the mean of the twelve monthly
    # scores, the unit's business performance and the secretary's debriefing.
    annual_weight_monthly: Decimal = Decimal("0.6")
    annual_weight_unit: Decimal = Decimal("0.2")
    annual_weight_debriefing: Decimal = Decimal("0.2")
    annual_first_award: Decimal = Decimal(5000)  # every branch at rank 1
    annual_fine_threshold: Decimal = Decimal(95)  # last rank and below it → penalised
    annual_fine_full_time: Decimal = Decimal(2000)
    annual_fine_part_time: Decimal = Decimal(1000)
    annual_fined_places: int = 1  # as quarter_fined_places, for the year (fine and quota cut)
    development_quota_per: int = 20  # base development quota = ceil(members / 20)
    excellent_quota_per: int = 10  # base excellent-member quota = ceil(members / 10)
    first_place_quota_per: int = 50  # first place adds ceil(members / 50), at least 1, to each
    last_place_excellent_cut: int = 1  # last and below the threshold: excellent quota − 1 (≥ 0)
    # Dual hundred-point link (双百分): "mutual" = party × business / 100;
    # "weighted" = business × dual_business_weight + party × (1 − dual_business_weight).
    dual_formula: str = "mutual"
    dual_business_weight: Decimal = Decimal("0.9")
    appeal_window_days: int = 30  # appeals filed within this many days of the month's approval
    # Member-level mechanisms (issue: members, points, talks…) add their parameters below,
    # each with its default; a version stored before a parameter existed keeps the default.
    # Party-member points (党员积分制管理): each part (individual behaviour, party-group work,
    # annual appraisal) = base + its entries, clamped to [min, max]; the annual total weighs
    # the three parts (seed: 50/30/20), two decimals, half-up. A year uses the version in
    # force in its December.
    points_base: Decimal = Decimal(80)
    points_min: Decimal = Decimal(0)
    points_max: Decimal = Decimal(100)
    points_weight_individual: Decimal = Decimal("0.5")
    points_weight_group: Decimal = Decimal("0.3")
    points_weight_appraisal: Decimal = Decimal("0.2")
    # Competitive selection (竞聘): total = representatives' mean × w_r + leaders' mean × w_l;
    # below the threshold nobody is appointed, even in first place [seed].
    selection_weight_representatives: Decimal = Decimal("0.5")
    selection_weight_leaders: Decimal = Decimal("0.5")
    selection_threshold: Decimal = Decimal(80)
    # 1+N links, one-thing-a-year, innovation (党员“1+N”、创新创效): default N of a member's
    # linked employees (a group may set its own), yuan per innovation proposal, innovation
    # points per pay-grade step (steps = floor(cumulative points / points_per_grade)).
    link_quota_default: int = 5
    proposal_reward: Decimal = Decimal(10)
    points_per_grade: int = 10
    # Talks and visits (六必谈 / 六必访): days from the occasion to the talk or visit before
    # it is overdue; the version in force in the occasion's month applies.
    talk_window_days: int = 15
    visit_window_days: int = 7
    # Organizational life and party dues (三会一课、党费; domain/members/meetings.py, domain/members/dues.py):
    # each meeting kind's expected frequency in months (at least one meeting per block of that
    # many months, blocks aligned on January; a kind not named has no schedule); the member
    # points an attendance status adds to the "organizational life" item; the dues rate table
    # of 中组发〔2008〕3号 — per income category, brackets (upper bound inclusive or None for
    # "above", rate) — and the monthly dues of members without income.
    meeting_frequency: Mapping[str, int] = field(default_factory=lambda: {
        "general_meeting": 3, "committee_meeting": 1, "group_meeting": 1, "party_lesson": 3,
        "theme_day": 1, "org_life_meeting": 12,
    })
    attendance_absent_points: Decimal = Decimal(-2)
    attendance_excused_points: Decimal = Decimal(0)
    dues_rates: Mapping[str, tuple[tuple[Decimal | None, Decimal], ...]] = field(default_factory=lambda: {
        "salaried": ((Decimal(3000), Decimal("0.005")), (Decimal(5000), Decimal("0.01")),
                     (Decimal(10000), Decimal("0.015")), (None, Decimal("0.02"))),
        "retired": ((Decimal(5000), Decimal("0.005")), (None, Decimal("0.01"))),
    })
    dues_no_income: Decimal = Decimal("0.20")
    # The names a stored version gave (None: all) — its digest covers only those, so adding a
    # parameter in a later release does not change the digest an approval recorded.
    given: frozenset[str] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def category_cents(self) -> dict[str, int]:
        return {c: _cents(p) for c, p in self.category_points.items()}

    @cached_property
    def base_cents(self) -> int:
        return _cents(self.base_score)

    @cached_property
    def bonus_cap_cents(self) -> int:
        return _cents(self.bonus_cap)

    @cached_property
    def categories(self) -> tuple[str, ...]:
        return (*self.category_points.keys(), BONUS)

    def to_parameters(self) -> dict[str, Any]:
        """The version as plain JSON-able data (decimals as strings), as stored in its event:
        each parameter as its section writes it (:data:`SECTIONS`)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("version", "given"):
                continue
            value = getattr(self, f.name)
            dump = SECTION_OF[f.name].dump.get(f.name)
            out[f.name] = dump(value) if dump is not None else str(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_parameters(cls, version: int, params: Mapping[str, Any]) -> "Rulebook":
        """Parse stored parameters; a parameter a version does not name keeps its default
        (versions recorded before the parameter existed)."""
        known = {f.name: f for f in fields(cls) if f.name not in ("version", "given")}
        unknown = set(params) - set(known)
        if unknown:
            raise ValueError(f"没有这些参数：{'、'.join(sorted(unknown))}")
        values: dict[str, Any] = {"version": version, "given": frozenset(params)}
        defaults = cls()
        for name, value in params.items():
            values[name] = SECTION_OF[name].parsed(name, value, type(getattr(defaults, name)))
        rulebook = cls(**values)
        rulebook.check()
        return rulebook

    def digest(self) -> str:
        """SHA-256 (hex) of the version's canonical parameters (recorded by approvals)."""
        import hashlib
        import json
        params = self.to_parameters()
        if self.given is not None:
            params = {k: v for k, v in params.items() if k in self.given}
        return hashlib.sha256(json.dumps(params, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest()

    def check(self) -> None:
        """Raise ``ValueError`` naming the first parameter that makes no sense: each section
        checks its own, in the order of :data:`SECTIONS`."""
        for section in SECTIONS:
            section.check(self)


@dataclass(frozen=True)
class Section:
    """One mechanism's part of the rulebook: the parameters it owns, how a stored value of a
    structured one parses (``parse``) and is written (``dump``) — a plain one parses as its
    default's type (Decimal, int or text) and is written as text if Decimal —, and the
    check of its own parameters (raises ``ValueError`` naming the first that makes no sense)."""

    name: str
    parameters: tuple[str, ...]
    check: Callable[[Rulebook], None] = lambda rulebook: None
    parse: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    dump: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)

    def parsed(self, name: str, value: Any, kind: type) -> Any:
        """A stored value of ``name`` (one of :attr:`parameters`) as the rulebook holds it."""
        parse = self.parse.get(name)
        if parse is not None:
            return parse(value)
        if kind is Decimal:
            return _d(value)
        if kind is int:
            return int(value)
        return str(value)


def _check_dual(r: Rulebook) -> None:
    if r.dual_formula not in ("mutual", "weighted"):
        raise ValueError("双百分计算方式（dual_formula）应为 mutual（相乘）或 weighted（加权）")


def _check_quarter(r: Rulebook) -> None:
    if r.quarter_fined_places <= 0:
        raise ValueError(f"{vocabulary.parameter_name('quarter_fined_places')}（quarter_fined_places）应大于 0")


def _check_annual(r: Rulebook) -> None:
    weights = r.annual_weight_monthly + r.annual_weight_unit + r.annual_weight_debriefing
    if weights != 1:
        raise ValueError(f"年度三项权重之和应为 1，现为 {weights}")
    for name in ("development_quota_per", "excellent_quota_per", "first_place_quota_per", "annual_fined_places"):
        if getattr(r, name) <= 0:
            raise ValueError(f"{vocabulary.parameter_name(name)}（{name}）应大于 0")


def _check_assessment(r: Rulebook) -> None:
    for category in (c for cats in r.departments.values() for c in cats):
        if category != BONUS and category not in r.category_points:
            raise ValueError(f"分块考核部门列出了未知的类别 {category!r}")
    for value in (*r.category_points.values(), r.base_score, r.bonus_cap):
        _cents(value)


def _check_points(r: Rulebook) -> None:
    points_weights = (r.points_weight_individual, r.points_weight_group, r.points_weight_appraisal)
    if any(w < 0 for w in points_weights) or sum(points_weights) != 1:
        raise ValueError(f"党员积分三项权重应不小于 0 且和为 1，现为 {sum(points_weights)}")
    if not r.points_min <= r.points_base <= r.points_max:
        raise ValueError("党员积分应满足 下限 ≤ 基础分 ≤ 上限")
    for value in (r.points_base, r.points_min, r.points_max):
        _cents(value)


def _check_selection(r: Rulebook) -> None:
    selection_weights = (r.selection_weight_representatives, r.selection_weight_leaders)
    if any(w < 0 for w in selection_weights) or sum(selection_weights) != 1:
        raise ValueError(f"竞聘两项权重应不小于 0 且和为 1，现为 {sum(selection_weights)}")
    if not 0 <= r.selection_threshold <= 100:
        raise ValueError("竞聘门槛分（selection_threshold）应在 0 到 100 之间")


def _check_links(r: Rulebook) -> None:
    if r.link_quota_default < 0:
        raise ValueError("1+N 默认联系职工人数（link_quota_default）不能为负")


def _check_innovation(r: Rulebook) -> None:
    if r.proposal_reward < 0:
        raise ValueError("合理化建议奖励（proposal_reward）不能为负")
    _cents(r.proposal_reward)
    if r.points_per_grade <= 0:
        raise ValueError("创新积分每级分数（points_per_grade）应大于 0")


def _check_care(r: Rulebook) -> None:
    if r.talk_window_days < 0 or r.visit_window_days < 0:
        raise ValueError("谈话期限、走访期限（talk_window_days、visit_window_days）不能为负")


def _check_meetings(r: Rulebook) -> None:
    """Meeting frequencies divide the year; attendance points have two decimals."""
    for kind, months in r.meeting_frequency.items():
        if kind not in vocabulary.MEETING_KINDS:
            raise ValueError(f"会议频次（meeting_frequency）列出了未知的会议类型 {kind!r}")
        if months not in (1, 2, 3, 4, 6, 12):
            raise ValueError(f"{vocabulary.MEETING_KINDS.get(kind, kind)}的频次应为 1、2、3、4、6 或 12 个月")
    for value in (r.attendance_absent_points, r.attendance_excused_points):
        _cents(value)


def _check_dues(r: Rulebook) -> None:
    """The dues table has both income categories, ascending bounds ending in None, rates in [0, 1]."""
    _cents(r.dues_no_income)
    if r.dues_no_income < 0:
        raise ValueError("无收入党员月党费（dues_no_income）不能为负")
    if set(r.dues_rates) != {"salaried", "retired"}:
        raise ValueError("党费比例表（dues_rates）应恰好有 salaried（在职）与 retired（离退休）两类")
    for category, brackets in r.dues_rates.items():
        bounds = [u for u, _ in brackets]
        if not brackets or bounds[-1] is not None or None in bounds[:-1]:
            raise ValueError(f"党费比例表中{vocabulary.DUES_CATEGORIES.get(category, category)}"
                             "一类应以一个上限为 null 的档次结尾")
        uppers = [u for u in bounds[:-1] if u is not None]  # all of them: None was refused above
        if any(b <= a for a, b in zip(uppers, uppers[1:])) or any(u <= 0 for u in uppers):
            raise ValueError(f"党费比例表中{vocabulary.DUES_CATEGORIES.get(category, category)}一类的上限应为正数且递增")
        if any(not 0 <= rate <= 1 for _, rate in brackets):
            raise ValueError(f"党费比例表中{vocabulary.DUES_CATEGORIES.get(category, category)}一类的比例应在 0 到 1 之间")


SECTIONS: tuple[Section, ...] = (  # in the order they check: the first error named is as it always was
    Section("dual", ("dual_formula", "dual_business_weight"), _check_dual),
    Section("annual", ("annual_weight_monthly", "annual_weight_unit", "annual_weight_debriefing", "annual_first_award",
                       "annual_fine_threshold", "annual_fine_full_time", "annual_fine_part_time", "annual_fined_places",
                       "development_quota_per", "excellent_quota_per", "first_place_quota_per",
                       "last_place_excellent_cut"), _check_annual),
    Section("assessment", ("category_points", "departments", "base_score", "bonus_cap", "coefficient_places",
                           "part_time_allowance_floor", "appeal_window_days"), _check_assessment,
            parse={"category_points": lambda v: {k: _d(p) for k, p in v.items()},
                   "departments": lambda v: {k: tuple(cs) for k, cs in v.items()}},
            dump={"category_points": lambda v: {k: str(p) for k, p in v.items()},
                  "departments": lambda v: {k: list(cs) for k, cs in v.items()}}),
    Section("quarter", ("quarter_first_award", "quarter_fine_threshold", "quarter_fine_full_time",
                        "quarter_fine_part_time", "quarter_fined_places"), _check_quarter),
    Section("points", ("points_base", "points_min", "points_max", "points_weight_individual", "points_weight_group",
                       "points_weight_appraisal"), _check_points),
    Section("selection", ("selection_weight_representatives", "selection_weight_leaders", "selection_threshold"),
            _check_selection),
    Section("links", ("link_quota_default",), _check_links),
    Section("innovation", ("proposal_reward", "points_per_grade"), _check_innovation),
    Section("care", ("talk_window_days", "visit_window_days"), _check_care),
    Section("meetings", ("meeting_frequency", "attendance_absent_points", "attendance_excused_points"), _check_meetings,
            parse={"meeting_frequency": lambda v: {str(k): int(n) for k, n in v.items()}},
            dump={"meeting_frequency": dict}),
    Section("dues", ("dues_rates", "dues_no_income"), _check_dues,
            parse={"dues_rates": lambda v: {str(k): tuple((None if u is None else _d(u), _d(r)) for u, r in b)
                                            for k, b in v.items()}},
            dump={"dues_rates": lambda v: {k: [[None if u is None else str(u), str(r)] for u, r in b]
                                           for k, b in v.items()}}),
)
SECTION_OF: dict[str, Section] = {name: s for s in SECTIONS for name in s.parameters}  # parameter → its section
SECTION_NAMED: dict[str, Section] = {s.name: s for s in SECTIONS}  # a section by its name ("quarter", "dues", …)


RULEBOOK_V1 = Rulebook()
