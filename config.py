"""Configuration, read from the environment.

Every setting that differs between a laptop, CI and the bureau's intranet server comes from an
environment variable; the defaults make `make run` work with nothing but Python installed.
"""

import os
import secrets
from pathlib import Path

from flask_appbuilder.security.manager import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

MIN_SECRET_KEY_BYTES = 32


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _write_once(path: Path, make_text) -> Path:
    """Writes a generated secret to `path` (mode 600) unless it exists. O_EXCL: if two
    processes start at once, one writes and the other reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(make_text())
    return path


def load_secret_key(instance_dir: Path = INSTANCE_DIR) -> str:
    """SECRET_KEY from the environment, else generated once into instance/ and reused.

    Restarting the server must not log everybody out, and several gunicorn workers must share
    one key: so the generated key is written to a file that only the owner can read.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        if len(key.encode()) < MIN_SECRET_KEY_BYTES:
            raise RuntimeError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes long")
        return key
    key_file = _write_once(
        instance_dir / "secret_key", lambda: secrets.token_hex(MIN_SECRET_KEY_BYTES)
    )
    key = key_file.read_text().strip()
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise RuntimeError(f"{key_file} holds a key shorter than {MIN_SECRET_KEY_BYTES} bytes")
    return key


DATA_KEYS_FILE = "data_keys"


def _production() -> bool:
    """A deployment gives SECRET_KEY in the environment (docs/deploy.md); a development
    machine, `make run` and the tests let it be generated into instance/."""
    return bool(os.environ.get("SECRET_KEY"))


def load_data_keys(instance_dir: Path = INSTANCE_DIR) -> tuple[str, str]:
    """(DSR_DATA_KEYS, DSR_BLIND_INDEX_KEY): the keys of the personal data encrypted at rest
    (app/core/personal_data.py). From the environment; where SECRET_KEY comes from the
    environment (production) both must, and the application refuses to start without them.
    Elsewhere they are generated once into instance/data_keys (mode 600) and reused."""
    from app.core.personal_data import (
        new_blind_index_key,
        new_data_key,
        parse_blind_index_key,
        parse_data_keys,
    )

    data_keys = os.environ.get("DSR_DATA_KEYS", "").strip()
    blind_key = os.environ.get("DSR_BLIND_INDEX_KEY", "").strip()
    if not (data_keys and blind_key):
        if _production():
            missing = [
                name
                for name, value in (
                    ("DSR_DATA_KEYS", data_keys),
                    ("DSR_BLIND_INDEX_KEY", blind_key),
                )
                if not value
            ]
            raise RuntimeError(
                f"{' and '.join(missing)} not set: SECRET_KEY comes from the environment "
                "(production), so the keys of the personal data encrypted at rest must too. "
                "Generate them with `python -m app.core.personal_data` "
                "(docs/deploy.md, section 2); keep them apart from the database backups."
            )
        key_file = _write_once(
            instance_dir / DATA_KEYS_FILE,
            lambda: (
                f"DSR_DATA_KEYS={new_data_key('dev1')}\n"
                f"DSR_BLIND_INDEX_KEY={new_blind_index_key()}\n"
            ),
        )
        stored = dict(
            line.split("=", 1) for line in key_file.read_text().splitlines() if "=" in line
        )
        data_keys = data_keys or stored.get("DSR_DATA_KEYS", "").strip()
        blind_key = blind_key or stored.get("DSR_BLIND_INDEX_KEY", "").strip()
    parse_data_keys(data_keys)  # a malformed setting stops the start (DataKeyError)
    parse_blind_index_key(blind_key)
    return data_keys, blind_key


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'app.db'}"


class Config:
    """Loaded by create_app(); tests pass overrides on top of it."""

    APP_NAME = "双随机一公开监管系统"
    APP_ICON = ""
    APP_THEME = ""

    SQLALCHEMY_DATABASE_URI = database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
    MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "20"))
    # Background imports (app/directory/import_jobs.py): a running job without a heartbeat for
    # this long is marked 失败; a job no worker took up for this long too.
    IMPORT_JOB_LEASE_SECONDS = int(os.environ.get("IMPORT_JOB_LEASE_SECONDS", "60"))
    IMPORT_JOB_QUEUE_TIMEOUT_SECONDS = int(
        os.environ.get("IMPORT_JOB_QUEUE_TIMEOUT_SECONDS", "3600")
    )
    # Whole request bodies above this are refused by Werkzeug before any view runs.
    MAX_CONTENT_LENGTH = (MAX_UPLOAD_MB + 1) * 1024 * 1024

    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted (audit IP).
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    # --- Flask-AppBuilder ---
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    # Migrations own every table (FAB's too); roles and permissions are written by
    # `flask --app run.py security sync`, never as a side effect of starting a process.
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.SecurityManager"
    FAB_INDEX_VIEW = "app.security.views.HomeView"
    FAB_API_SWAGGER_UI = False  # its page loads scripts from the internet
    FAB_ADD_SECURITY_API = False
    FAB_API_MAX_PAGE_SIZE = 100
    # List pages count exactly up to this many rows; past it they print "more than 50,000"
    # rather than read a whole million-target directory for every page (docs/performance.md).
    LIST_EXACT_COUNT_LIMIT = _env_int("LIST_EXACT_COUNT_LIMIT", 50_000)
    # On PostgreSQL the large CSV exports are written by COPY (docs/exports.md); False writes
    # them with the Python writer, the same bytes, about four times slower.
    CSV_COPY = True
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_PASSWORD_COMPLEXITY_VALIDATOR = "app.security.passwords.validate_password"

    # Rate limiting of the login form and the API login per IP (see app/security/manager.py).
    # "database://" counts in the application's database (app/security/throttle.py), shared by
    # every gunicorn worker and host; "redis://host:6379/0" works too; "memory://" is per process.
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "database://")
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute")
    # Per-account lockout, whatever the IP: this many failed sign-ins to one username within the
    # window lock it for LOGIN_LOCKOUT_MINUTES (the right password is refused too).
    LOGIN_LOCKOUT_ENABLED = _env_bool("LOGIN_LOCKOUT_ENABLED", True)
    LOGIN_LOCKOUT_FAILURES = _env_int("LOGIN_LOCKOUT_FAILURES", 5)
    LOGIN_LOCKOUT_WINDOW_MINUTES = _env_int("LOGIN_LOCKOUT_WINDOW_MINUTES", 15)
    LOGIN_LOCKOUT_MINUTES = _env_int("LOGIN_LOCKOUT_MINUTES", 15)
    # Two-factor sign-in (TOTP, RFC 6238; app/security/two_factor.py): when required, a staff
    # account without an authenticator goes to 两步验证 right after its password and can open
    # nothing else until it has enrolled. The issuer is the name the authenticator app shows.
    TOTP_REQUIRED = _env_bool("TOTP_REQUIRED", False)
    TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "双随机一公开监管系统")

    # Session controls (app/security/session_controls.py): a browser session unused for this
    # many minutes is signed out at its next request (0: never); one browser session per
    # account (a new sign-in ends the other); a password older than this many days must be
    # changed at the next sign-in (0: never; a reset by the security administrator always).
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    SESSION_SINGLE = _env_bool("SESSION_SINGLE", True)
    PASSWORD_MAX_AGE_DAYS = _env_int("PASSWORD_MAX_AGE_DAYS", 90)

    # Audit rows are kept at least this many days; `flask audit archive` refuses younger rows
    # and a setting below 180 (网络安全法 art. 21: six months). app/core/audit/archive.py.
    AUDIT_RETENTION_DAYS = _env_int("AUDIT_RETENTION_DAYS", 180)

    # --- draws ---
    # A draw without outside entropy (the one-step draw: no witnesses, no declared future public
    # source) lets the server grind its secret; it exists only where this is switched on, and
    # is then marked 无外部随机源 on every page, record and ledger entry (docs/draw-protocol.md).
    DRAW_ALLOW_NO_ENTROPY = _env_bool("DRAW_ALLOW_NO_ENTROPY", False)
    # A task's targets are drawn at the earliest this many working days (bureau calendar) before
    # its implementation window starts: a drawn list is confidential and must not wait months
    # for its checks. 0 opens the draw on the window's first day.
    DRAW_OPENS_WORKING_DAYS_BEFORE = _env_int("DRAW_OPENS_WORKING_DAYS_BEFORE", 5)

    # --- i18n: Chinese first, English switchable ---
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    # --- security ---
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # a long form (an inspection record) must not expire mid-typing
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    from app.security.roles import FAB_ROLES  # noqa: E402  (declared next to the scope rules)


def build_config() -> dict:
    """The settings as a dict, with the secret key resolved (it may touch instance/)."""
    cfg = {k: v for k, v in vars(Config).items() if k.isupper()}
    cfg["SECRET_KEY"] = load_secret_key()
    cfg["DATA_KEYS"], cfg["BLIND_INDEX_KEY"] = load_data_keys()
    return cfg
