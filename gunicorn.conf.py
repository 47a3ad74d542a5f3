"""gunicorn settings for production (docs/deploy.md): `gunicorn -c gunicorn.conf.py run:app`.

Every value can be overridden from the environment (GUNICORN_*), so one file serves every host.
The processes are stateless: sessions are signed cookies (checked against the user's session
version in the database), rate-limit counts live in the database (RATELIMIT_STORAGE_URI =
database://), uploads on shared storage (UPLOAD_FOLDER), draws are serialised by the database."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Synchronous workers: the application is I/O-bound on PostgreSQL and uses no async code.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "sync"
# Exports stream and keep the connection busy for as long as the client reads. Bulk imports do
# not need this: the page queues them for the import worker (huey_consumer) and returns at once.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 300))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (a slow leak in a library never takes a host down).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
# Behind nginx on the same host: X-Forwarded-* from it only (also set PROXY_FIX_X_FOR=1).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Load the application once in the master and fork: faster starts, less memory. Database
# connections are opened lazily in each worker (none exist at fork time).
preload_app = True


def post_fork(server, worker):
    """Each worker opens its own database connections: drop any the master's pool may hold
    (SQLAlchemy's advice for forking servers)."""
    from app.extensions import db
    from run import app

    with app.app_context():
        db.engine.dispose(close=False)


def _without_server_header():
    """gunicorn writes `Server: gunicorn` into every answer itself, below the application: drop
    it (it tells a prober which server and so which bugs to try). Forked workers inherit it."""
    from gunicorn.http import wsgi

    original = wsgi.Response.default_headers
    if getattr(original, "_no_server_header", False):
        return

    def default_headers(self):
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers._no_server_header = True
    wsgi.Response.default_headers = default_headers


_without_server_header()
