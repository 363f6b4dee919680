"""Every package the code imports is declared in pyproject.toml.

A package that only arrives as somebody else's dependency (``httpx2`` under ``openai``,
``rich`` under ``textual``) can vanish or change major version under us with no warning; so
what ``tui/`` imports must be in ``dependencies``, and what ``tests/`` imports in those plus
the ``test`` extra.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"tui", "tests", "bench"}  # the checkout's own folders


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert match, f"unreadable requirement {requirement!r}"
        names.add(_normalize(match.group(1)))
    return names


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def imported_roots(folder: Path) -> dict[str, str]:
    """Top-level module name -> one file importing it (absolute imports only)."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(folder.parent)))
    return found


def undeclared(folder: Path, declared: set[str]) -> dict[str, str]:
    """Third-party imports of ``folder`` whose distribution is not in ``declared``."""
    distributions = importlib.metadata.packages_distributions()
    problems = {}
    for module, where in imported_roots(folder).items():
        if module in LOCAL or module in sys.stdlib_module_names or module == "__future__":
            continue
        dists = {_normalize(d) for d in distributions.get(module, [])}
        if not dists:
            problems[module] = f"imported in {where}, but no installed distribution provides it"
        elif not dists & declared:
            problems[module] = f"imported in {where}, provided by {sorted(dists)}: not declared"
    return problems


def test_the_package_declares_everything_it_imports() -> None:
    declared = _requirement_names(_project()["dependencies"])
    assert undeclared(ROOT / "tui", declared) == {}


def test_the_tests_declare_everything_they_import() -> None:
    project = _project()
    declared = _requirement_names(project["dependencies"]
                                  + project["optional-dependencies"]["test"])
    assert undeclared(ROOT / "tests", declared) == {}


def test_the_checker_catches_an_undeclared_import(tmp_path: Path) -> None:
    """The check itself can fail: httpx2 comes with openai but is not declared here."""
    (tmp_path / "module.py").write_text("import httpx2\nimport openai\n", encoding="utf-8")
    problems = undeclared(tmp_path, {"openai"})
    assert list(problems) == ["httpx2"]
