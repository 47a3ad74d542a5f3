"""工作台 (the 待办 section of the home page, app/dashboard/workbench.py): each role's to-dos,
counted in SQL within the user's department scope, with links to the exact rows."""

import datetime as dt

from flask import g
from sqlalchemy import select

from app.core.calendar.models import CalendarYear
from app.dashboard.workbench import workbench
from app.directory.models import InspectionItem, Inspector
from app.draws import services as draws
from app.draws.models import Draw
from app.extensions import db
from app.inspections import services as inspections
from app.inspections.models import InspectionRecord, InspectionSummary
from app.planning import services as planning
from app.planning.models import AnnualPlan, PlanLine, SpotCheckTask
from tests.credit.conftest import operator_a2, refused  # noqa: F401  (fixtures)
from tests.directory.conftest import acting, new_item
from tests.inspections.conftest import enter_all, published_task
from tests.planning.test_tasks import _out_of_plan


def board(app, username, today=None) -> dict:
    """The user's to-dos by key (only those with work)."""
    with app.test_request_context("/"):
        user = app.appbuilder.sm.find_user(username=username)
        g.user = user
        return {t.key: t for s in workbench(user, today) for t in s.todos}


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _submit(app, plan_id):
    with acting(app, "operator_a"):
        planning.submit_plan(db.session.get(AnnualPlan, plan_id))
        db.session.commit()


def _publish(app, plan_id):
    _submit(app, plan_id)
    with acting(app, "leader_a"):
        planning.approve_plan(db.session.get(AnnualPlan, plan_id))
        db.session.commit()
    with acting(app, "operator_a"):
        planning.publish_plan(db.session.get(AnnualPlan, plan_id))
        db.session.commit()


def _b_work(app, world):
    """Department B's own work: a draft item, a submitted plan, a pending check outside the plan."""
    with acting(app, "operator_b"):
        new_item("B-009", world.dept_b)
        item = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "B-001"))
        plan_b = AnnualPlan(
            department_id=world.dept_b, year=2027, title="河湖管理科2027年度抽查计划"
        )
        plan_b.lines.append(
            PlanLine(name="河道采砂检查", method="实地检查", items=[item], ratio_b=5, ratio_c=5)
        )
        db.session.add(plan_b)
        db.session.commit()
        planning.submit_plan(plan_b)
        task = planning.create_out_of_plan_task(
            _out_of_plan(world, None, name="河湖举报核查", department_id=world.dept_b, items=[item])
        )
        db.session.add(task)
        db.session.commit()


# --- Operator ---------------------------------------------------------------------------------


def test_operator_sees_drafts_with_links(app, world, directory, plan):
    todos = board(app, "operator_a")
    items = todos["draft_items"]
    assert items.count == 1
    assert items.rows[0].url == f"/items/show/{directory.draft_a}"
    assert "A-002" in items.rows[0].text
    plans = todos["draft_plans"]
    assert plans.count == 1 and plans.rows[0].url == f"/plans/show/{plan}"
    assert "2027-02-28" in plans.rows[0].note  # the R9.1 deadline
    assert "returned_plans" not in todos


def test_a_plan_returned_by_the_leader_waits_for_the_operator_with_the_comment(
    app, world, directory, plan
):
    _submit(app, plan)
    assert "plans_to_approve" in board(app, "leader_a")
    assert "draft_plans" not in board(app, "operator_a")
    with acting(app, "leader_a"):
        planning.return_plan(db.session.get(AnnualPlan, plan), "请补充河湖管理事项")
        db.session.commit()
    returned = board(app, "operator_a")["returned_plans"]
    assert returned.count == 1
    assert returned.rows[0].url == f"/plans/show/{plan}"
    assert "请补充河湖管理事项" in returned.rows[0].note
    assert "plans_to_approve" not in board(app, "leader_a")


def test_an_item_change_refused_by_the_leader_comes_back_to_the_operator(app, world, directory):
    from app.directory import services

    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        values = item.field_values()
        values["frequency"] = "每年2次"
        revision = services.propose_revision(item, values, "提高检查频次")
        db.session.commit()
        revision_id = revision.id
    pending = board(app, "leader_a")["item_changes"]
    assert pending.count == 1 and pending.rows[0].url == f"/item-revisions/show/{revision_id}"
    with acting(app, "leader_a"):
        from app.directory.models import ItemRevision

        services.reject_revision(db.session.get(ItemRevision, revision_id), "频次依据不足")
        db.session.commit()
    returned = board(app, "operator_a")["returned_items"]
    assert returned.count == 1
    assert returned.rows[0].url == f"/items/show/{directory.item_a}"
    assert "频次依据不足" in returned.rows[0].note
    assert "item_changes" not in board(app, "leader_a")


def test_tasks_to_draw_then_records_to_review(app, world, directory, plan):
    task_id = published_task(app, world, directory, plan)
    todos = board(app, "operator_a")
    assert todos["targets_to_draw"].count == 1
    assert todos["targets_to_draw"].rows[0].url == f"/tasks/show/{task_id}"
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, task_id)
        draw = draws.start_draw(task, "target")
        db.session.commit()
        draws.complete_draw(draw)
        db.session.commit()
    todos = board(app, "operator_a")
    assert "targets_to_draw" not in todos
    assert todos["inspectors_to_draw"].count == 1


def test_records_to_review_are_counted_per_task(app, world, inspected):
    enter_all(app, inspected)
    review = board(app, "operator_a")["records_to_review"]
    assert review.count == 2
    assert review.rows[0].url == f"/tasks/show/{inspected.task}"
    assert review.more == 0  # one task holds both
    assert "2" in review.rows[0].note
    assert "records_to_review" not in board(app, "operator_b")


def test_an_inspector_who_left_makes_a_substitute_to_draw(app, world, inspected):
    assert "substitutes" not in board(app, "operator_a")
    with acting(app, "operator_a"):
        inspector = db.session.scalar(select(Inspector).where(Inspector.name == "王建国"))
        inspector.status = "离岗"
        db.session.commit()
        draw_id = db.session.scalar(
            select(Draw.id).where(Draw.task_id == inspected.task, Draw.kind == "inspector")
        )
    todo = board(app, "operator_a")["substitutes"]
    assert todo.count == 2  # in both groups
    assert todo.rows[0].url == f"/draws/show/{draw_id}"
    assert "substitutes" not in board(app, "operator_b")


# --- Leader -----------------------------------------------------------------------------------


def test_leader_sees_every_approval_waiting_in_scope(app, world, directory, plan):
    _submit(app, plan)
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        task = planning.create_out_of_plan_task(_out_of_plan(world, directory, items=[item]))
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    todos = board(app, "leader_a")
    assert todos["plans_to_approve"].rows[0].url == f"/plans/show/{plan}"
    assert todos["tasks_to_approve"].rows[0].url == f"/tasks/show/{task_id}"
    assert "群众举报超许可取水" in todos["tasks_to_approve"].rows[0].note
    assert todos["items_to_publish"].count == 1
    with acting(app, "leader_a"):
        planning.decide_out_of_plan_task(db.session.get(SpotCheckTask, task_id), False, "证据不足")
        db.session.commit()
    back = board(app, "operator_a")["returned_tasks"]
    assert back.rows[0].url == f"/tasks/show/{task_id}" and "证据不足" in back.rows[0].note
    assert "tasks_to_approve" not in board(app, "leader_a")


def test_leader_sees_summaries_to_approve(app, world, inspected):
    ids = enter_all(app, inspected)
    with acting(app, "operator_a"):
        for record_id in ids:
            inspections.review_record(db.session.get(InspectionRecord, record_id))
        db.session.commit()
    write = board(app, "inspector_a")["summaries_to_write"]
    assert write.count == 1 and write.rows[0].url == "/my-assignments/"
    with acting(app, "inspector_a"):
        summary = inspections.open_summary(db.session.get(SpotCheckTask, inspected.task))
        for name in ("check_period", "content", "situation", "opinions"):
            setattr(summary, name, "已完成")
        inspections.submit_summary(summary)
        db.session.commit()
        summary_id = summary.id
    assert "summaries_to_write" not in board(app, "inspector_a")
    todo = board(app, "leader_a")["summaries_to_approve"]
    assert todo.count == 1 and todo.rows[0].url == f"/summaries/show/{summary_id}"
    with acting(app, "leader_a"):
        inspections.decide_summary(db.session.get(InspectionSummary, summary_id), False, "补充问题")
        db.session.commit()
    again = board(app, "inspector_a")["summaries_to_write"]
    assert again.rows[0].url == f"/summaries/show/{summary_id}" and "补充问题" in again.rows[0].note


# --- Inspector --------------------------------------------------------------------------------


def test_inspector_sees_records_to_enter_with_working_days_left(app, world, inspected):
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, inspected.task)
        task.window_end = dt.date(2027, 3, 31)
        db.session.commit()
    today = dt.date(2027, 3, 22)  # a Monday: 23..26, 29..31 are seven working days
    todo = board(app, "inspector_a", today)["records_to_enter"]
    assert todo.count == 2
    assert todo.rows[0].url == "/my-assignments/"
    assert "7" in todo.rows[0].note and "2027-03-31" in todo.rows[0].note
    assert board(app, "operator_a").get("records_to_enter") is None  # an Inspector's to-do


def test_a_returned_record_waits_for_its_inspector_with_the_comment(app, world, inspected):
    ids = enter_all(app, inspected)
    assert "records_to_enter" not in board(app, "inspector_a")
    with acting(app, "operator_a"):
        inspections.return_record(db.session.get(InspectionRecord, ids[0]), "请补充现场照片")
        db.session.commit()
    todo = board(app, "inspector_a")["returned_records"]
    assert todo.count == 1
    assert todo.rows[0].url == f"/records/edit/{ids[0]}"
    assert "请补充现场照片" in todo.rows[0].note
    assert board(app, "operator_a")["records_to_review"].count == 1


# --- JointOffice and Admin --------------------------------------------------------------------


def test_joint_office_sees_filings_since_its_last_download(app, world, directory, plan, login_as):
    _publish(app, plan)
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        planning.file_plan(p, b"filing")
        db.session.commit()
    todo = board(app, "jointoffice")["new_filings"]
    assert todo.count == 1 and todo.rows[0].url == f"/plans/show/{plan}"
    client = login_as("jointoffice")
    assert client.get("/filings/progress.csv?year=2027").status_code == 200
    assert "new_filings" not in board(app, "jointoffice")
    page = _home(client)
    assert "当前没有待办事项" in page


def test_the_administrators_see_the_calendar_and_the_accounts_to_fix(app, world):
    today = dt.date.today()
    with app.app_context():
        confirmed = set(db.session.scalars(select(CalendarYear.year).where(CalendarYear.confirmed)))
        sm = app.appbuilder.sm
        user = sm.get_user_by_id(world.user("operator_b"))
        user.active = False
        sm.get_user_by_id(world.user("inspector_a")).departments = []
        db.session.commit()
    todos = board(app, "secadmin")
    assert "calendar" not in todos  # the system administrator's
    assert todos["inactive_accounts"].count == 1
    assert todos["inactive_accounts"].rows[0].url == f"/users/show/{world.user('operator_b')}"
    assert todos["accounts_without_department"].count == 1
    assert "inspector_a" in todos["accounts_without_department"].rows[0].text
    todos = board(app, "admin")
    assert "inactive_accounts" not in todos  # the security administrator's
    missing = [y for y in (today.year, today.year + 1) if y not in confirmed]
    if missing:
        assert todos["calendar"].count == len(missing)
    else:
        assert "calendar" not in todos


def test_the_security_administrator_sees_a_locked_account(app, world, client):
    from tests.conftest import login

    for _n in range(5):
        login(client, "operator_a", "wrong password")
    todo = board(app, "secadmin")["locked_accounts"]
    assert todo.count == 1 and "operator_a" in todo.rows[0].text


# --- scope and the page -----------------------------------------------------------------------


def test_department_b_never_counts_for_department_a(app, world, directory, plan, login_as):
    _b_work(app, world)
    a_operator, a_leader = board(app, "operator_a"), board(app, "leader_a")
    assert a_operator["draft_items"].count == 1  # A-002 only, not B-009
    assert "B-009" not in str(a_operator)
    assert "plans_to_approve" not in a_leader and "tasks_to_approve" not in a_leader
    assert a_leader["items_to_publish"].count == 1
    for page in (_home(login_as("operator_a")), _home(login_as("leader_a"))):
        assert "河湖" not in page and "B-009" not in page
    b_operator = board(app, "operator_b")
    assert (
        b_operator["draft_items"].count == 1 and "B-009" in b_operator["draft_items"].rows[0].text
    )
    bureau = board(app, "leader")  # the bureau's Leader sees both departments
    assert bureau["plans_to_approve"].count == 1 and bureau["items_to_publish"].count == 2


def test_home_page_shows_the_workbench_the_account_and_the_public_site(
    app, world, directory, plan, login_as
):
    page = _home(login_as("operator_a"))
    assert "待办" in page
    assert 'data-todo="draft_items" data-count="1"' in page
    assert f'href="/items/show/{directory.draft_a}"' in page
    assert 'href="/public/"' in page
    assert "您的账户" in page or "account-card" in page
    for program_text in ("draft_items", "None", "__None"):
        assert f">{program_text}<" not in page


def test_nothing_to_do_says_so(app, world, login_as):
    page = _home(login_as("inspector_a"))
    assert "当前没有待办事项" in page
    assert 'data-todo="' not in page


def test_each_count_is_one_query_not_a_load_of_rows(app, world, directory):
    """Forty draft items: the to-do counts 40 and names the first five only."""
    with acting(app, "operator_a"):
        for n in range(40):
            new_item(f"A-1{n:02d}", world.dept_a)
        db.session.commit()
    todo = board(app, "operator_a")["draft_items"]
    assert todo.count == 41 and len(todo.rows) == 5 and todo.more == 36


def test_leader_sees_a_blacklist_listing_to_decide(app, world, refused, operator_a2):  # noqa: F811
    from app.credit import services as credit
    from app.credit.models import BlacklistEntry

    with acting(app, "operator_a"):
        entry = db.session.scalar(
            select(BlacklistEntry).where(BlacklistEntry.target_id == refused.target)
        )
        entry.reasons = "拒不整改"
        credit.propose(entry)
        db.session.commit()
        entry_id = entry.id
    assert "blacklist_to_decide" not in board(app, "leader_a")  # the department reviews first
    with acting(app, "operator_a2"):
        credit.review(db.session.get(BlacklistEntry, entry_id), True, "同意")
        db.session.commit()
    todo = board(app, "leader_a")["blacklist_to_decide"]
    assert todo.count == 1 and todo.rows[0].url == f"/blacklist/show/{entry_id}"
    assert "blacklist_to_decide" not in board(app, "operator_b")


def test_an_adjusted_plan_is_due_by_its_refiling_deadline(app, world, directory, plan):
    _publish(app, plan)
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        revision = planning.revise_plan(p, "新增节水检查事项")
        db.session.commit()
        due = revision.due_on
    row = board(app, "operator_a")["draft_plans"].rows[0]
    assert "第 1 次调整" in row.note and due.isoformat() in row.note
