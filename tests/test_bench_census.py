"""bench/bench_loop_census.py's hook counts an event loop's callbacks in the process it is
loaded into, and only when asked; the report turns two of its totals into rates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import bench_loop_census

HOOK = Path(bench_loop_census.__file__).parent / "census_hook"

PROGRAM = """
import asyncio, threading, time

async def tick():
    for _ in range(30):
        busy = time.thread_time() + 0.001
        while time.thread_time() < busy:
            pass
        await asyncio.sleep(0.02)

asyncio.run(tick())
names = sorted(thread.name for thread in threading.enumerate())
time.sleep(1.3)  # the census is written once a second
print(names)
"""


def run(folder: Path, census: Path | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "GPT_TUI_CENSUS"}
    env["PYTHONPATH"] = str(HOOK)
    if census is not None:
        env["GPT_TUI_CENSUS"] = str(census)
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_the_hook_counts_the_loops_callbacks_when_asked(tmp_path: Path) -> None:
    census = tmp_path / "census.json"
    threads = run(tmp_path, census)
    assert "census-write" in threads
    data = json.loads(census.read_text(encoding="utf-8"))
    assert data["turns"] >= 30
    ticks = [entry for name, entry in data["callbacks"].items() if name.startswith("task tick")]
    assert ticks and ticks[0][0] >= 30 and ticks[0][1] >= 0.025


def test_the_hook_does_nothing_unless_asked(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    threads = run(folder, None)
    assert "census" not in threads
    assert not list(folder.iterdir())


def test_the_report_gives_rates_per_second_of_the_span(capsys) -> None:
    def totals(time: float, scale: int) -> dict:
        return {"time": time, "turns": 100 * scale, "layout": 2 * scale,
                "layout_cpu": 0.03 * scale, "paint": 4 * scale, "paint_cpu": 0.016 * scale,
                "flush": 6 * scale, "flush_cpu": 0.006 * scale,
                "callbacks": {"task redraw": [10 * scale, 0.05 * scale]}}

    hertz = os.sysconf("SC_CLK_TCK")
    bench_loop_census.report(totals(0.0, 1), totals(2.0, 3), {1: 0, 2: 0},
                             {1: hertz // 5, 2: hertz // 50}, main_tid=1, tps=20)
    out = capsys.readouterr().out
    assert "main thread 100.0 ms/s (5.00 ms a token)" in out
    assert "event-loop turns 100.0/s" in out
    assert "screen layouts    2.00/s, 15.00 ms each,  30.0 ms/s" in out
    assert "reply redraws     6.00/s,  1.00 ms each,   6.0 ms/s" in out
    assert "50.00   10.0   5.00  task redraw" in out
