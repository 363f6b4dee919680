"""bench/bench_startup.py's instruction counts reach the build asked for (``--bin``).

valgrind itself is too slow for the suite (a minute a build); what can silently go wrong is
which interpreter and which checkout a count runs: these check that without valgrind.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import bench_startup


def test_the_interpreter_is_the_one_the_script_names(tmp_path: Path) -> None:
    script = tmp_path / "gpt-tui"
    script.write_text("#!/opt/venv/bin/python3\nimport sys\n", encoding="utf-8")
    assert bench_startup.script_python(script) == "/opt/venv/bin/python3"
    bare = tmp_path / "bare"
    bare.write_text("import sys\n", encoding="utf-8")
    assert bench_startup.script_python(bare) == sys.executable


def test_the_app_import_runs_the_scripts_set_up_not_its_main(tmp_path: Path) -> None:
    """A wrapper that puts another checkout first on sys.path: the app is imported from
    there, and the script's main (guarded by ``__main__``) does not run."""
    other = tmp_path / "other"
    (other / "tui" / "ui").mkdir(parents=True)
    (other / "tui" / "__init__.py").write_text("", encoding="utf-8")
    (other / "tui" / "ui" / "__init__.py").write_text("", encoding="utf-8")
    (other / "tui" / "ui" / "app.py").write_text("print('other app')\n", encoding="utf-8")
    wrapper = tmp_path / "gpt-tui"
    wrapper.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(other)!r})\n"
        "if __name__ == '__main__':\n    print('main ran')\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", bench_startup.APP_IMPORT, str(wrapper)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["other app"]
