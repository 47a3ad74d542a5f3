"""Benchmark: every staff page against plain FAB's list on the same data (issue 18).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/pages.py \
        [--rows 1000] [--requests 30] [--quick]

A fresh schema (the database named by DATABASE_URL; its tables are dropped), bench/load.py's
bureau (three departments, an Operator and a Leader each, N targets and N published blacklist
listings), and about N rows more in each main table: inspection items, inspectors, conflicts
of interest, tasks over ten years (a tenth of them this year, a third of those waiting to be
drawn), a target draw per task with a drawn target and its inspection record. The baseline is
a plain FAB `ModelView` on the Target model (FAB's SQLAInterface, FAB's count, FAB's widgets)
with the target list's columns and page size, registered in the same application. Every page
of the menu that the Operator of the first department may open (pages only the Leader may
open: as that Leader), the home page and the dashboard are requested N times, alternating
with the baseline, after one warm-up each; the medians are compared. Prints a table and, per
page, `RESULT page_<name> ours=<s> baseline=<s> ratio=<x.xx> goal=1.0`. `--quick`: 200 rows,
10 requests. Results are recorded in docs/performance.md ("Pages").
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402
from load import seed, signed_in  # noqa: E402

GOAL = 1.0
BASELINE_URL = "/baselinetargets/list/"


def register_baseline(app) -> None:
    """Plain FAB: a ModelView with FAB's own interface, readable with the Target permission."""
    from flask_appbuilder import ModelView
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.directory.models import Target
    from app.directory.views import TargetView

    class BaselineTargetView(ModelView):
        route_base = "/baselinetargets"
        datamodel = SQLAInterface(Target)
        class_permission_name = TargetView.class_permission_name
        method_permission_name = {"list": "read", "show": "read"}
        include_route_methods = {"list"}
        # The target list's columns that FAB can show by itself (the related area and
        # department included); not our computed identifier column.
        list_columns = [c for c in TargetView.list_columns if hasattr(Target, c)]
        list_columns.remove("identifier_display")
        page_size = TargetView.page_size

    with app.app_context():
        app.appbuilder.add_view_no_menu(BaselineTargetView)


def seed_more(app, n: int, dept_ids: list[int]) -> None:
    """About n rows in each main table besides targets and listings (Core inserts)."""
    from sqlalchemy import insert

    from app.directory.models import Conflict, InspectionItem, Inspector
    from app.draws.models import Draw, DrawnTarget
    from app.extensions import db
    from app.inspections.models import InspectionRecord
    from app.planning.models import SpotCheckTask
    from app.security.system_user import acting_as_system

    today = dt.date.today()
    stamp = dt.datetime.now()
    with app.app_context(), acting_as_system() as system:
        audit = {
            "created_on": stamp,
            "changed_on": stamp,
            "created_by_fk": system.id,
            "changed_by_fk": system.id,
        }
        with db.engine.begin() as conn:
            conn.execute(
                insert(InspectionItem),
                [
                    {
                        "id": i,
                        "department_id": dept_ids[i % 3],
                        "code": f"BENCH-{i:05d}",
                        "category": "水资源管理",
                        "name": f"基准检查事项{i}",
                        "target_type": "企业",
                        "method": "现场检查",
                        "inspecting_body": "东胜区水利局",
                        "status": "published",
                        "version": 1,
                        "published_on": today,
                        **audit,
                    }
                    for i in range(1, n + 1)
                ],
            )
            conn.execute(
                insert(Inspector),
                [
                    {
                        "id": i,
                        "department_id": dept_ids[i % 3],
                        "name": f"检查员{i}",
                        "certificate_no": f"蒙执{i:08d}",
                        "certificate_expiry": today + dt.timedelta(days=365),
                        "status": "在岗",
                        **audit,
                    }
                    for i in range(1, n + 1)
                ],
            )
            conn.execute(
                insert(Conflict),
                [
                    {
                        "inspector_id": i,
                        "target_id": i,
                        "reason": "亲属关系",
                        "valid_from": today,
                        **audit,
                    }
                    for i in range(1, n + 1)
                ],
            )
            years = 10
            tasks = []
            for i in range(1, n + 1):
                year = today.year - (i % years)
                current = year == today.year
                status = ("planned" if i % 3 == 0 else "inspecting") if current else "archived"
                tasks.append(
                    {
                        "id": i,
                        "year": year,
                        "seq": i,
                        "number": f"东水抽〔{year}〕{i}号",
                        "name": f"{year}年基准专项抽查{i}",
                        "department_id": dept_ids[i % 3],
                        "status": status,
                        **audit,
                    }
                )
            conn.execute(insert(SpotCheckTask), tasks)
            drawn = [t for t in tasks if t["status"] != "planned"]
            conn.execute(
                insert(Draw),
                [
                    {
                        "id": t["id"],
                        "uid": f"bench-{t['id']}",
                        "task_id": t["id"],
                        "kind": "targets",
                        "status": "done",
                        "active_key": f"{t['id']}:targets",
                        "server_secret": "0" * 64,
                        "commitment": "0" * 64,
                        "pool_hash": "0" * 64,
                        "params_hash": "0" * 64,
                        "params": "{}",
                        "pool": "[]",
                        **audit,
                    }
                    for t in drawn
                ],
            )
            conn.execute(
                insert(DrawnTarget),
                [
                    {
                        "id": t["id"],
                        "draw_id": t["id"],
                        "task_id": t["id"],
                        "target_id": t["id"],
                        "stratum": "B",
                        "rank": 1,
                    }
                    for t in drawn
                ],
            )
            conn.execute(
                insert(InspectionRecord),
                [
                    {
                        "task_id": t["id"],
                        "target_id": t["id"],
                        "drawn_target_id": t["id"],
                        "target_name": f"东胜区基准对象{t['id']}有限公司",
                        "target_type": "企业",
                        "status": "reviewed" if t["status"] == "archived" else "draft",
                        **audit,
                    }
                    for t in drawn
                ],
            )
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                for table in (
                    "inspection_item",
                    "inspector",
                    "spot_check_task",
                    "draw",
                    "drawn_target",
                ):
                    conn.exec_driver_sql(
                        f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"
                    )
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")


def staff_pages(app) -> list[str]:
    """The home page, the dashboard and every page the menu links to (not the public site)."""
    from app import menu_urls

    with app.test_request_context():
        links = menu_urls(app.appbuilder)
    pages = ["/", "/dashboard/"]
    return pages + [url for url in links if url not in pages and not url.startswith("/public")]


def page_name(url: str) -> str:
    parts = [p for p in url.strip("/").split("/") if p and p != "list"]
    return "_".join(parts).replace("-", "_") or "home"


def timed(client, url: str) -> float:
    begun = time.perf_counter()
    response = client.get(url)
    response.get_data()
    elapsed = time.perf_counter() - begun
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="200 rows, 10 requests")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.requests = 200, 10
    app, _workdir = fresh_app()
    app.config["WTF_CSRF_ENABLED"] = False
    register_baseline(app)
    with app.app_context():
        from app.security.cli import sync_security

        sync_security()  # the baseline's permission and menu entry
    started = time.perf_counter()
    seed(app, args.rows)
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.security.models import Department

        dept_ids = list(
            db.session.scalars(
                select(Department.id)
                .where(Department.code.in_(["A", "B", "C"]))
                .order_by(Department.code)
            )
        )
    seed_more(app, args.rows, dept_ids)
    print(f"seeded {args.rows:,} rows per main table in {time.perf_counter() - started:.0f} s")

    operator = signed_in(app, "operator_a")
    leader = signed_in(app, "leader_a")
    rows = []
    for url in staff_pages(app):
        client = operator
        if client.get(url).status_code != 200:
            client = leader
            if client.get(url).status_code != 200:
                continue  # the Admin's pages (users, roles, calendar): not staff pages
        timed(client, url)
        timed(client, BASELINE_URL)
        ours, baseline = [], []
        for _ in range(args.requests):
            baseline.append(timed(client, BASELINE_URL))
            ours.append(timed(client, url))
        rows.append(
            (
                page_name(url),
                url,
                "operator" if client is operator else "leader",
                statistics.median(ours),
                statistics.median(baseline),
            )
        )

    print(f"\n{args.rows:,} rows per table, median of {args.requests} requests\n")
    print("| page | as | ours (ms) | plain FAB list (ms) | ratio |")
    print("|---|---|---|---|---|")
    for _name, url, who, ours, baseline in rows:
        print(
            f"| `{url}` | {who} | {ours * 1000:.1f} | {baseline * 1000:.1f} | "
            f"{ours / baseline:.2f} |"
        )
    print()
    for name, _url, _who, ours, baseline in rows:
        ratio = ours / baseline
        print(
            f"RESULT page_{name} ours={ours:.4f} baseline={baseline:.4f} "
            f"ratio={ratio:.2f} goal={GOAL}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
