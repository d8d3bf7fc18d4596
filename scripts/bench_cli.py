"""Whole-process wall time of CLI calls on the demo ledger, as JSON (issue 18: ``ledger --help``
≤ 150 ms, ``ledger month show`` ≤ 350 ms).

    python scripts/bench_cli.py [--runs 11] [--dir DIR] [--out bench-cli.json]

``--dir``: a folder where ``scripts/demo.py`` ran (its ``ledger.sqlite3`` is read, nothing is
written to its log); without it the demo runs first in a temporary folder. Each call is a new
process of the installed ``ledger`` entry point (the interpreter's start-up included, as a
person at a terminal waits for it), run ``--runs`` times after one warm-up, one at a time;
the figures are the median and the fastest wall time and the median CPU time (user + system
of the child process, which a busy machine disturbs far less than the wall time), in ms, next
to a bare ``python -c pass`` and an ``import adapters.cli.main`` on the same machine, with the
load average before and after (the machine is shared: a load above its cores makes every wall
figure slower). ``--code DIR``: measure the code of another checkout (e.g. an older commit in
a ``git worktree``) with this script, through ``PYTHONPATH``.

The calls run with the interpreter's bytecode cache as an installed command has it: the
warm-up writes the ``.pyc`` files of the measured code (``__pycache__``, ignored by git) even
where the environment sets ``PYTHONDONTWRITEBYTECODE`` (these sessions' machine does: every
process would then compile the project's ~70 modules from source, ~60-80 ms of CPU that no
installed ``ledger`` pays).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS_MS = {"ledger --help": 150, "ledger month show 2019-07": 350, "ledger month show 2019-09": 350}


def ledger_command() -> list[str]:
    """The installed entry point beside this interpreter, else ``python -m adapters.cli.main``."""
    script = Path(sys.executable).with_name("ledger")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "adapters.cli.main"]


def calls() -> dict[str, list[str]]:
    ledger = ledger_command()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import adapters.cli.main": [sys.executable, "-c", "import adapters.cli.main"],
        "ledger --help": [*ledger, "--help"],
        "ledger month show 2019-07": [*ledger, "month", "show", "2019-07"],
        "ledger month show 2019-09": [*ledger, "month", "show", "2019-09"],
        "ledger quarter show 2019Q3": [*ledger, "quarter", "show", "2019Q3"],
        "ledger explain month 2019-09 --branch REPAIR": [*ledger, "explain", "month", "2019-09", "--branch", "REPAIR"],
    }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU time in ms of one process from start to exit; a failing call is an error."""
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed, used = (time.perf_counter() - start) * 1000, (children_cpu() - cpu) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    return elapsed, used


def measure(folder: Path, runs: int, code: Path) -> dict[str, Any]:
    dropped = {"LEDGER_DATABASE_URL", "LEDGER_USER", "PYTHONDONTWRITEBYTECODE"}  # the .pyc files as installed
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PYTHONPATH"] = str(code)
    load_before = os.getloadavg()
    figures = {}
    for name, argv in calls().items():
        timed(argv, folder, env)  # warm-up: the page cache and the .pyc files
        samples = [timed(argv, folder, env) for _ in range(runs)]
        wall = [w for w, _ in samples]
        figures[name] = {"median_ms": round(statistics.median(wall), 1), "fastest_ms": round(min(wall), 1),
                         "cpu_median_ms": round(statistics.median(c for _, c in samples), 1),
                         "target_ms": TARGETS_MS.get(name),
                         "met": None if name not in TARGETS_MS else statistics.median(wall) <= TARGETS_MS[name]}
    return {"code": str(code), "runs": runs, "cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()], "python": sys.version.split()[0],
            "calls": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--dir", type=Path, default=None, help="a folder where scripts/demo.py ran")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code is measured")
    args = parser.parse_args()
    temporary = None
    folder = args.dir
    if folder is None:
        temporary = Path(tempfile.mkdtemp(prefix="bench-cli-"))
        subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], cwd=temporary, check=True,
                       stdout=subprocess.DEVNULL)
        folder = temporary
    if not (folder / "ledger.sqlite3").is_file():
        raise SystemExit(f"{folder} has no ledger.sqlite3: run scripts/demo.py there first")
    try:
        result = measure(folder, args.runs, args.code.resolve())
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
