"""The tests' layout (docs/DESIGN.md, "Tests"): every test module sits in the folder of its
kind, none at the root, so a new one is placed where it runs as it should."""
from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
KINDS = {"unit", "contract", "api", "reliability", "browser"}
ROOT_MODULES = {"conftest.py", "helpers.py", "evolution_notice.py"}  # and fixture modules shared by kinds


def test_every_test_module_is_in_the_folder_of_its_kind() -> None:
    at_root = sorted(p.name for p in TESTS.glob("test_*.py"))
    assert at_root == [], f"move {at_root} into tests/<kind>/ ({', '.join(sorted(KINDS))})"
    folders = {p.parent.name for p in TESTS.rglob("test_*.py") if "fixtures" not in p.parts}
    assert folders <= KINDS and {"unit", "contract", "api"} <= folders, folders
    assert ROOT_MODULES <= {p.name for p in TESTS.glob("*.py")}


def test_the_stored_fixture_topics_module_stays_where_the_log_names_it() -> None:
    """Events in tests/fixtures/evolution_v1.json name ``tests.evolution_notice`` in their topic."""
    assert "tests.evolution_notice" in (TESTS / "fixtures" / "evolution_v1.json").read_text(encoding="utf-8")
    assert (TESTS / "evolution_notice.py").is_file()
