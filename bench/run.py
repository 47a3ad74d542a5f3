"""Every benchmark comparison in one command, with one table of the goals.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/run.py \
        [--quick] [--only NAME ...]

Runs each comparison below as its own process (the database named by DATABASE_URL, default a
temporary SQLite file; every script drops its tables), with the sizes the goals are stated for,
or small ones with `--quick` (minutes instead of an hour: a check that the scripts run and a
rough reading, not a measurement of the goals). Collects from their output the lines

    RESULT <name> ours=<s> baseline=<s> ratio=<x> goal=<max ratio>
    RESULT <name> ours_mb=<MB> goal_mb=<MB>

prints them as one table with each goal met or missed, and exits 1 when a goal is missed or a
script failed (or printed no RESULT line). A script's own output is kept in
bench-output/<script>.log.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# script, arguments for the goals, arguments with --quick. A script with a memory goal is run
# a second time with --memory (memory is never measured in the timed run).
COMPARISONS = [
    ("import_targets.py", ["100000"], ["2000"]),
    ("import_targets.py", ["100000", "--memory"], ["2000", "--memory"]),
    ("import_jobs.py", ["100000"], ["2000"]),
    ("export.py", ["1000000"], ["2000"]),
    ("draw.py", ["1000000"], ["10000"]),
    ("lists.py", ["1000", "1000000"], ["1000", "10000"]),
    ("pages.py", ["--rows", "1000"], ["--quick"]),
]

TIME = re.compile(
    r"^RESULT (?P<name>\S+) ours=(?P<ours>[\d.]+) baseline=(?P<baseline>[\d.]+) "
    r"ratio=(?P<ratio>[\d.]+) goal=(?P<goal>[\d.]+)\s*$"
)
MEMORY = re.compile(r"^RESULT (?P<name>\S+) ours_mb=(?P<ours>[\d.]+) goal_mb=(?P<goal>[\d.]+)\s*$")


def parse(output: str) -> list[dict]:
    """The RESULT lines of a script's output."""
    results = []
    for line in output.splitlines():
        if match := TIME.match(line):
            ratio, goal = float(match["ratio"]), float(match["goal"])
            results.append(
                {
                    "name": match["name"],
                    "measured": f"{float(match['ours']):.3f} s / {float(match['baseline']):.3f} s",
                    "value": f"{ratio:.2f}×",
                    "goal": f"≤ {goal:g}×",
                    "met": ratio <= goal,
                }
            )
        elif match := MEMORY.match(line):
            ours, goal = float(match["ours"]), float(match["goal"])
            results.append(
                {
                    "name": match["name"],
                    "measured": f"{ours:.1f} MB",
                    "value": f"{ours:.1f} MB",
                    "goal": f"≤ {goal:g} MB",
                    "met": ours <= goal,
                }
            )
    return results


def run(script: str, arguments: list[str], logs: Path) -> tuple[int, str, float]:
    log = logs / (Path(script).stem + ("-memory" if "--memory" in arguments else "") + ".log")
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *arguments],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log.write_text(process.stdout, encoding="utf-8")
    return process.returncode, process.stdout, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument(
        "--only", nargs="*", default=None, help="scripts to run (import_targets, pages, ...)"
    )
    args = parser.parse_args(argv)
    logs = ROOT / "bench-output"
    logs.mkdir(exist_ok=True)
    rows, failures = [], []
    for script, full, quick in COMPARISONS:
        if args.only and Path(script).stem not in args.only:
            continue
        arguments = quick if args.quick else full
        command = " ".join(["bench/" + script, *arguments])
        print(f"running {command} ...", flush=True)
        code, output, seconds = run(script, arguments, logs)
        results = parse(output)
        print(f"  {len(results)} result(s), exit {code}, {seconds:.0f} s", flush=True)
        if code != 0 or not results:
            failures.append(f"{command}: exit {code}, {len(results)} RESULT line(s)")
        rows.extend(results)
    database = os.environ.get("DATABASE_URL", "sqlite (temporary file)").split("@")[-1]
    print(f"\n{'quick sizes' if args.quick else 'goal sizes'}, database {database}\n")
    print("| goal | measured (ours / baseline) | value | goal | met |")
    print("|---|---|---|---|---|")
    for row in rows:
        met = "yes" if row["met"] else "**no**"
        print(f"| {row['name']} | {row['measured']} | {row['value']} | {row['goal']} | {met} |")
    missed = [row["name"] for row in rows if not row["met"]]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} goals met")
    if missed:
        print("missed: " + ", ".join(missed))
    for failure in failures:
        print("failed: " + failure)
    return 1 if missed or failures else 0


if __name__ == "__main__":
    sys.exit(main())
