"""Extension singletons. create_app() in app/__init__.py binds them to an application.

The AppBuilder object is not a singleton here: FAB keeps per-application view lists on it, so
create_app() makes a fresh one for every application (tests build several).
"""

from flask_appbuilder import Model
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# FAB 5 no longer exports SQLA; built this way db.metadata is FAB's Model.metadata, so Alembic and
# create_all see our tables and FAB's alike.
db = get_sqla_class()(model_class=Model)
migrate = Migrate()
csrf = CSRFProtect()
