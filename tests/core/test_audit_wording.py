"""The audit log and a row's change history read as words (issue 17): Chinese labels of fields,
related rows by their names, people by their full names, actions and kinds of rows in Chinese;
the stored codes stay as they were written (the hash chain covers them)."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.directory.models import Area, Target
from app.extensions import db
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.security.test_no_program_text import readable_text


def _edit_target(app, directory):  # noqa: F811
    with acting(app, "operator_a") as user:
        user.first_name, user.last_name = "芳", "刘"
        other = Area(name="兴胜街道", kind="街道")
        db.session.add(other)
        target = db.session.get(Target, directory.target_a)
        target.area = other
        target.contact_phone = "13800001111"
        db.session.commit()


def test_a_targets_history_names_fields_rows_and_people(app, directory, login_as):  # noqa: F811
    _edit_target(app, directory)
    page = login_as("operator_a").get(f"/targets/show/{directory.target_a}").get_data(as_text=True)
    history = page[page.index("变更历史") :]
    assert "刘芳" in history and "系统" in history  # who: full names, the system as 系统
    assert "operator_a" not in history and ">system<" not in history
    assert "兴胜街道" in history and "交通街道" in history  # the area by name, not its id
    for program_text in ("Area Id", "Department Id", "Created By Fk", "area_id", "None"):
        assert program_text not in history, program_text
    # The phone only masked, old and new alike, never beside its full form.
    assert "13800001111" not in page and "13912345678" not in page
    assert "138****1111" in history


def test_the_audit_list_and_entry_read_in_chinese(app, directory, login_as):  # noqa: F811
    _edit_target(app, directory)
    admin = login_as("auditor")
    listing = admin.get("/audit/list/").get_data(as_text=True)
    for code in (">target<", ">update<", ">cli<", ">system<", "inspection_item"):
        assert code not in listing, code
    assert "检查对象" in listing and "修改" in listing
    with app.app_context():
        seq = db.session.scalar(
            select(AuditLog.id).where(AuditLog.object_type == "target", AuditLog.action == "update")
        )
    entry = " ".join(
        readable_text(login_as("leader").get(f"/audit/show/{seq}").get_data(as_text=True))
    )
    assert (
        "刘芳" in entry and "兴胜街道" in entry and "命令行" in entry
    )  # written outside a request
    assert "138****1111" in entry and "13800001111" not in entry
    assert "area_id" not in entry and "Area Id" not in entry
    with app.app_context():  # what is stored is unchanged
        row = db.session.get(AuditLog, seq)
        assert row.action == "update" and row.object_type == "target"
        assert row.username == "operator_a" and "area_id" in row.changes
