"""Stored topics of event classes that have since moved (迁移前的事件类型名).

A stored event names its class by topic, ``module:Aggregate.Event`` (the ``eventsourcing``
library's ``get_topic``); the topic is part of the event's Merkle leaf, so a stored topic
is never rewritten. When the domain's modules moved into packages (issue 15), every topic
written before the move kept naming the old module, e.g. ``domain.organization:
Organization.BranchRegistered``. :func:`register_moved_topics` tells the library, with its
``register_topic``, that each old module path is now the module given here, so those
events replay as the classes they always were. Events written after the move carry the new
paths; readers that look at the ``Aggregate.Event`` part only (projections, vocabulary)
see no difference. Precondition: call before the first replay (the application does at
import). Add a line here, never change one, whenever a module holding aggregates moves.
"""
from __future__ import annotations

from importlib import import_module

from eventsourcing.utils import register_topic

MOVED_MODULES: dict[str, str] = {  # module path in topics written before the move → module today
    "domain.access": "domain.access.users",
    "domain.organization": "domain.assessment.organization",
    "domain.assessment": "domain.assessment.month_and_quarter",
    "domain.appeal": "domain.assessment.appeal",
    "domain.year": "domain.assessment.year",
    "domain.signing": "domain.integrity.signing",
    "domain.people": "domain.members.people",
    "domain.care": "domain.members.care",
    "domain.dues": "domain.members.dues",
    "domain.innovation": "domain.members.innovation",
    "domain.links": "domain.members.links",
    "domain.meetings": "domain.members.meetings",
    "domain.member_points": "domain.members.member_points",
    "domain.mentoring": "domain.members.mentoring",
    "domain.projects": "domain.members.projects",
    "domain.selection": "domain.members.selection",
}


def register_moved_topics() -> None:
    """Make every old module path in :data:`MOVED_MODULES` resolve to its module today.

    The new paths are registered too: the library resolves an unknown module path by its
    longest registered prefix, so with ``domain.assessment`` registered alone a new topic
    ``domain.assessment.month_and_quarter:…`` would be looked up under the wrong module."""
    for old, new in MOVED_MODULES.items():
        module = import_module(new)
        register_topic(old, module)
        register_topic(new, module)
