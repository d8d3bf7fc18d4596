"""一年做成一件事 (one thing a year): a measurable project a member, alone or with their party
group, registers for a year, tied to a company goal; progress readings and completion.

Two aggregates. ``Project`` (one per project id) guards its own life: progress readings in
date order, none after completion, completion only once the target is reached. ``ProjectYear``
(one per branch and year) indexes the year's projects by owner and guards that an owner —
a member or a party group — registers one project a year (seed: "each member registers one
project a year"; a member may also take part in their group's project).

Choices where the seed is silent (README):
- ``target`` is ``{unit, value}`` with value > 0: the quantity to reach (a reduction is stated
  as the amount to cut). A progress ``value`` is the achieved value so far (a cumulative
  reading), not an increment.
- Completion is refused unless the achieved value (the completion's ``value``, or else the
  latest reading) reaches the target: "completed" means the thing was done, so the
  completion rate counts projects that met their targets.
- Dates are ISO dates on or after 1 January of the project's year; a project may be
  completed after its year (it still counts for its year).
"""
from __future__ import annotations

from datetime import date as _date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from pydantic import AfterValidator, BeforeValidator, ConfigDict
from pydantic.dataclasses import dataclass

from domain import commands as c
from domain.errors import InvalidInput, ProjectRefused
from domain.ids import project_id, project_year_id


def _iso_date(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"日期格式应为 YYYY-MM-DD，收到 {value!r}")
    try:
        _date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD，收到 {value!r}") from None
    return value


Date = Annotated[str, BeforeValidator(_iso_date)]  # an ISO date YYYY-MM-DD (日期)


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("目标值必须大于 0")
    return value


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Target:
    """目标：计量单位与目标值（值 > 0，最多两位小数）."""
    unit: c.Text
    value: Annotated[c.ExactDecimal, AfterValidator(_positive)]


class Project(Aggregate):
    """One project. ``readings`` are ``[date, value]`` in date order; ``completed`` the
    completion date (None while open), ``achieved`` the value it was completed with."""

    @staticmethod
    def create_id(project: str, **_: Any) -> UUID:
        return project_id(project)

    @event("Registered")
    def __init__(self, project: str, branch: str, member: str | None, group: str | None, year: str,
                 title: str, target_unit: str, target_value: Decimal, goal: str, actor: str,
                 key: str | None) -> None:
        self.project = project
        self.branch = branch
        self.year = year
        self.target_value = target_value
        self.readings: list[list[Any]] = []
        self.completed: str | None = None
        self.achieved: Decimal | None = None

    def _check(self, branch: str, day: str) -> None:
        if branch != self.branch:
            raise ProjectRefused(f"项目 {self.project} 属于支部 {self.branch}", "branch")
        if self.completed is not None:
            raise ProjectRefused(f"项目 {self.project} 已于 {self.completed} 完成", "project")
        if day[:4] < self.year:
            raise ProjectRefused(f"项目属于 {self.year} 年，日期不能早于该年", "date")
        if self.readings and day < self.readings[-1][0]:
            raise ProjectRefused(f"已有 {self.readings[-1][0]} 的进度，日期不能更早", "date")

    def record_progress(self, branch: str, day: str, value: Decimal, note: str | None, actor: str,
                        key: str | None) -> None:
        self._check(branch, day)
        if value < 0:
            raise InvalidInput("进度值不能为负", "value")
        self._progress(date=day, value=value, note=note, actor=actor, key=key)

    @event("ProgressRecorded")
    def _progress(self, date: str, value: Decimal, note: str | None, actor: str, key: str | None) -> None:
        self.readings.append([date, value])

    def complete(self, branch: str, day: str, value: Decimal | None, note: str | None, actor: str,
                 key: str | None) -> None:
        """Completion with ``value`` achieved (default: the latest reading)."""
        self._check(branch, day)
        achieved = value if value is not None else (self.readings[-1][1] if self.readings else None)
        if achieved is None:
            raise ProjectRefused("尚无进度记录，完成时须填写实际完成值", "value")
        if achieved < self.target_value:
            raise ProjectRefused(f"实际完成值 {achieved} 未达到目标值 {self.target_value}，不能登记完成", "value")
        self._complete(date=day, achieved=achieved, note=note, actor=actor, key=key)

    @event("Completed")
    def _complete(self, date: str, achieved: Decimal, note: str | None, actor: str, key: str | None) -> None:
        self.completed = date
        self.achieved = achieved


class ProjectYear(Aggregate):
    """A branch's projects of one year by owner: ``owners["member:M01"] = project``."""

    @staticmethod
    def create_id(branch: str, year: str, **_: Any) -> UUID:
        return project_year_id(branch, year)

    @event("Opened")
    def __init__(self, branch: str, year: str) -> None:
        self.branch = branch
        self.year = year
        self.owners: dict[str, str] = {}

    def add(self, project: str, owner_kind: str, owner: str) -> None:
        slot = f"{owner_kind}:{owner}"
        if slot in self.owners:
            what = "党员" if owner_kind == "member" else "党小组"
            raise ProjectRefused(f"{what} {owner} 已登记 {self.year} 年的项目 {self.owners[slot]}，一年一件事",
                                 owner_kind)
        self._add(project=project, owner_kind=owner_kind, owner=owner)

    @event("ProjectAdded")
    def _add(self, project: str, owner_kind: str, owner: str) -> None:
        self.owners[f"{owner_kind}:{owner}"] = project


# -- commands ------------------------------------------------------------------------------
def _target_shape(value: Any) -> Any:
    if isinstance(value, Target):
        return value
    if not isinstance(value, dict):
        raise ValueError("目标应为 JSON 对象 {\"unit\": 单位, \"value\": 目标值}")
    extra = sorted(set(value) - {"unit", "value"})
    if extra:
        raise ValueError(f"目标中有未知字段 {', '.join(extra)}")
    missing = [k for k in ("unit", "value") if k not in value]
    if missing:
        raise ValueError(f"目标缺少 {', '.join(missing)}")
    return value


class RegisterProject(c.Command):
    """A project for the year, owned by one member or one party group of the branch (give
    exactly one of ``member``, ``group``), serving a company goal (公司目标)."""
    op: Literal["register_project"] = "register_project"
    roles = ("secretary",)
    branch: c.Code
    project: c.Code
    member: c.Code | None = None
    group: c.Code | None = None
    year: c.Year
    title: c.Text
    target: Annotated[Target, BeforeValidator(_target_shape)]
    goal: c.Text
    actor: c.Text


class RecordProjectProgress(c.Command):
    """The achieved value so far (a cumulative reading) on a date."""
    op: Literal["record_project_progress"] = "record_project_progress"
    roles = ("secretary",)
    branch: c.Code
    project: c.Code
    date: Date
    value: c.ExactDecimal
    note: c.Text | None = None
    actor: c.Text


class CompleteProject(c.Command):
    """The project is done: refused unless the achieved value reaches the target."""
    op: Literal["complete_project"] = "complete_project"
    roles = ("secretary",)
    branch: c.Code
    project: c.Code
    date: Date
    value: c.ExactDecimal | None = None
    note: c.Text | None = None
    actor: c.Text
