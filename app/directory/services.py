"""Business rules of 一单两库, called by the views, the REST API, the importer and the CLI alike.

Every check raises DomainError with a message for the user; nothing is written by a failed
check. Workflow functions change state and leave committing to the caller (one transaction).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation

# Lazy: messages are built on every check but rendered only when a check fails (the importer
# runs the checks on every row of 100,000-row files).
from flask_babel import lazy_gettext as _
from sqlalchemy import select

from app.core.decisions import check_opinion
from app.core.errors import DomainError
from app.core.identifiers import USCC, CitizenID, InvalidIdentifier
from app.core.personal_data import blind_index
from app.directory.models import (
    CONFLICT_REASONS,
    GENDERS,
    INDUSTRIES,
    INSPECTION_METHODS,
    INSPECTOR_STATUSES,
    ITEM_CLASSES,
    ITEM_FIELDS,
    LIVE_STATUS,
    NATURAL_PERSON,
    REGISTRATION_STATUSES,
    RISK_CLASSES,
    SPECIAL_FLAGS,
    SPECIALTIES,
    TARGET_TYPES,
    Conflict,
    InspectionItem,
    Inspector,
    ItemRevision,
    Target,
    join_multi,
    split_multi,
)
from app.extensions import db
from app.security import roles
from app.security.scope import ALL, current_actor, departments_in_scope, in_scope, role_names

PHONE_RE = re.compile(r"^[0-9+\-() ]{7,20}$")


def _require(value, message):
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DomainError(message)


def _one_of(value, allowed, message):
    if value not in allowed:
        raise DomainError(message + " " + _("Allowed: %(values)s", values="、".join(allowed)))


def _subset(value, allowed, message) -> str | None:
    parts = split_multi(value)
    unknown = [p for p in parts if p not in allowed]
    if unknown:
        raise DomainError(
            message % {"values": "、".join(unknown)}
            + " "
            + _("Allowed: %(values)s", values="、".join(allowed))
        )
    return join_multi(parts) or None


def _require_department(obj):
    if obj.department_id is None and getattr(obj, "department", None) is None:
        raise DomainError(_("Choose the department in charge."))
    dept_id = obj.department_id if obj.department_id is not None else obj.department.id
    scope = departments_in_scope()
    if scope is not None and dept_id not in scope:
        raise DomainError(_("You can only record data of your own departments."))


def _strip_strings(obj, columns):
    for name in columns:
        value = getattr(obj, name, None)
        if isinstance(value, str):
            value = value.strip()
            setattr(obj, name, value or None)


# --- items ---------------------------------------------------------------------------------


def parse_ratio(value) -> Decimal | None:
    """'5', '5%', '5.5 %' or 5 -> Decimal('5.5'); a percentage in (0, 100]."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().rstrip("%％").strip()
    try:
        ratio = Decimal(text)
    except InvalidOperation:
        raise DomainError(_("The sampling ratio must be a percentage such as 5 or 5%.")) from None
    if not Decimal(0) < ratio <= Decimal(100):
        raise DomainError(_("The sampling ratio must be above 0% and at most 100%."))
    return ratio.quantize(Decimal("0.01"))


def check_item_values(item: InspectionItem, check_unique: bool = True) -> None:
    """`check_unique=False` for the importer, which checks codes for the whole file at once."""
    _strip_strings(item, [f for f in ITEM_FIELDS if f != "sampling_ratio"])
    _require(item.code, _("The item code is required."))
    _require(item.category, _("The category (抽查类别) is required."))
    _require(item.name, _("The item name (抽查事项) is required."))
    _require(item.target_type, _("The target (检查对象) is required."))
    _require(item.method, _("The method (检查方式) is required."))
    _require(item.inspecting_body, _("The inspecting body (检查主体) is required."))
    _one_of(item.item_class, ITEM_CLASSES, _("The item class must be 重点 or 一般."))
    item.method = _subset(item.method, INSPECTION_METHODS, _("Unknown method: %(values)s."))
    item.sampling_ratio = parse_ratio(item.sampling_ratio)
    _require_department(item)
    if not check_unique:
        return
    duplicate = db.session.scalar(
        select(InspectionItem.id).where(
            InspectionItem.code == item.code, InspectionItem.id != (item.id or 0)
        )
    )
    if duplicate:
        raise DomainError(_("Another item already has the code %(code)s.", code=item.code))


def check_item_editable(item: InspectionItem) -> None:
    """Drafts are edited in place; a published item changes only through a revision."""
    check_item_values(item)
    if item.status != "draft":
        raise DomainError(
            _(
                "A published item is changed by proposing a revision with a reason; "
                "a retired item cannot be changed."
            )
        )


def check_item_deletable(item: InspectionItem) -> None:
    if item.status != "draft" or item.version:
        raise DomainError(
            _("Only a draft that was never published can be deleted; retire the item instead.")
        )


def _refuse_if_referenced(column, row_id, message) -> None:
    if row_id and db.session.scalar(select(column).where(column == row_id).limit(1)):
        raise DomainError(message)


def check_target_deletable(target) -> None:
    """A target once drawn keeps its row: draws, records and the archive refer to it."""
    from app.draws.models import DrawnTarget

    _refuse_if_referenced(
        DrawnTarget.target_id,
        target.id,
        _(
            "This target was drawn and has records; it cannot be deleted. "
            "Change its registration status instead (注销/吊销/迁出)."
        ),
    )


def check_inspector_deletable(inspector) -> None:
    """An inspector once drawn keeps their row: the draw records and the groups refer to it."""
    from app.draws.models import Assignment

    _refuse_if_referenced(
        Assignment.inspector_id,
        inspector.id,
        _(
            "This inspector was drawn into inspection groups; they cannot be deleted. "
            "Change their status instead (离岗/调离/退休)."
        ),
    )


def _require_leader(user):
    if roles.LEADER not in role_names(user):
        raise DomainError(_("Only a Leader can do this."))


def _require_legal_basis(values: dict):
    if not (values.get("legal_basis") or "").strip():
        raise DomainError(
            _("An item without a legal basis (检查依据) cannot be published (Art. 5).")
        )


def _diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), after.get(k)] for k in ITEM_FIELDS if before.get(k) != after.get(k)}


def _dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def publish_item(item: InspectionItem, reason: str | None = None, user=None, today=None):
    """First publication of a draft (Leader)."""
    user = user or current_actor()
    _require_leader(user)
    if item.status != "draft":
        raise DomainError(_("Only a draft can be published this way."))
    values = item.field_values()
    _require_legal_basis(values)
    today = today or dt.date.today()
    item.status = "published"
    item.version = 1
    item.published_on = today
    item.revisions.append(
        ItemRevision(
            version=1,
            status="published",
            values=_dump(values),
            changed_fields=None,
            reason=(reason or "").strip() or str(_("First publication")),
            published_on=today,
            published_by_id=user.id,
        )
    )
    return item


def propose_revision(item: InspectionItem, new_values: dict, reason: str, user=None):
    """An Operator's change to a published item (R4.3): kept pending until a Leader publishes."""
    if item.status != "published":
        raise DomainError(_("Only a published item can be revised."))
    if not (reason or "").strip():
        raise DomainError(_("Say why the item changes (e.g. a revised regulation)."))
    if item.pending_revision is not None:
        raise DomainError(_("A revision of this item is already waiting for a Leader's decision."))
    before = item.field_values()
    probe = InspectionItem(
        id=item.id,
        department_id=item.department_id,
        status="draft",
        **{k: new_values.get(k, before[k]) for k in ITEM_FIELDS},
    )
    check_item_values(probe)
    after = probe.field_values()
    changes = _diff(before, after)
    if not changes:
        raise DomainError(_("Nothing was changed."))
    revision = ItemRevision(
        version=item.version + 1,
        status="pending",
        values=_dump(after),
        changed_fields=_dump(changes),
        reason=reason.strip(),
    )
    item.revisions.append(revision)
    return revision


def publish_revision(revision: ItemRevision, user=None, today=None, opinion: str = ""):
    """The Leader publishes a pending revision; the 意见 (opinion) is optional and kept."""
    check_opinion(opinion)
    user = user or current_actor()
    _require_leader(user)
    if revision.status != "pending":
        raise DomainError(_("This revision is not waiting for a decision."))
    values = json.loads(revision.values)
    _require_legal_basis(values)
    today = today or dt.date.today()
    item = revision.item
    for name in ITEM_FIELDS:
        setattr(item, name, values.get(name))
    item.sampling_ratio = parse_ratio(values.get("sampling_ratio"))
    item.version = revision.version
    item.published_on = today
    revision.status = "published"
    revision.published_on = today
    revision.published_by_id = user.id
    revision.decision_note = (opinion or "").strip() or None
    return item


def reject_revision(revision: ItemRevision, note: str, user=None):
    user = user or current_actor()
    _require_leader(user)
    if revision.status != "pending":
        raise DomainError(_("This revision is not waiting for a decision."))
    if not (note or "").strip():
        raise DomainError(_("Say why the revision is returned."))
    revision.status = "rejected"
    revision.decision_note = note.strip()
    revision.published_by_id = user.id
    return revision


def retire_item(item: InspectionItem, reason: str, user=None, today=None):
    user = user or current_actor()
    _require_leader(user)
    if item.status != "published":
        raise DomainError(_("Only a published item can be retired."))
    if not (reason or "").strip():
        raise DomainError(_("Say why the item is retired (e.g. the power was transferred)."))
    item.status = "retired"
    item.retired_on = today or dt.date.today()
    item.retire_reason = reason.strip()
    pending = item.pending_revision
    if pending is not None:
        pending.status = "rejected"
        pending.decision_note = str(_("The item was retired."))
    return item


# --- inspectors ----------------------------------------------------------------------------


def check_inspector(inspector: Inspector, check_unique: bool = True) -> None:
    _strip_strings(
        inspector, ["name", "gender", "post", "certificate_no", "phone", "id_number", "specialties"]
    )
    _require(inspector.name, _("The name is required."))
    _require(inspector.certificate_no, _("The law-enforcement certificate number is required."))
    if inspector.certificate_expiry is None:
        raise DomainError(_("The certificate's expiry date is required."))
    if inspector.gender is not None:
        _one_of(inspector.gender, GENDERS, _("Unknown gender."))
    _one_of(inspector.status or "", INSPECTOR_STATUSES, _("Unknown status."))
    inspector.specialties = _subset(
        inspector.specialties, SPECIALTIES, _("Unknown specialty: %(values)s.")
    )
    if inspector.phone and not PHONE_RE.match(inspector.phone):
        raise DomainError(_("The phone number %(phone)s is not valid.", phone=inspector.phone))
    if inspector.id_number:
        inspector.id_number = _valid(CitizenID, inspector.id_number)
    _require_department(inspector)
    if not check_unique:
        return
    others = Inspector.id != (inspector.id or 0)
    if inspector.id_number:
        index = blind_index(inspector.id_number, "inspector.id_number")
        holder = _holder(Inspector, Inspector.id_number_bidx == index, others)
        if holder:
            raise DomainError(
                _("The citizen ID number is already registered for %(name)s.", name=holder)
            )
    duplicate = _holder(Inspector, Inspector.certificate_no == inspector.certificate_no, others)
    if duplicate:
        raise DomainError(
            _(
                "Certificate %(no)s is already registered for %(name)s.",
                no=inspector.certificate_no,
                name=duplicate,
            )
        )
    _check_login(inspector)
    user_id = inspector.user.id if inspector.user is not None else inspector.user_id
    if user_id is not None:
        other = _holder(Inspector, Inspector.user_id == user_id, others)
        if other:
            raise DomainError(_("That login is already linked to %(name)s.", name=other))


def _holder(model, *conditions) -> str | None:
    """The name of the row that already holds a unique value, as the user may learn it: its
    name where the row is in their departments, else only that another department holds it
    (a uniqueness check must not be a way to read another department's roster)."""
    row = db.session.execute(
        select(model.name, model.department_id).where(*conditions).limit(1)
    ).first()
    if row is None:
        return None
    scope = departments_in_scope(current_actor())
    if scope is ALL or row.department_id in scope:
        return row.name
    return str(_("a record of another department"))


def _check_login(inspector: Inspector) -> None:
    """The login linked to an inspector is an Inspector's account of the user's departments:
    linking a Leader's or another department's account would give it an inspector's
    assignments (and their unpublished lists)."""
    from app.security.models import User

    user = inspector.user
    if user is None and inspector.user_id is not None:
        user = db.session.get(User, inspector.user_id)
    if user is not None and not inspector_login_allowed(user):
        raise DomainError(_("Link the inspector to an Inspector's login of your departments."))


def inspector_login_allowed(user) -> bool:
    """Whether the acting user may link an inspector to this login: an Inspector's account of
    one of the acting user's departments (the form's and the import's rule)."""
    scope = departments_in_scope(current_actor())
    own = {d.id for d in user.departments}
    return roles.INSPECTOR in role_names(user) and (scope is ALL or bool(own & scope))


def _valid(kind, code: str) -> str:
    try:
        return kind.validate(code)
    except InvalidIdentifier as exc:
        raise DomainError(str(exc)) from None


# --- targets -------------------------------------------------------------------------------


# check_target's messages, made once (an import checks every row of a file with it).
_UNKNOWN_TYPE = _("Unknown target type.")
_NAME_REQUIRED = _("The name is required.")
_ID_NUMBER_REQUIRED = _("A natural person needs a citizen ID number.")
_USCC_REQUIRED = _("A unified social credit code is required.")
_UNKNOWN_STATUS = _("Unknown registration status.")
_UNKNOWN_RISK_CLASS = _("The credit-risk class must be A, B, C or D.")
_UNKNOWN_INDUSTRY = _("Unknown industry category.")
_UNKNOWN_FLAG = _("Unknown supervision flag: %(values)s.")


def check_target(target: Target, check_unique: bool = True) -> None:
    _strip_strings(
        target,
        [
            "name",
            "uscc",
            "id_number",
            "legal_representative",
            "contact_person",
            "contact_phone",
            "address",
            "industry",
            "flags",
            "remarks",
        ],
    )
    _one_of(target.target_type, TARGET_TYPES, _UNKNOWN_TYPE)
    _require(target.name, _NAME_REQUIRED)
    if target.target_type == NATURAL_PERSON:
        _require(target.id_number, _ID_NUMBER_REQUIRED)
        target.id_number = _valid(CitizenID, target.id_number)
        if target.uscc:
            target.uscc = _valid(USCC, target.uscc)
    else:
        if target.target_type != "建设项目":
            _require(target.uscc, _USCC_REQUIRED)
        if target.uscc:
            target.uscc = _valid(USCC, target.uscc)
        if target.id_number:
            target.id_number = _valid(CitizenID, target.id_number)
    _one_of(target.registration_status, REGISTRATION_STATUSES, _UNKNOWN_STATUS)
    _one_of(target.risk_class, RISK_CLASSES, _UNKNOWN_RISK_CLASS)
    if target.industry is not None:
        _one_of(target.industry, INDUSTRIES, _UNKNOWN_INDUSTRY)
    target.flags = _subset(target.flags, SPECIAL_FLAGS, _UNKNOWN_FLAG)
    if target.contact_phone and not PHONE_RE.match(target.contact_phone):
        raise DomainError(_("The phone number %(phone)s is not valid.", phone=target.contact_phone))
    if target.last_inspected_on and target.last_inspected_on > dt.date.today():
        raise DomainError(_("The date of the last inspection lies in the future."))
    _require_department(target)
    if check_unique and target.registration_status == LIVE_STATUS:
        _check_unique_live(target)


def _check_unique_live(target: Target) -> None:
    """A code identifies one live target; closed ones (注销/吊销/迁出) may share it."""
    codes = (
        (Target.uscc, target.uscc, target.uscc),
        # Encrypted: compared by its blind index (app/core/personal_data.py).
        (
            Target.id_number_bidx,
            target.id_number,
            blind_index(target.id_number, "target.id_number"),
        ),
    )
    for column, value, compared in codes:
        if not value:
            continue
        other = _holder(
            Target,
            column == compared,
            Target.registration_status == LIVE_STATUS,
            Target.id != (target.id or 0),
        )
        if other:
            raise DomainError(
                _("%(code)s already belongs to the live target %(name)s.", code=value, name=other)
            )


# --- conflicts -----------------------------------------------------------------------------


def check_conflict(conflict: Conflict, user=None) -> None:
    user = user or current_actor()
    _strip_strings(conflict, ["reason", "detail"])
    inspector = conflict.inspector or (
        db.session.get(Inspector, conflict.inspector_id) if conflict.inspector_id else None
    )
    target = conflict.target or (
        db.session.get(Target, conflict.target_id) if conflict.target_id else None
    )
    if inspector is None:
        raise DomainError(_("Choose the inspector."))
    if target is None:
        raise DomainError(_("Choose the target."))
    _one_of(conflict.reason, CONFLICT_REASONS, _("Unknown reason."))
    if conflict.reason == "其他" and not conflict.detail:
        raise DomainError(_("Describe the relationship when the reason is 其他."))
    if conflict.valid_from is None:
        raise DomainError(_("The date from which the declaration holds is required."))
    if conflict.valid_until is not None and conflict.valid_until < conflict.valid_from:
        raise DomainError(_("The end date lies before the start date."))
    names = role_names(user)
    if names == {roles.INSPECTOR}:
        if inspector.user_id != getattr(user, "id", None):
            raise DomainError(_("An inspector declares their own interests only."))
        # Naming a target by id and reading the declaration back would list the whole
        # directory to someone who does not read it (issue 15).
        if not in_scope(target, user):
            raise DomainError(
                _(
                    "An inspector names targets of their own departments; the operator "
                    "declares an interest in another department's target."
                )
            )
        return
    scope = departments_in_scope(user)
    if scope is not None and not ({inspector.department_id, target.department_id} & scope):
        raise DomainError(_("Neither the inspector nor the target belongs to your departments."))


def conflicting_pairs(inspector_ids, target_ids, on_date: dt.date) -> set[tuple[int, int]]:
    """(inspector_id, target_id) pairs with a declaration valid on the date: the draw skips them."""
    rows = db.session.execute(
        select(Conflict.inspector_id, Conflict.target_id).where(
            Conflict.inspector_id.in_(list(inspector_ids)),
            Conflict.target_id.in_(list(target_ids)),
            Conflict.valid_from <= on_date,
            (Conflict.valid_until.is_(None)) | (Conflict.valid_until >= on_date),
        )
    )
    return {(i, t) for i, t in rows}
