"""The direction of imports that docs/architecture.md describes, checked on the code itself.

The core (`panchayat/`) knows nothing of Rasa or of the doors that call it; actions are slot
plumbing over the journeys and never hold a database session; the channel and the notifier
reach the database only through the core.
"""
import ast
from pathlib import Path
from typing import Iterator, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent


def python_files(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> Set[str]:
    """Every module a file imports, at any depth (a function-level import counts too)."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def names_used(path: Path) -> Set[str]:
    return {node.id for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Name)} | {
        node.attr for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Attribute)}


def offending(package: str, forbidden: Tuple[str, ...]) -> list:
    return sorted(f"{path.relative_to(ROOT)} imports {module}"
                  for path in python_files(package)
                  for module in imported_modules(path)
                  if any(module == name or module.startswith(name + ".") for name in forbidden))


@pytest.mark.parametrize("package, forbidden", [
    # The core is called by every door and calls none of them.
    ("panchayat", ("rasa", "rasa_sdk", "actions", "connectors", "nlu", "simulator", "sanic", "aiohttp", "console",
                   "flask")),
    # The staff console is a door like the chat: it calls the core, never the chat's parts.
    ("console", ("rasa", "rasa_sdk", "actions", "connectors", "nlu", "simulator")),
    # Actions talk to journeys; sessions, ORM rows and queries stay in the core.
    ("actions", ("panchayat.models", "panchayat.db", "sqlalchemy", "connectors")),
    # The channel and the notifier send and receive; the database is the core's business.
    ("connectors", ("panchayat.db", "panchayat.models", "sqlalchemy", "actions")),
    ("nlu", ("panchayat.db", "panchayat.models", "sqlalchemy", "actions", "connectors")),
])
def test_imports_point_down(package, forbidden):
    assert offending(package, forbidden) == []


@pytest.mark.parametrize("package", ["actions", "connectors"])
def test_no_session_outside_the_core(package):
    """No action, channel or notifier code opens a unit of work of its own."""
    opened = sorted(str(path.relative_to(ROOT)) for path in python_files(package)
                    if {"session_scope", "sessionmaker", "Session"} & names_used(path))
    assert opened == []


def test_the_core_has_one_way_to_open_a_unit_of_work():
    """Journeys own their transaction through `db.transaction`, not a session_scope of their own."""
    opened = sorted(str(path.relative_to(ROOT)) for path in python_files("panchayat/journeys")
                    if "session_scope" in names_used(path))
    assert opened == []
