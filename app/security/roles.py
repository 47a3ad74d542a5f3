"""The five roles of DESIGN.md, declared as FAB built-in roles (FAB_ROLES).

Built-in roles are checked against these patterns at request time (regular expressions on the
view's ASCII permission name and on the permission), so a new deployment needs no permission rows
for them and nobody can widen a role by clicking in the role editor. Each domain package adds the
names of its views here when it grows; a view that no role names is reachable by nobody.

Row-level department scope is a separate layer: see app/security/scope.py.
"""

from flask_babel import lazy_gettext as _l

# 三员分立 (GB/T 22239-2019 level 3; issue 20): three administrators, each with one share of
# the administration and none of the business: the system administrator (departments, areas,
# calendar), the security administrator (accounts, their roles, password resets, unlocking) and
# the audit administrator (reads and reviews everyone's audit log, the other two's included).
# No account holds two of them or one of them and a business role, and they are given and taken
# only on the server's command line (app/security/role_rules.py, `flask security create-admin`).
ADMIN = "Admin"  # 系统管理员 (the name DESIGN.md and the demo account `admin` keep)
SECURITY_ADMIN = "SecurityAdmin"
AUDIT_ADMIN = "AuditAdmin"
LEADER = "Leader"
OPERATOR = "Operator"
INSPECTOR = "Inspector"
JOINT_OFFICE = "JointOffice"

# FAB's role of anonymous visitors (config AUTH_ROLE_PUBLIC): it is nobody's account role.
PUBLIC = "Public"

ADMIN_ROLES = (ADMIN, SECURITY_ADMIN, AUDIT_ADMIN)
BUSINESS_ROLES = (LEADER, OPERATOR, INSPECTOR, JOINT_OFFICE)
ALL_ROLES = (*ADMIN_ROLES, *BUSINESS_ROLES)

# Role names stay ASCII (they are keys in FAB_ROLES and in the database); people read these.
ROLE_LABELS = {
    ADMIN: _l("System administrator"),
    SECURITY_ADMIN: _l("Security administrator"),
    AUDIT_ADMIN: _l("Audit administrator"),
    LEADER: _l("Leader"),
    OPERATOR: _l("Operator"),
    INSPECTOR: _l("Inspector"),
    JOINT_OFFICE: _l("Joint-meeting office"),
}

# Roles that keep a department's lists (directory, plans, records, blacklist) and read every row
# of their scope; the other roles see only rows a model's role_clause grants them.
STAFF_ROLES = frozenset({ADMIN, LEADER, OPERATOR})

# Roles that see every department's rows, whatever departments the user belongs to.
# A Leader sees everything only when one of their departments is the bureau itself (the root):
# see scope.py.
GLOBAL_SCOPE_ROLES = frozenset({*ADMIN_ROLES, JOINT_OFFICE})

# Views and REST APIs of one resource share its permission name and map their methods onto two
# permissions, read and write (see app/security/base_views.py), as Superset does.
READ = r"^can_read$"
WRITE = r"^can_(read|write)$"
MENU = r"^menu_access$"

# Every signed-in user may see and change their own profile and password.
SELF_SERVICE = [
    [r"^UserDBModelView$", r"^(can_userinfo|userinfoedit)$"],
    # The REST API's OpenAPI spec, for whoever uses the API.
    [r"^OpenApi$", r"^can_get$"],
    [r"^ResetMyPasswordView$", r"^can_this_form_(get|post)$"],
    [r"^UserInfoEditView$", r"^can_this_form_(get|post)$"],
    # Their own second factor (两步验证, app/security/two_factor_views.py).
    [r"^TwoFactor$", WRITE],
]

_SECURITY_VIEWS = (
    r"^(UserDBModelView|RoleModelView|GroupModelView|PermissionModelView|ViewMenuModelView|"
    r"PermissionViewModelView|ResetPasswordView|RegisterUserModelView)$"
)

PUBLISH = r"^can_(read|publish)$"

# Menu entries of 一单两库 and of planning (ASCII names; the labels are Chinese).
_DIRECTORY_MENUS = r"Directory|Inspection Items|Item Revisions|Inspectors|Targets|Conflicts"
_PLANNING_MENUS = r"Planning|Annual Plans|Plan Lines|Tasks|Progress|Dashboard|Draws"
_INSPECTION_MENUS = r"Inspections|Inspection Records|Summaries|Rectifications"
# 行政处罚 (双公示): staff who follow up and file with the credit platform, not the inspectors.
_PENALTY_MENUS = r"Penalties"
_CREDIT_MENUS = r"Credit|Blacklist"
_DISCLOSURE_MENUS = r"Disclosure|Filings|Public Pages"

FAB_ROLES = {
    ADMIN: [
        [r"^(Department|Holiday|CalendarYear|Area)$", WRITE],
        [
            r"^(Organization|Departments|Areas|Calendar|Holidays|Calendar Years|"
            r"Import Calendar)$",
            MENU,
        ],
        *SELF_SERVICE,
    ],
    SECURITY_ADMIN: [
        [_SECURITY_VIEWS, r".*"],
        [r"^(Security|List Users|List Roles|List Groups)$", MENU],
        *SELF_SERVICE,
    ],
    AUDIT_ADMIN: [
        [r"^(AuditLog)$", READ],
        # The review page: filters, export, marks 已审阅 (app/core/audit/review.py); nobody
        # else reads the marks and their notes.
        [r"^(AuditReview)$", r"^can_(read|review)$"],
        [r"^(System|Audit Log|Audit Review)$", MENU],
        *SELF_SERVICE,
    ],
    LEADER: [
        [r"^(Department|Holiday|CalendarYear|AuditLog|Area|Inspector|Target|PlanLine)$", READ],
        [r"^(Progress)$", READ],
        [r"^(Dashboard)$", READ],
        [r"^(InspectionItem|ItemRevision)$", PUBLISH],
        [r"^(AnnualPlan)$", r"^can_(read|approve|publish)$"],
        [r"^(SpotCheckTask)$", r"^can_(read|approve|material|publish|archive)$"],
        [r"^(Draw)$", r"^can_(read|cancel)$"],
        [r"^(Conflict)$", WRITE],
        [r"^(InspectionRecord)$", r"^can_(read|review)$"],
        [r"^(InspectionSummary)$", r"^can_(read|approve)$"],
        [r"^(Rectification|CreditRecord)$", READ],
        [r"^(Penalty)$", r"^can_(read|export)$"],
        [r"^(Blacklist)$", r"^can_(read|approve|publish)$"],
        [r"^(Filing)$", READ],
        [
            rf"^(Organization|Departments|Areas|Calendar|Holidays|System|Audit Log|"
            rf"{_DIRECTORY_MENUS}|{_PLANNING_MENUS}|{_INSPECTION_MENUS}|{_PENALTY_MENUS}|"
            rf"{_CREDIT_MENUS}|{_DISCLOSURE_MENUS})$",
            MENU,
        ],
        *SELF_SERVICE,
    ],
    OPERATOR: [
        [r"^(Department|Holiday|CalendarYear|Area|ItemRevision|Progress)$", READ],
        [r"^(Dashboard)$", READ],
        [r"^(InspectionItem|Inspector|Target|Conflict|DirectoryImport)$", WRITE],
        [r"^(PlanLine|SpotCheckTask)$", WRITE],
        [r"^(SpotCheckTask)$", r"^can_material$"],
        [r"^(AnnualPlan)$", r"^can_(read|write|publish|file)$"],
        [r"^(SpotCheckTask|Draw)$", r"^can_(read|draw)$"],
        [r"^(SpotCheckTask)$", r"^can_(publish|archive)$"],
        [r"^(InspectionRecord)$", r"^can_(read|review|follow_up)$"],
        [r"^(InspectionSummary)$", READ],
        [r"^(Rectification)$", WRITE],
        [r"^(Penalty)$", r"^can_(read|write|export)$"],
        [r"^(CreditRecord)$", READ],
        [r"^(Blacklist)$", r"^can_(read|write|propose|review|remove|publish)$"],
        [r"^(Filing)$", READ],
        [
            rf"^(Organization|Departments|Areas|Calendar|Holidays|{_DIRECTORY_MENUS}|Import|"
            rf"{_PLANNING_MENUS}|{_INSPECTION_MENUS}|{_PENALTY_MENUS}|{_CREDIT_MENUS}|"
            rf"{_DISCLOSURE_MENUS})$",
            MENU,
        ],
        *SELF_SERVICE,
    ],
    INSPECTOR: [
        [r"^(Holiday|InspectionItem|MyAssignments|Rectification)$", READ],
        [r"^(SpotCheckTask)$", r"^can_material$"],
        [r"^(Conflict|InspectionRecord|InspectionSummary)$", WRITE],
        [r"^(Blacklist)$", r"^can_(read|write|propose)$"],
        [
            r"^(Calendar|Holidays|Directory|Inspection Items|Conflicts|Planning|My Assignments|"
            rf"{_INSPECTION_MENUS}|{_CREDIT_MENUS})$",
            MENU,
        ],
        *SELF_SERVICE,
    ],
    JOINT_OFFICE: [
        [r"^(Department|Holiday|CalendarYear|InspectionItem|ItemRevision)$", READ],
        [r"^(AnnualPlan|PlanLine|Progress|Blacklist|Filing)$", READ],
        # Published results only (InspectionRecord.role_clause).
        [r"^(InspectionRecord)$", READ],
        [r"^(Dashboard)$", READ],
        [
            r"^(Organization|Departments|Calendar|Holidays|Directory|Inspection Items|Dashboard|"
            rf"Item Revisions|Planning|Annual Plans|Plan Lines|Progress|{_CREDIT_MENUS}|"
            rf"Inspections|Inspection Records|{_DISCLOSURE_MENUS})$",
            MENU,
        ],
        *SELF_SERVICE,
    ],
}
