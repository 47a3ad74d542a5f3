"""Departments (a tree: bureau -> 科室 / 二级单位) and the users who belong to them."""

from flask_appbuilder import Model
from flask_appbuilder.models.mixins import AuditMixin
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import backref, relationship

DEPARTMENT_KINDS = {
    "bureau": _l("Bureau"),
    "section": _l("Section"),
    "unit": _l("Affiliated unit"),
}

user_department = Table(
    "user_department",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
    Column(
        "department_id", Integer, ForeignKey("department.id", ondelete="CASCADE"), nullable=False
    ),
    UniqueConstraint("user_id", "department_id", name="uq_user_department"),
)


class Department(AuditMixin, Model):
    """A node of the organisation tree. The root (no parent) is the bureau itself."""

    __tablename__ = "department"
    __scope_column__ = "id"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_department_parent_name"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    code = Column(String(32), nullable=False, unique=True)
    kind = Column(String(16), nullable=False, default="section")
    parent_id = Column(Integer, ForeignKey("department.id"), nullable=True, index=True)
    sort_order = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    # 统一社会信用代码 of the department where it is a legal person (the bureau, an affiliated
    # unit): the 处罚机关 / 数据来源单位 code of its penalties (app/inspections/penalty_export.py).
    uscc = Column(String(18), nullable=True)

    parent = relationship(
        "Department", remote_side=[id], backref=backref("children", order_by=sort_order)
    )
    # The backref puts `departments` on FAB's User, so user forms and the scope filter reach it
    # without replacing FAB's user model.
    users = relationship(User, secondary=user_department, backref="departments")

    @property
    def kind_label(self):
        return DEPARTMENT_KINDS.get(self.kind, self.kind)

    @property
    def path(self) -> str:
        names, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    @property
    def bureau(self) -> "Department":
        """The body that issues documents for this department: the nearest department of kind
        "bureau" above it (itself included), else the root of its tree. A section (科室) does
        not issue documents: it appears as 承办科室 under the bureau's name."""
        node, seen, top = self, set(), self
        while node is not None and node.id not in seen:
            if node.kind == "bureau":
                return node
            seen.add(node.id)
            top = node
            node = node.parent
        return top

    @property
    def legal_person(self) -> "Department":
        """The department that acts in law for this one: the nearest one above it (itself
        included) with a unified social credit code, else its bureau."""
        node, seen = self, set()
        while node is not None and node.id not in seen:
            if node.uscc:
                return node
            seen.add(node.id)
            node = node.parent
        return self.bureau

    @property
    def issuing_names(self) -> tuple[str, str]:
        """(issuing body, 承办科室): ("东胜区水利局", "水资源管理科"); the section is "" when the
        department is the bureau itself."""
        bureau = self.bureau
        return bureau.name, "" if bureau is self else self.name

    def __str__(self):
        return self.name

    __repr__ = __str__


def _chinese_full_name(user) -> str:
    return f"{user.last_name or ''}{user.first_name or ''}" or user.username


# FAB writes "first last" wherever it names a user (created_by / changed_by columns, user
# lists); a Chinese name is family name first, without a space.
User.get_full_name = _chinese_full_name


# Every session cookie and API token carries the user's version at sign-in; signing out, a new
# password and deactivation raise it, and a cookie or token with another version is refused
# (app/security/sessions.py). A column on FAB's user table, added without replacing FAB's model.
User.session_version = Column(Integer, nullable=False, default=0, server_default="0")


def _now():
    import datetime as dt

    return dt.datetime.now().replace(microsecond=0)


# Session controls (等保 2.0 身份鉴别 a/b; app/security/session_controls.py):
# - current_session: the one browser session of the account (SESSION_SINGLE), a random id that
#   its cookie carries too; signed_in_at / signed_in_ip: when and from where it signed in (the
#   notice of the session it ended).
# - password_changed_at: when the password was last set; NULL when the security administrator
#   set it (a reset): the user must choose their own at the next sign-in.
User.current_session = Column(String(64), nullable=True)
User.signed_in_at = Column(DateTime, nullable=True)
User.signed_in_ip = Column(String(64), nullable=True)
User.password_changed_at = Column(DateTime, nullable=True, default=_now)


class RateLimitCounter(Model):
    """A fixed-window counter shared by every app process through the database: the sign-in
    rate limit (Flask-Limiter, RATELIMIT_STORAGE_URI = "database://") and the per-account
    lockout (app/security/throttle.py). Rows past `expires_at` count as absent."""

    __tablename__ = "rate_limit_counter"

    key = Column(String(255), primary_key=True)
    hits = Column(Integer, nullable=False, default=0)
    # Seconds since the epoch (UTC), as the limits package counts.
    expires_at = Column(BigInteger, nullable=False, index=True)


class UserTwoFactor(Model):
    """A user's authenticator (two-factor sign-in, app/security/two_factor.py): the TOTP secret
    (base32, RFC 6238), when it was confirmed (None while enrolment waits for its first code)
    and the last time step a code was accepted for (a code is good once: RFC 6238 §5.2).

    The secret is stored as it is: the application has no encryption package (`cryptography`)
    among its dependencies. A dump of this table gives away the second factor of every user
    (not their passwords): keep backups as guarded as the database itself (docs/security.md)."""

    __tablename__ = "user_two_factor"

    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    secret = Column(String(64), nullable=False)
    enrolled_at = Column(DateTime, nullable=True)
    last_step = Column(BigInteger, nullable=True)


def _two_factor_on(user) -> bool:
    from app.extensions import db

    record = db.session.get(UserTwoFactor, user.id) if user.id is not None else None
    return record is not None and record.enrolled_at is not None


# Shown to the administrator on the user's page (whether 重置两步验证 has anything to reset).
User.two_factor_on = property(_two_factor_on)


def _sign_in_locked(user) -> bool:
    from app.security.throttle import is_locked

    return bool(user.username) and is_locked(user.username)


# 已锁定 / 未锁定 on the user's page (解除锁定 lifts it).
User.sign_in_locked = property(_sign_in_locked)


class UserRecoveryCode(Model):
    """A one-time recovery code of a user's second factor, as a salted hash; `used_at` is set
    when it signs somebody in, and it is never accepted again."""

    __tablename__ = "user_recovery_code"

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer,
        ForeignKey("user_two_factor.user_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    code_hash = Column(String(255), nullable=False)
    used_at = Column(DateTime, nullable=True)
