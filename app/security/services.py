"""Rules for departments, shared by the UI, the REST API and the CLI."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core.errors import DomainError
from app.core.identifiers import USCC, InvalidIdentifier
from app.extensions import db
from app.security.models import DEPARTMENT_KINDS, Department


class DepartmentError(DomainError):
    pass


def check_department(dept: Department) -> None:
    """Raise DepartmentError (a Chinese message) if the department cannot be saved."""
    if not (dept.name or "").strip():
        raise DepartmentError(_("The department name is required."))
    if not (dept.code or "").strip():
        raise DepartmentError(_("The department code is required."))
    if dept.kind not in DEPARTMENT_KINDS:
        raise DepartmentError(_("Unknown department kind."))
    code = (dept.uscc or "").strip()
    if code:
        try:
            dept.uscc = USCC.validate(code)
        except InvalidIdentifier as exc:
            raise DepartmentError(str(exc)) from None
    else:
        dept.uscc = None
    parent = dept.parent
    if parent is None and dept.parent_id is not None:
        parent = db.session.get(Department, dept.parent_id)
    if parent is None:
        roots = select(func.count()).select_from(Department).where(Department.parent_id.is_(None))
        if dept.id is not None:
            roots = roots.where(Department.id != dept.id)
        if db.session.scalar(roots):
            raise DepartmentError(
                _("Only the bureau has no parent department; choose a parent department.")
            )
        return
    node, seen = parent, set()
    while node is not None:
        if dept.id is not None and node.id == dept.id:
            raise DepartmentError(_("A department cannot be placed below itself."))
        if node.id in seen:
            break
        seen.add(node.id)
        node = node.parent


def check_department_deletable(dept: Department) -> None:
    if dept.children:
        raise DepartmentError(
            _("The department still has sub-departments; move or delete them first.")
        )
    if dept.users:
        raise DepartmentError(
            _("The department still has users; move them to another department first.")
        )
