"""Test fixtures: one application and one migrated database per test session; every test
starts from the same small organisation (see `world`) and leaves nothing behind.

The database is SQLite in a temporary folder, or the one named by TEST_DATABASE_URL (CI runs the
suite on PostgreSQL and MariaDB too). Its tables are dropped and rebuilt by the migrations at the
start of the session.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import MetaData, delete, text, update

# Background imports run at once in the test process (huey's immediate mode); the tests of the
# worker itself (tests/directory/test_import_jobs.py, tests/e2e) start one where they need it.
os.environ.setdefault("IMPORT_QUEUE", "immediate")
# The keys of the personal data encrypted at rest: random for each run (app/core/personal_data.py);
# the servers the suite starts (gunicorn, e2e, the import worker) inherit them.
if not os.environ.get("DSR_DATA_KEYS"):
    import base64 as _base64
    import secrets as _secrets

    os.environ["DSR_DATA_KEYS"] = "test1:" + _base64.b64encode(_secrets.token_bytes(32)).decode()
    os.environ["DSR_BLIND_INDEX_KEY"] = _base64.b64encode(_secrets.token_bytes(32)).decode()

# The bureau's clock (app/__init__.py, _bureau_time) from the start, before any test module
# computes "today" at import: create_app() sets it only when the first app is made, and
# between 16:00 and 24:00 UTC the modules' date.today() was then a day behind the app's.
from app import _bureau_time  # noqa: E402

_bureau_time()

from app.security import roles  # noqa: E402
from tests.support.probe import PROBE_ROLE_GRANTS, ProbeBase, ScopeProbeApi, ScopeProbeView  # noqa: E402

PASSWORD = "Passw0rd-2026"
# Tables whose rows survive between tests: the permission catalogue and roles written by
# `security sync`, the migration marker, and the calendar seeded from chinese-calendar.
KEPT_TABLES = {
    "alembic_version",
    "ab_permission",
    "ab_view_menu",
    "ab_permission_view",
    "ab_permission_view_role",
    "ab_role",
    "holiday",
    "calendar_year",
}


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _drop_everything(engine) -> None:
    meta = MetaData()
    meta.reflect(bind=engine)
    with engine.begin() as conn:
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for table in meta.sorted_tables:
                conn.execute(text(f"DROP TABLE IF EXISTS `{table.name}`"))
            for row in conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_type = 'SEQUENCE'"
                )
            ):
                conn.execute(text(f"DROP SEQUENCE IF EXISTS `{row[0]}`"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
        else:
            meta.drop_all(conn)
            if engine.dialect.name == "postgresql":
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.security.cli import sync_security

    fab_roles = copy.deepcopy(roles.FAB_ROLES)
    fab_roles[roles.OPERATOR].extend(PROBE_ROLE_GRANTS)
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
            "RATELIMIT_ENABLED": False,
            "FAB_ROLES": fab_roles,
            # Fast hashes: the suite creates many users; production keeps FAB's scrypt.
            "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "UPLOAD_FOLDER": str(instance / "uploads"),
            # The suite's many draws run in one step, without outside entropy: allowed here
            # only. The default (off: one-step draws refused) is tested in
            # tests/draws/test_ledger.py, which switches it off for its tests.
            "DRAW_ALLOW_NO_ENTROPY": True,
        }
    )
    with application.app_context():
        _drop_everything(db.engine)
        upgrade()
        ProbeBase.metadata.create_all(db.engine)
        application.appbuilder.add_view(ScopeProbeView, "Scope Probe", category="Probe")
        application.appbuilder.add_api(ScopeProbeApi)
        sync_security()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _clean_database(db) -> None:
    from app.core.audit.chain import HEAD_ID
    from app.core.audit.models import GENESIS_HASH, AuditChainHead
    from app.security.system_user import SYSTEM_USERNAME

    db.session.rollback()
    with db.engine.begin() as conn:
        if conn.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        # Users point at each other through created_by / changed_by: cut those links first.
        conn.execute(text("UPDATE ab_user SET created_by_fk = NULL, changed_by_fk = NULL"))
        # Kept reference rows (the calendar) edited by a test's user go back to the system user.
        system_id = conn.execute(
            text("SELECT id FROM ab_user WHERE username = :name"), {"name": SYSTEM_USERNAME}
        ).scalar()
        for table in db.metadata.sorted_tables if system_id is not None else ():
            if table.name in KEPT_TABLES and "changed_by_fk" in table.c:
                conn.execute(update(table).values(created_by_fk=system_id, changed_by_fk=system_id))
        for table in reversed(db.metadata.sorted_tables):
            if table.name in KEPT_TABLES:
                continue
            if table.name == "ab_user":
                conn.execute(delete(table).where(table.c.username != SYSTEM_USERNAME))
            elif table.name == "ab_user_role":
                continue  # the system user's role row stays; others go with their users below
            else:
                conn.execute(delete(table))
        conn.execute(
            text("DELETE FROM ab_user_role WHERE user_id NOT IN (SELECT id FROM ab_user)")
            if conn.dialect.name != "mysql" and conn.dialect.name != "mariadb"
            else text(
                "DELETE ur FROM ab_user_role ur LEFT JOIN ab_user u ON u.id = ur.user_id "
                "WHERE u.id IS NULL"
            )
        )
        for table in ProbeBase.metadata.sorted_tables:
            conn.execute(delete(table))
        conn.execute(
            update(AuditChainHead.__table__)
            .where(AuditChainHead.__table__.c.id == HEAD_ID)
            .values(last_seq=0, last_hash=GENESIS_HASH)
        )
        if conn.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    db.session.expire_all()


@dataclass
class World:
    """The organisation every test starts from.

    bureau (root)
    ├── dept_a 水资源管理科
    │   └── dept_a1 节约用水办公室
    └── dept_b 河湖管理科
    """

    bureau: object
    dept_a: object
    dept_a1: object
    dept_b: object
    users: dict

    def user(self, name):
        return self.users[name]


@pytest.fixture
def world(app):
    from app.extensions import db
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    with app.app_context():
        _clean_database(db)
        sm = app.appbuilder.sm
        with acting_as_system():
            bureau = Department(code="BUREAU", name="东胜区水利局", kind="bureau", sort_order=0)
            dept_a = Department(
                code="A", name="水资源管理科", kind="section", parent=bureau, sort_order=10
            )
            dept_a1 = Department(
                code="A1", name="节约用水办公室", kind="unit", parent=dept_a, sort_order=20
            )
            dept_b = Department(
                code="B", name="河湖管理科", kind="section", parent=bureau, sort_order=30
            )
            db.session.add_all([bureau, dept_a, dept_a1, dept_b])
            db.session.commit()
            specs = {
                "admin": (roles.ADMIN, []),
                "secadmin": (roles.SECURITY_ADMIN, []),
                "auditor": (roles.AUDIT_ADMIN, []),
                "leader": (roles.LEADER, [bureau]),
                "leader_a": (roles.LEADER, [dept_a]),
                "operator_a": (roles.OPERATOR, [dept_a]),
                "operator_b": (roles.OPERATOR, [dept_b]),
                "inspector_a": (roles.INSPECTOR, [dept_a]),
                "jointoffice": (roles.JOINT_OFFICE, []),
            }
            users = {}
            for username, (role_name, departments) in specs.items():
                user = sm.add_user(
                    username=username,
                    first_name=username,
                    last_name="测试",
                    email=f"{username}@test.invalid",
                    role=sm.find_role(role_name),
                    password=PASSWORD,
                )
                user.departments = list(departments)
                users[username] = user.id
            db.session.commit()
            ids = World(bureau.id, dept_a.id, dept_a1.id, dept_b.id, users)
        g.pop("_department_scope", None)
    yield ids
    with app.app_context():
        _clean_database(db)


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(client, url: str) -> str:
    """The CSRF token of the form on `url`, as a browser would submit it."""
    response = client.get(url)
    match = _CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {url} ({response.status_code})"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token_from(client, "/login/")
    return client.post(
        "/login/", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture(autouse=True)
def _many_places(request):
    """SESSION_SINGLE is on in the suite as in production; a test marked `many_places` signs
    one account in from several browsers at once (about something else) and has it off."""
    if request.node.get_closest_marker("many_places") is None:
        yield
        return
    application = request.getfixturevalue("app")
    application.config["SESSION_SINGLE"] = False
    try:
        yield
    finally:
        application.config["SESSION_SINGLE"] = True


def change_own_password(client, current: str, new: str, **kwargs):
    """Post the signed-in user's 修改密码 form (current password, the new one twice)."""
    token = csrf_token_from(client, "/resetmypassword/form")
    data = {"current_password": current, "password": new, "conf_password": new}
    return client.post("/resetmypassword/form", data={**data, "csrf_token": token}, **kwargs)


def set_password_of(admin, user_id: int, password: str):
    """The security administrator (`admin`, signed in) sets a user's password (重置密码)."""
    url = f"/resetpassword/form?pk={user_id}"
    token = csrf_token_from(admin, url)
    return admin.post(
        url, data={"password": password, "conf_password": password, "csrf_token": token}
    )


@pytest.fixture
def client(app, world):
    return app.test_client()


class BrowserClient(FlaskClient):
    """A browser signed in to our pages. Its writes to the REST API carry the page's CSRF token
    (X-CSRFToken), as a script of our own pages would send it; a bare test client (or another
    site) has none and is refused (tests/security/test_api_csrf.py)."""

    _csrf_token = None

    def open(self, *args, **kwargs):
        path = args[0] if args and isinstance(args[0], str) else ""
        method = str(kwargs.get("method", "GET")).upper()
        if path.startswith("/api/") and method in ("POST", "PUT", "PATCH", "DELETE"):
            headers = dict(kwargs.get("headers") or {})
            if "X-CSRFToken" not in headers and "Authorization" not in headers:
                if self._csrf_token is None:
                    self._csrf_token = csrf_token_from(self, "/resetmypassword/form")
                headers["X-CSRFToken"] = self._csrf_token
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture
def login_as(app, world):
    """login_as("operator_a") -> a test client signed in as that user."""

    def _login(username: str):
        c = BrowserClient(app, app.response_class, use_cookies=True)
        response = login(c, username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        # A browser follows the redirect and sees the sign-in's notice (上次登录…) on its first
        # page; the tests compare pages and want none (test_session_controls.py checks it).
        with c.session_transaction() as session:
            session.pop("_flashes", None)
        return c

    return _login


@pytest.fixture
def api_token(app, world):
    """api_token("operator_a") -> a JWT for the REST API."""

    def _token(username: str) -> str:
        c = app.test_client()
        response = c.post(
            "/api/v1/security/login",
            json={"username": username, "password": PASSWORD, "provider": "db"},
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    return _token
