"""One masking rule for every stored copy of a row (issue 15, finding 3): the audit log and the
change histories show a value as the row's own page shows it to that user, secrets never, and
nothing at all of a row the user may not open."""

from __future__ import annotations

import json

from markupsafe import escape
from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.core.masking import mask_id_number, mask_phone
from app.directory.models import Target
from app.draws.models import Draw
from app.extensions import db
from tests.directory.conftest import acting, citizen_id, directory  # noqa: F401  (fixture)
from tests.inspections.conftest import finish, inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _entry(app, object_type, object_id, field):
    """(id, before, after) of the newest audit row of the object that changed `field`."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditLog)
            .where(AuditLog.object_type == object_type, AuditLog.object_id == str(object_id))
            .order_by(AuditLog.seq.desc())
        )
        for row in rows:
            changes = json.loads(row.changes or "{}")
            if field in changes:
                return row.id, *changes[field]
    raise AssertionError(f"no audit row of {object_type} {object_id} changing {field}")


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_audit_log_masks_id_numbers_and_phones_and_hides_rows_one_may_not_open(
    app, world, directory, login_as  # noqa: F811
):
    entry_id, _before, stored_id = _entry(app, "inspector", directory.inspector_a, "id_number")
    _id, _before, stored_phone = _entry(app, "inspector", directory.inspector_a, "phone")
    full_id, phone = citizen_id(1), "13847701234"
    # The log itself keeps them masked (their table keeps them encrypted): never in full.
    assert stored_id == mask_id_number(full_id) and stored_phone == mask_phone(phone)
    leader = _page(login_as("leader_a"), f"/audit/show/{entry_id}")
    assert full_id not in leader and phone not in leader
    assert mask_id_number(full_id) in leader and mask_phone(phone) in leader
    # Admin has no page of inspectors: not even the masked values, nor the name.
    admin = _page(login_as("auditor"), f"/audit/show/{entry_id}")
    for value in (full_id, phone, mask_id_number(full_id), mask_phone(phone), "王建国"):
        assert value not in admin
    assert "不予显示" in admin


def test_unpublished_draw_result_stays_out_of_the_audit_log(
    app, world, inspected, login_as  # noqa: F811
):
    with app.app_context():
        draw = db.session.scalar(select(Draw).where(Draw.task_id == inspected.task))
        draw_id = draw.id
    entry_id, _before, result = _entry(app, "draw", draw_id, "result")
    assert result
    # Admin may not open draws; the bureau's Leader may, but not its result before publication.
    for name in ("auditor", "leader"):
        page = _page(login_as(name), f"/audit/show/{entry_id}")
        assert str(escape(result)) not in page, name
    finish(app, inspected)
    assert str(escape(result)) in _page(login_as("leader"), f"/audit/show/{entry_id}")
    assert str(escape(result)) not in _page(login_as("auditor"), f"/audit/show/{entry_id}")


def test_target_history_masks_id_numbers_and_phones(app, world, directory, login_as):  # noqa: F811
    with acting(app, "operator_a"):
        target = Target(
            department_id=world.dept_a,
            target_type="自然人",
            name="刘某某",
            id_number=citizen_id(7),
            contact_phone="13900001111",
        )
        db.session.add(target)
        db.session.commit()
        target.contact_phone = "13900002222"
        db.session.commit()
        target_id = target.id
    for name in ("leader_a", "operator_a"):
        page = _page(login_as(name), f"/targets/show/{target_id}")
        for value in (citizen_id(7), "13900001111", "13900002222"):
            assert value not in page, (name, value)
        assert mask_phone("13900001111") in page and mask_phone("13900002222") in page


SENSITIVE_NAMES = ("id_number", "phone", "secret", "password", "entropy", "token", "api_key")


def test_every_sensitive_column_is_declared(app):
    """A new column holding an ID number, a phone, a secret or a password is declared on its
    model (masked, secret or confidential), or stored copies would print it in full."""
    import sqlalchemy as sa
    from flask_appbuilder import Model

    from app.core.audit.recorder import REDACTED_COLUMNS

    undeclared = []
    for mapper in Model.registry.mappers:
        model = mapper.class_
        table = getattr(model, "__table__", None)
        if table is None:
            continue
        declared = (
            set(getattr(model, "__masked_columns__", {}))
            | set(getattr(model, "__secret_columns__", ()))
            | set(getattr(model, "__confidential_columns__", ()))
            | set(REDACTED_COLUMNS)
        )
        for column in table.columns:
            # A time (ab_user.password_changed_at) holds none of these values.
            if isinstance(column.type, (sa.DateTime, sa.Date)):
                continue
            if any(word in column.name for word in SENSITIVE_NAMES) and column.name not in declared:
                undeclared.append(f"{table.name}.{column.name}")
    assert not undeclared, undeclared


def test_rows_one_may_open_keep_their_values(app, world, login_as):
    """Departments for their Leader; user accounts and departments for the audit
    administrator, who reviews the other administrators' work (never the password hash)."""
    department_entry, _before, name = _entry(app, "department", world.dept_a, "name")
    assert name in _page(login_as("leader_a"), f"/audit/show/{department_entry}")
    assert name in _page(login_as("auditor"), f"/audit/show/{department_entry}")
    user_entry, _before, email = _entry(app, "ab_user", world.user("operator_a"), "email")
    page = _page(login_as("auditor"), f"/audit/show/{user_entry}")
    assert email in page and "pbkdf2" not in page and "scrypt" not in page
