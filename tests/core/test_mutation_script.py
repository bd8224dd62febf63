"""scripts/mutation_test.py's mutator: each mutant is valid Python that differs from the
original in exactly the place and the way it says, and keeps every other line where it was."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutation_test.py"

SOURCE = '''"""A module docstring is never mutated."""
LIMIT = 64 * 1024


def check(size: int, name: str = "file") -> str:
    """Nor a function's."""
    label = f"{name} ({size})"  # f-strings are messages: left alone
    if not name.startswith("é") and size > LIMIT:
        raise ValueError(
            label
        )
    return "ok"
'''


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("mutation_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_test"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["mutation_test"]


def _by_description(mutants, description, line):
    found = [m for m in mutants if m.description == description and m.line == line]
    assert len(found) == 1, [(m.line, m.description) for m in mutants]
    return found[0]


def test_each_kind_of_mutant_is_found_where_it_applies(mutation):
    mutants = mutation.find_mutants(SOURCE)
    kinds = {(m.line, m.description) for m in mutants}
    assert {(2, "* -> /"), (2, "64 -> 65"), (2, "1024 -> 1025"), (5, "'file' -> 'XfileX'"), (8, "> -> >="),
            (8, "and -> or"), (8, "not removed"), (9, "statement deleted"), (12, "returns None"),
            (12, "'ok' -> 'XokX'"), (7, "statement deleted")} <= kinds
    assert not [m for m in mutants if m.line in (1, 6)], "docstrings are not mutated"
    assert not [m for m in mutants if m.line == 7 and m.description != "statement deleted"], "nor f-strings"
    assert [m.id for m in mutants] == list(range(1, len(mutants) + 1))


def test_a_mutant_changes_only_its_own_span_and_keeps_the_line_count(mutation):
    mutants = mutation.find_mutants(SOURCE)
    for mutant in mutants:
        mutated = mutation.apply(SOURCE, mutant)
        assert mutation.valid(mutated), (mutant.description, mutated)
        assert mutated.count("\n") == SOURCE.count("\n"), mutant.description
        changed = [i for i, (a, b) in enumerate(zip(SOURCE.splitlines(), mutated.splitlines())) if a != b]
        assert changed and changed[0] == mutant.line - 1, mutant.description
    negated = mutation.apply(SOURCE, _by_description(mutants, "not removed", 8))
    assert negated.splitlines()[7] == "    if (name.startswith('é')) and size > LIMIT:"
    bigger = mutation.apply(SOURCE, _by_description(mutants, "> -> >=", 8))  # after a 2-byte character
    assert bigger.splitlines()[7] == '    if not name.startswith("é") and (size >= LIMIT):'
    deleted = mutation.apply(SOURCE, _by_description(mutants, "statement deleted", 9)).splitlines()
    assert deleted[8].strip() == "pass" and deleted[9:11] == ["", ""] and deleted[11] == '    return "ok"'


def test_the_mutants_really_behave_differently(mutation):
    namespace: dict = {}
    exec(mutation.apply(SOURCE, _by_description(mutation.find_mutants(SOURCE), "statement deleted", 9)), namespace)
    assert namespace["check"](10**9) == "ok"  # the original raises
    with pytest.raises(ValueError):
        exec(SOURCE, namespace := {}) or namespace["check"](10**9)


def test_every_module_mapped_to_tests_exists(mutation):
    root = SCRIPT.parents[1]
    for module, tests in mutation.MODULE_TESTS.items():
        assert (root / "lenet_gui" / "core" / f"{module}.py").is_file(), module
        assert all((root / test).is_file() for test in tests), (module, tests)
