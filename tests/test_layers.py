"""The layering rules, checked: the core never imports Textual, widgets never do SQL or HTTP."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tui"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_core_never_imports_textual_or_the_ui():
    offenders = {}
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        bad = {n for n in imported_modules(path)
               if n.split(".")[0] in {"textual", "rich"} or n.startswith("tui.ui")}
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_core_imports_cleanly_without_loading_textual():
    modules = sorted(p.stem for p in (PACKAGE / "core").glob("*.py") if p.stem != "__init__")
    code = ("import sys\n"
            + "".join(f"import tui.core.{m}\n" for m in modules)
            + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui.ui'))\n"
            + "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ui_runs_no_sql_and_no_http():
    offenders = {}
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        bad = roots(imported_modules(path)) & {"sqlite3", "sqlite_utils", "openai", "httpx",
                                               "httpx2"}
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = bad
    assert offenders == {}
