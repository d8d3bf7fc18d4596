"""The handlers of ``domain/members/projects.py``: plain functions ``(uow, cmd)`` registered with
:func:`~domain.service.handlers.handles`; they load, act and return ids — the unit of work saves."""
from __future__ import annotations

from domain.errors import InvalidInput, ProjectNotFound, ProjectRefused
from domain.ids import project_id, project_year_id
from domain.members.people import MEMBER
from domain.members.projects import CompleteProject, Project, ProjectYear, RecordProjectProgress, RegisterProject
from domain.periods import month_range
from domain.service.handlers import handles
from domain.service.handlers.placement import member_groups, require_in_branch
from domain.service.unit_of_work import UnitOfWork


def find_project(uow: UnitOfWork, project: str) -> Project:
    found = uow.find_as(Project, project_id(project), for_update=True)
    if found is None:
        raise ProjectNotFound(f"项目 {project!r} 未登记", "project")
    return found


@handles(RegisterProject)
def register_project(uow: UnitOfWork, cmd: RegisterProject) -> str:
    uow.organization().branch(cmd.branch)
    if (cmd.member is None) == (cmd.group is None):
        raise InvalidInput("请给出 member（党员）或 group（党小组）之一", "member")
    if uow.find(project_id(cmd.project), for_update=False) is not None:
        raise ProjectRefused(f"项目编号 {cmd.project!r} 已登记", "project")
    months = month_range(f"{cmd.year}-01", 12)
    if cmd.member is not None:
        require_in_branch(uow, cmd.member, cmd.branch, MEMBER, months, "member", ProjectRefused)
        owner_kind, owner = "member", cmd.member
    else:
        if cmd.group not in member_groups(uow, cmd.branch, months):
            raise ProjectRefused(f"{cmd.year} 年支部 {cmd.branch} 没有党小组 {cmd.group} 的党员", "group")
        owner_kind, owner = "group", cmd.group
    index = uow.find_or_open(project_year_id(cmd.branch, cmd.year),
                             lambda: ProjectYear(branch=cmd.branch, year=cmd.year))
    index.add(cmd.project, owner_kind, owner)
    uow.add(Project(project=cmd.project, branch=cmd.branch, member=cmd.member, group=cmd.group, year=cmd.year,
                    title=cmd.title, target_unit=cmd.target.unit, target_value=cmd.target.value, goal=cmd.goal,
                    actor=cmd.actor, key=cmd.key))
    return cmd.project


@handles(RecordProjectProgress)
def record_project_progress(uow: UnitOfWork, cmd: RecordProjectProgress) -> str:
    find_project(uow, cmd.project).record_progress(cmd.branch, cmd.date, cmd.value, cmd.note, cmd.actor, cmd.key)
    return cmd.project


@handles(CompleteProject)
def complete_project(uow: UnitOfWork, cmd: CompleteProject) -> str:
    find_project(uow, cmd.project).complete(cmd.branch, cmd.date, cmd.value, cmd.note, cmd.actor, cmd.key)
    return cmd.project
