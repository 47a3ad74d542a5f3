"""What every benchmark starts from: an application on a fresh, migrated database with roles.

DATABASE_URL names the database (default: a temporary SQLite file); its tables are dropped."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def fresh_app():
    workdir = Path(tempfile.mkdtemp(prefix="dsr-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.db'}")
    os.environ.setdefault("INSTANCE_PATH", str(workdir))

    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.security.cli import sync_security

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        sync_security()
    return app, workdir
