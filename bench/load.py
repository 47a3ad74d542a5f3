"""Benchmark: 50 concurrent users against gunicorn with 4 workers (issue 9).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/load.py \
        [--users 50] [--seconds 60] [--targets 100000]

Builds a fresh schema in the database named by DATABASE_URL (its tables are dropped), seeds a
bureau with three departments, one Operator and one Leader each, N targets (100,000) spread over
the departments with Core bulk inserts, and 1,000 published blacklist listings; starts
`gunicorn -c gunicorn.conf.py run:app` with 4 workers on 127.0.0.1; then 50 simulated users
(threads, each with its own signed-in session, staff of a random department) browse for the
given time, each picking at random: the target list (first page), a filtered list (risk class),
a search by USCC, a search by name, a target's page, the blacklist, the dashboard, the public
blacklist and its CSV export. Prints per page: requests, errors, p50 and p95 in milliseconds,
and the error rate. Results are recorded in docs/performance.md. Login throttling is turned off
for the run (50 sign-ins from one address); nothing else differs from production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Passw0rd-2026"


def seed(app, n_targets: int) -> dict:
    from sqlalchemy import insert

    from app.core.identifiers import USCC
    from app.credit.models import BlacklistEntry
    from app.directory.models import Target
    from app.extensions import db
    from app.security import roles
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    def uscc(i: int) -> str:
        body = f"91150602{i:09d}"
        return body + USCC.calc_check_digit(body)

    with app.app_context(), acting_as_system() as system:
        bureau = Department(code="BUREAU", name="东胜区水利局", kind="bureau", sort_order=0)
        departments = [
            Department(code=c, name=n, kind="section", parent=bureau, sort_order=i)
            for i, (c, n) in enumerate(
                [("A", "水资源管理科"), ("B", "河湖管理科"), ("C", "水土保持科")], start=1
            )
        ]
        db.session.add_all([bureau, *departments])
        db.session.commit()
        sm = app.appbuilder.sm
        users = []
        for index, dept in enumerate(departments):
            for role, prefix in ((roles.OPERATOR, "operator"), (roles.LEADER, "leader")):
                name = f"{prefix}_{dept.code.lower()}"
                user = sm.add_user(
                    username=name,
                    first_name=name,
                    last_name="基准",
                    email=f"{name}@bench.invalid",
                    role=sm.find_role(role),
                    password=PASSWORD,
                )
                user.departments = [dept]
                users.append((name, index))
        db.session.commit()
        dept_ids = [d.id for d in departments]
        stamp = dt.datetime.now()
        audit = {
            "created_on": stamp,
            "changed_on": stamp,
            "created_by_fk": system.id,
            "changed_by_fk": system.id,
        }
        codes = []
        with db.engine.begin() as conn:
            for start in range(1, n_targets + 1, 10_000):
                rows = []
                for i in range(start, min(start + 10_000, n_targets + 1)):
                    code = uscc(i)
                    codes.append(code)
                    rows.append(
                        {
                            "id": i,
                            "department_id": dept_ids[i % 3],  # user (name, i % 3) sees it
                            "target_type": "企业",
                            "name": f"东胜区基准对象{i}有限公司",
                            "uscc": code,
                            "registration_status": "存续",
                            "risk_class": "ABCD"[i % 4],
                            "listed_on": stamp.date() if i <= 1000 else None,
                            **audit,
                        }
                    )
                conn.execute(insert(Target), rows)
            conn.execute(
                insert(BlacklistEntry),
                [
                    {
                        "target_id": i,
                        "department_id": dept_ids[i % 3],
                        "basis": "refused",
                        "status": "listed",
                        "origin": "operator",
                        "active_key": str(i),
                        "decision_number": f"东水信〔2027〕{i}号",
                        "listed_on": stamp.date(),
                        "period_months": 36,
                        "published_on": stamp.date(),
                        **audit,
                    }
                    for i in range(1, 1001)
                ],
            )
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("SELECT setval('target_id_seq', (SELECT max(id) FROM target))")
            # What autovacuum does to a directory in steady state: statistics and the
            # visibility map (index-only scans for counts).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
    return {"users": users, "codes": codes, "n": n_targets}


def signed_in(app, username: str):
    """A test client of `app` signed in as one of the seeded users (bench/lists.py, pages.py)."""
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = client.post(
        "/login/",
        data={
            "username": username,
            "password": PASSWORD,
            **({"csrf_token": token.group(1)} if token else {}),
        },
    )
    assert response.status_code == 302, response.status_code
    assert "/login" not in response.headers["Location"], username
    return client


_local = threading.local()


def _own(data) -> int:
    """A target id of the current user's department (ids i with i % 3 == its index)."""
    n = random.randint(0, data["n"] // 3 - 1) * 3 + _local.dept_index
    return n if n >= 1 else 3


PAGES = {
    "target list": lambda d: "/targets/list/",
    "target list, filtered": lambda d: "/targets/list/?_flt_3_risk_class=" + random.choice("ABCD"),
    "search by USCC": lambda d: "/targets/list/?_flt_3_uscc=" + d["codes"][_own(d) - 1],
    "search by name": lambda d: (
        "/targets/list/?_flt_2_name=" + urllib.parse.quote(f"基准对象{_own(d)}有限")
    ),
    "target page": lambda d: f"/targets/show/{_own(d)}",
    "blacklist": lambda d: "/blacklist/list/",
    "dashboard": lambda d: "/dashboard/",
    "public blacklist": lambda d: "/public/blacklist?page=" + str(random.randint(1, 50)),
    "public CSV export": lambda d: "/public/blacklist?format=csv",
}


class User:
    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = self.opener.open(base + "/login/", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrf_token": token}
        ).encode()
        self.opener.open(base + "/login/", body, timeout=30).read()

    def get(self, path: str) -> tuple[int, float]:
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        return status, time.perf_counter() - started


def run(base: str, data: dict, n_users: int, seconds: float) -> dict:
    results: dict[str, list] = {name: [] for name in PAGES}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work():
        username, _local.dept_index = random.choice(data["users"])
        user = User(base, username)
        while time.monotonic() < deadline:
            name = random.choice(list(PAGES))
            status, elapsed = user.get(PAGES[name](data))
            with lock:
                results[name].append((status, elapsed))

    threads = [threading.Thread(target=work) for _ in range(n_users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def report(results: dict) -> None:
    total = errors = 0
    print("| page | requests | errors | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for name, samples in results.items():
        times = sorted(e for _s, e in samples)
        bad = sum(1 for s, _e in samples if s != 200)
        total += len(samples)
        errors += bad
        if not times:
            continue
        p50 = statistics.median(times) * 1000
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))] * 1000
        print(f"| {name} | {len(samples)} | {bad} | {p50:.0f} | {p95:.0f} |")
    print(f"\n{total} requests, {errors} errors ({100 * errors / max(total, 1):.2f} %)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--targets", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    app, workdir = fresh_app()
    started = time.perf_counter()
    data = seed(app, args.targets)
    print(f"seeded {args.targets:,} targets in {time.perf_counter() - started:.0f} s")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "INSTANCE_PATH": str(workdir),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "4",
        "GUNICORN_ACCESS_LOG": os.devnull,
        "RATELIMIT_ENABLED": "false",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "run:app"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/public/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        results = run(base, data, args.users, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{args.users} users, {args.seconds:.0f} s, gunicorn 4 workers\n")
    report(results)


if __name__ == "__main__":
    main()
