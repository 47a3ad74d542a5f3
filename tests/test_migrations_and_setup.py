"""The database is built by the migrations alone, they agree with the models on every
database, and the set-up commands (security sync, seed-demo) can be run again safely."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from app.directory.models import POSTGRESQL_ONLY_INDEXES
from app.extensions import db
from app.security.models import Department


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                # The test-only probe table (tests/support/probe.py) is not the migrations'
                # business; PostgreSQL-only indexes are not on the models.
                "include_name": lambda name, type_, parent: (
                    name != "test_scope_probe" and name not in POSTGRESQL_ONLY_INDEXES
                ),
            },
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"run `flask db migrate`: the models differ from the migrations: {diff}"


def test_migration_creates_the_empty_audit_chain_head(app, world):
    from app.core.audit.models import AuditChainHead

    with app.app_context():
        assert db.session.get(AuditChainHead, 1) is not None


def test_security_sync_creates_the_five_roles_and_is_idempotent(app):
    from app.security.cli import sync_security

    with app.app_context():
        sync_security()
        result = sync_security()
        names = {r.name for r in app.appbuilder.sm.get_all_roles()}
    assert result["roles_created"] == []
    assert {
        "Admin",
        "SecurityAdmin",
        "AuditAdmin",
        "Leader",
        "Operator",
        "Inspector",
        "JointOffice",
        "Public",
    } <= names


def test_seed_demo_is_idempotent_and_prints_the_logins(app, world):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    for username in (
        "admin",
        "secadmin",
        "auditor",
        "leader",
        "operator_szy",
        "inspector_wang",
        "jointoffice",
    ):
        assert username in first.output
    assert "Dongsheng2026" in first.output
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(Department)),
            len(app.appbuilder.sm.get_all_users()),
        )
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert counts == (
            db.session.scalar(select(func.count()).select_from(Department)),
            len(app.appbuilder.sm.get_all_users()),
        )
        names = set(db.session.scalars(select(Department.name)))
    assert {"水资源管理科", "河湖管理科", "水土保持站", "水利工程建设质量与安全监督站"} <= names


def test_demo_users_sign_in_and_see_their_scope(app, world):
    from tests.conftest import login

    app.test_cli_runner().invoke(args=["seed-demo"])
    client = app.test_client()
    response = login(client, "operator_hh", "Dongsheng2026")
    assert response.status_code == 302
    html = client.get("/departments/list/").get_data(as_text=True)
    assert "河湖管理科" in html and "水资源管理科" not in html
