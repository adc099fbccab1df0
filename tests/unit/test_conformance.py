"""Registry conformance: IDs, documentation sections, fixtures, and checks that only read through the Host."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from kerncheck import registry
from tests.conftest import FIXTURE_HOSTS, REPO

CHECKS = registry.load_all()
CHECK_DIR = REPO / "src" / "kerncheck" / "checks"
# Modules that touch the machine; checks must go through ctx.host instead.
FORBIDDEN_MODULES = {"os", "subprocess", "pathlib", "glob", "shutil", "socket", "urllib", "io", "tempfile",
                     "fcntl", "mmap", "ctypes", "http", "requests"}
FORBIDDEN_CALLS = {"open", "exec", "eval", "__import__", "compile"}


def test_check_ids_are_well_formed() -> None:
    assert CHECKS, "no checks registered"
    for check_id, spec in CHECKS.items():
        assert spec.id == check_id
        assert len(check_id) == 5 and check_id.startswith("KC") and check_id[2:].isdigit()
        assert 0 < len(spec.title) <= 60, f"{check_id}: a short title, please"


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        registry.check(id=next(iter(CHECKS)), title="dup", severity=registry.Severity.INFO)(lambda ctx: [])


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_docs_have_every_section(check_id: str) -> None:
    doc = CHECKS[check_id].doc
    assert doc.summary, f"{check_id} has no summary line"
    for section in registry.SECTIONS:
        assert doc.sections.get(section, "").strip(), f"{check_id} lacks '{section}:'"


def test_every_check_has_a_fixture() -> None:
    covered: set[str] = set()
    for expected in FIXTURE_HOSTS.glob("*/kerncheck-expected.json"):
        covered |= set(json.loads(expected.read_text()))
    missing = sorted(set(CHECKS) - covered)
    assert not missing, f"checks without a fixture host listing them in kerncheck-expected.json: {missing}"


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FORBIDDEN_MODULES:
            found.append(f"from {node.module} import …")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            found.append(f"{node.func.id}()")
    return [f"{path.name}:{v}" for v in found]


@pytest.mark.parametrize("module", sorted(p.name for p in CHECK_DIR.glob("*.py")))
def test_checks_read_only_through_the_host(module: str) -> None:
    assert _violations(CHECK_DIR / module) == []


def test_the_ast_guard_catches_direct_access(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nimport subprocess as sp\nfrom pathlib import Path\nx = open('/proc/cmdline')\n")
    assert len(_violations(bad)) == 4


def test_explain_works_for_every_check() -> None:
    for check_id in CHECKS:
        text = registry.lookup(check_id.lower()).render()
        assert text.startswith(f"{check_id}: ")
        assert "Why it matters:" in text
