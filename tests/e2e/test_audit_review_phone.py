"""The audit review page on a 390-pixel phone (issue 20, part 4): the filter, the rows as cards
with long objects and notes, and a mark set through the confirmation dialog fit the screen
with nothing scrolling sideways."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import chain
from app.core.audit.models import AuditReview
from app.extensions import db
from app.security.system_user import acting_as_system
from tests.core.test_audit_review import _entry
from tests.e2e.conftest import require_browser
from tests.e2e.test_phone import _fits, phone  # noqa: F401  (fixture)

require_browser()

LONG_ID = "9" * 64
NOTE = "核实：该账号角色变更经安全管理员依据局领导批示办理，批示文号东水发〔2026〕118号，" * 4


def test_the_review_page_fits_the_phone_and_marks_a_row(app, world, phone):  # noqa: F811
    with app.app_context(), acting_as_system(), db.engine.begin() as conn:
        chain.append(
            conn,
            [
                _entry("login_failed", "ab_user", LONG_ID, username="wang"),
                _entry("update", "target", LONG_ID, username="operator_a"),
            ],
        )
    v = phone()
    v.login("auditor")
    _fits(v, "/audit-review/", "audit-review")
    _fits(v, "/audit-review/?security=1&username=wang", "audit-review-security")
    row = v.page.locator("tr.audit-review-row", has_text="登录失败").first
    assert "安全事件" in row.inner_text()
    row.locator("input[name=note]").fill(NOTE[:500])
    row.locator("button[type=submit]").click()
    v.page.locator(
        "#confirm-step-dialog .btn-primary, #confirm-step-dialog .btn-danger"
    ).first.click()
    v.page.wait_for_load_state()
    with app.app_context():
        assert db.session.scalars(select(AuditReview.note)).all() == [NOTE[:500]]
    _fits(v, "/audit-review/?reviewed=yes", "audit-review-marked")
    assert "已审阅" in v.visible_text()
