"""Benchmark: the target list page as the directory grows (issue 9).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/lists.py \
        [N ...]          (default: 1000 1000000)

For each N: a fresh schema (the database named by DATABASE_URL; its tables are dropped), N
targets in three departments (bench/load.py's seed), then an Operator of one department
(scope: a third of the targets) opens through the application, best of 5 after one warm-up:
the first page, a page filtered by risk class, a search by USCC (equal), a USCC "starts with"
(the search form's first choice, 14 characters) and a search by name (contains). Prints milliseconds per page and, for the last N, the ratio to the first N, with a line
`RESULT lists_<page> ours=<s at the last N> baseline=<s at the first N> ratio=<x> goal=3` per
page (bench/run.py collects them). Results are recorded in docs/performance.md; the goal is
≤ 3× the 1,000-target time.
"""

from __future__ import annotations

import re
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402
from load import seed, signed_in  # noqa: E402

GOAL = 3  # each page at the last N within 3× its time at the first N


def pages(data) -> dict[str, str]:
    # Operator "operator_a" sees the targets i with i % 3 == 0.
    middle = (data["n"] // 6) * 3 or 3
    return {
        "first page": "/targets/list/",
        "filtered (risk class)": "/targets/list/?_flt_3_risk_class=C",
        "search by USCC": "/targets/list/?_flt_3_uscc=" + data["codes"][middle - 1],
        "USCC starts with": "/targets/list/?_flt_0_uscc=" + data["codes"][middle - 1][:14],
        "search by name": "/targets/list/?_flt_2_name="
        + urllib.parse.quote(f"基准对象{middle}有限"),
    }


def measure(n: int) -> dict[str, float]:
    app, _workdir = fresh_app()
    app.config["WTF_CSRF_ENABLED"] = False
    started = time.perf_counter()
    data = seed(app, n)
    print(f"seeded {n:,} targets in {time.perf_counter() - started:.0f} s")
    client = signed_in(app, "operator_a")
    results = {}
    for name, url in pages(data).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        body = response.get_data(as_text=True)
        assert "基准对象" in body, name  # the page lists targets
        times = []
        for _ in range(5):
            begun = time.perf_counter()
            client.get(url).get_data()
            times.append(time.perf_counter() - begun)
        results[name] = min(times) * 1000
    return results


def main(sizes: list[int]) -> None:
    table = {n: measure(n) for n in sizes}
    first = sizes[0]
    header = "| page | " + " | ".join(f"{n:,} targets (ms)" for n in sizes)
    print("\n" + header + f" | ratio {sizes[-1]:,} / {first:,} |")
    print("|---" * (len(sizes) + 2) + "|")
    for name in table[first]:
        cells = " | ".join(f"{table[n][name]:.0f}" for n in sizes)
        ratio = table[sizes[-1]][name] / table[first][name]
        print(f"| {name} | {cells} | {ratio:.1f}× |")
    if len(sizes) > 1:
        print()
        for name in table[first]:
            ours, baseline = table[sizes[-1]][name] / 1000, table[first][name] / 1000
            key = "lists_" + re.sub(r"\W+", "_", name).strip("_")
            print(
                f"RESULT {key} ours={ours:.4f} baseline={baseline:.4f} "
                f"ratio={ours / baseline:.2f} goal={GOAL}"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 1_000_000])
