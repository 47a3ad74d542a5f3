"""The access-control matrix: every registered route × every role (and anonymous), the outcome
the role table of DESIGN.md calls for. The routes come from the application itself, so a new
route without a line in POLICY fails `test_every_route_has_a_policy`.

Each route is requested once per role with an id no row has (999999) and no data: a role that
may use the route gets past the permission check (200, a redirect that is not to the login page,
400/404/422 for the missing row or data), a role that may not gets 403 (401 on the API, a
redirect to the login page when anonymous), nobody gets a 5xx. Department scope and the
published/unpublished rules are the next layer: test_row_matrix.py (every route naming a row,
own and other department), tests/security/test_scope.py and each domain's tests."""

from __future__ import annotations

import pytest

from tests.security.access_matrix import guarded_routes, outcome, request_as

# Who may use a (permission view, permission): A Admin (系统管理员), S SecurityAdmin (安全管理员),
# U AuditAdmin (审计管理员), L Leaders (bureau and section), O Operator, I Inspector,
# J JointOffice (联席办). "" = nobody (a FAB route we do not use).
POLICY = {
    ("Department", "can_read"): "ALOJ",
    ("Department", "can_write"): "A",
    ("Area", "can_read"): "ALO",
    ("Area", "can_write"): "A",
    ("Holiday", "can_read"): "ALOIJ",
    ("Holiday", "can_write"): "A",
    ("CalendarYear", "can_read"): "ALOJ",
    ("CalendarYear", "can_write"): "A",
    ("AuditLog", "can_read"): "UL",
    ("AuditLog", "can_write"): "",
    # The review page (filters, export, marks 已审阅): the audit administrator only; the
    # Leader reads the log of its scope, not the marks and their notes.
    ("AuditReview", "can_read"): "U",
    ("AuditReview", "can_review"): "U",
    ("InspectionItem", "can_read"): "LOIJ",
    ("InspectionItem", "can_write"): "O",
    ("InspectionItem", "can_publish"): "L",
    ("ItemRevision", "can_read"): "LOJ",
    ("ItemRevision", "can_write"): "",
    ("Inspector", "can_read"): "LO",
    ("Inspector", "can_write"): "O",
    ("Target", "can_read"): "LO",
    ("Target", "can_write"): "O",
    ("Conflict", "can_read"): "LOI",
    ("Conflict", "can_write"): "LOI",
    ("DirectoryImport", "can_read"): "O",
    ("DirectoryImport", "can_write"): "O",
    ("AnnualPlan", "can_read"): "LOJ",
    ("AnnualPlan", "can_write"): "O",
    ("AnnualPlan", "can_approve"): "L",
    ("AnnualPlan", "can_publish"): "LO",
    ("AnnualPlan", "can_file"): "O",
    ("PlanLine", "can_read"): "LOJ",
    ("PlanLine", "can_write"): "O",
    ("SpotCheckTask", "can_read"): "LO",
    ("SpotCheckTask", "can_write"): "O",
    ("SpotCheckTask", "can_approve"): "L",
    ("SpotCheckTask", "can_draw"): "O",
    ("SpotCheckTask", "can_material"): "LOI",
    ("SpotCheckTask", "can_publish"): "LO",
    ("SpotCheckTask", "can_archive"): "LO",
    ("Progress", "can_read"): "LOJ",
    ("Dashboard", "can_read"): "LOJ",
    ("Draw", "can_read"): "LO",
    ("Draw", "can_write"): "",
    ("Draw", "can_draw"): "O",
    ("Draw", "can_cancel"): "L",
    ("MyAssignments", "can_read"): "I",
    ("InspectionRecord", "can_read"): "LOIJ",
    ("InspectionRecord", "can_write"): "I",
    ("InspectionRecord", "can_review"): "LO",
    ("InspectionRecord", "can_follow_up"): "O",
    ("InspectionSummary", "can_read"): "LOI",
    ("InspectionSummary", "can_write"): "I",
    ("InspectionSummary", "can_approve"): "L",
    ("Rectification", "can_read"): "LOI",
    ("Rectification", "can_write"): "O",
    # 行政处罚 (双公示): the export holds natural persons' ID numbers unmasked.
    ("Penalty", "can_read"): "LO",
    ("Penalty", "can_write"): "O",
    ("Penalty", "can_export"): "LO",
    ("Blacklist", "can_read"): "LOIJ",
    ("Blacklist", "can_write"): "OI",
    ("Blacklist", "can_propose"): "OI",
    ("Blacklist", "can_review"): "O",
    ("Blacklist", "can_approve"): "L",
    ("Blacklist", "can_publish"): "LO",
    ("Blacklist", "can_remove"): "O",
    ("CreditRecord", "can_read"): "LO",
    ("Filing", "can_read"): "LOJ",
    # Users and roles: the security administrator only; every user their own profile and
    # password.
    ("UserDBModelView", "can_list"): "S",
    ("UserDBModelView", "can_show"): "S",
    ("UserDBModelView", "can_add"): "S",
    ("UserDBModelView", "can_edit"): "S",
    ("UserDBModelView", "can_delete"): "S",
    ("UserDBModelView", "can_download"): "S",
    ("UserDBModelView", "can_userinfo"): "ASULOIJ",
    ("OpenApi", "can_get"): "ASULOIJ",
    ("UserInfoEditView", "can_this_form_get"): "ASULOIJ",
    ("UserInfoEditView", "can_this_form_post"): "ASULOIJ",
    ("ResetMyPasswordView", "can_this_form_get"): "ASULOIJ",
    ("ResetMyPasswordView", "can_this_form_post"): "ASULOIJ",
    # Their own second factor (两步验证); the security administrator resets another's with a
    # user-list action (never an administrator's: that is done on the server).
    ("TwoFactor", "can_read"): "ASULOIJ",
    ("TwoFactor", "can_write"): "ASULOIJ",
    ("ResetPasswordView", "can_this_form_get"): "S",
    ("ResetPasswordView", "can_this_form_post"): "S",
    ("RoleModelView", "can_list"): "S",
    ("RoleModelView", "can_show"): "S",
    ("RoleModelView", "can_add"): "S",
    ("RoleModelView", "can_edit"): "S",
    ("RoleModelView", "can_delete"): "S",
    ("RoleModelView", "can_download"): "S",
    # FAB's permission catalogue: the security administrator reads the lists; roles are
    # built-in (FAB_ROLES).
    ("PermissionModelView", "can_list"): "S",
    ("ViewMenuModelView", "can_list"): "S",
    ("PermissionViewModelView", "can_list"): "S",
    **{
        (view, f"can_{verb}"): ""
        for view in ("PermissionModelView", "ViewMenuModelView", "PermissionViewModelView")
        for verb in ("show", "add", "edit", "delete", "download")
    },
    # FAB's user groups are not used: roles and departments are.
    **{
        ("UserGroupModelView", f"can_{verb}"): ""
        for verb in ("list", "show", "add", "edit", "delete", "download")
    },
    # The test-only probe of tests/support/probe.py (granted to Operators in tests only).
    ("ScopeProbe", "can_read"): "O",
    ("ScopeProbe", "can_write"): "O",
}
USERS = {
    "A": ["admin"],
    "S": ["secadmin"],
    "U": ["auditor"],
    "L": ["leader", "leader_a"],
    "O": ["operator_a"],
    "I": ["inspector_a"],
    "J": ["jointoffice"],
}
# Actions run by name (`action/<name>/<pk>`, `action_post`): an unknown name is refused for
# everybody before any row is read; each real action checks its own permission.
ACTION_METHODS = {"action", "action_post"}


def test_the_draw_site_record_is_read_like_the_draw_page(app):
    routes = {
        (rule.rule, resource, permission) for rule, _m, resource, permission in guarded_routes(app)
    }
    assert ("/task-draw/draw/<int:pk>/site-record", "Draw", "can_read") in routes


def test_every_route_has_a_policy(app):
    missing = sorted(
        f"{rule.rule} ({resource}, {permission})"
        for rule, method, resource, permission in guarded_routes(app)
        if method not in ACTION_METHODS and (resource, permission) not in POLICY
    )
    assert not missing, "routes without a line in POLICY: " + "; ".join(missing)


@pytest.fixture
def clients(app, world, login_as):
    found = {"anonymous": app.test_client()}
    for users in USERS.values():
        for username in users:
            found[username] = login_as(username)
    return found


def test_the_access_matrix(app, clients, monkeypatch):
    # The permission layer is under test here: let forms through without their CSRF token
    # (tests/security/test_csrf_and_login.py proves the token is required).
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", False)
    wrong = []
    for rule, method, resource, permission in guarded_routes(app):
        allowed_letters = POLICY.get((resource, permission), "")
        for name, client in clients.items():
            verb, response = request_as(client, rule)
            got = outcome(response)
            if method in ACTION_METHODS:
                if got == "error" or response.status_code == 200:
                    wrong.append(f"{name} {verb} {rule.rule}: {response.status_code}")
                continue
            letters = [k for k, users in USERS.items() if name in users]
            expected = "allowed" if letters and letters[0] in allowed_letters else "denied"
            if got != expected:
                wrong.append(
                    f"{name} {verb} {rule.rule}: {response.status_code}, expected {expected}"
                )
    assert not wrong, "\n".join(wrong)
