"""A log written before the modules moved into packages (issue 15) still replays and verifies.

``tests/fixtures/demo_log_v1.json.gz`` holds the demo's whole log as the store wrote it at
the commit it names (``tests/fixtures/write_demo_log_fixture.py``), with the JSON that the
read commands printed over it then. Loaded byte for byte into a fresh database on each
backend, today's code must: verify it with the same event, checkpoint and approval counts
and no problem; print the very same JSON for every one of those reads; and replay every
aggregate in it from its stored events (topics that name the old module paths, such as
``domain.assessment.organization:Organization.BranchRegistered``, resolve to today's classes).

How it fails: a moved event class whose old topic is not registered makes the replay raise
``TopicError``; a changed fold or rule changes a read's JSON; a changed leaf layout makes
``verify`` report ``payload_changed``.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner
from eventsourcing.domain import Aggregate

from adapters.cli.main import main
from tests.helpers import load_stored_rows

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_log_v1.json.gz"


@pytest.fixture(scope="module")
def fixture() -> dict[str, Any]:
    return json.loads(gzip.decompress(FIXTURE.read_bytes()))


def test_the_stored_demo_log_verifies_and_reads_as_it_did(make_app, db_url: str, fixture: dict[str, Any]) -> None:
    app = make_app()
    load_stored_rows(app, fixture["tables"])
    runner = CliRunner()
    env = {"LEDGER_DATABASE_URL": db_url}

    verified = runner.invoke(main, ["verify", "--json"], env=env)
    assert verified.exit_code == 0, verified.output
    report, then = json.loads(verified.output), fixture["verify"]
    assert report["ok"] and not report["problems"], report["problems"][:3]
    assert (report["events"], report["checkpoints"], report["approvals"]) == (
        then["events"], then["checkpoints"], then["approvals"])

    for command, printed in fixture["reads"].items():
        result = runner.invoke(main, [*command.split(), "--json"], env=env)
        assert result.exit_code == 0, (command, result.output)
        assert json.loads(result.output) == printed, command

    aggregates = {row["originator_id"] for row in fixture["tables"]["ledger_events"]}
    for aggregate_id in sorted(aggregates):
        assert isinstance(app.repository.get(UUID(aggregate_id)), Aggregate)
    assert len(aggregates) > 100


def test_old_and_new_topics_resolve_in_a_fresh_process() -> None:
    """Topics are resolved through a process-wide cache: a process that only reads (never
    wrote an event, so never cached a class's topic) must resolve both the old module paths
    and today's, for every aggregate class (domain/topics.py)."""
    import subprocess
    import sys
    script = """
import inspect, importlib
from eventsourcing.domain import Aggregate
from eventsourcing.utils import resolve_topic
import domain.service.application
from domain.topics import MOVED_MODULES
n = 0
for old, new in MOVED_MODULES.items():
    for name, cls in vars(importlib.import_module(new)).items():
        if inspect.isclass(cls) and issubclass(cls, Aggregate) and cls.__module__ == new:
            for module in (old, new):
                assert resolve_topic(f"{module}:{cls.__qualname__}") is cls, (module, name)
                assert resolve_topic(f"{module}:{cls.__qualname__}.Created") is cls.Created, (module, name)
            n += 1
print(n)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 16
