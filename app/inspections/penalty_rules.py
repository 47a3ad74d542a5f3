"""The rules of a penalty's 双公示 fields (信用中国's 行政处罚 standard): what is required, what
each kind of penalty needs, the amounts in 万元 with six decimals, the dates' order, and the
defaults a new penalty gets. One function, `check_penalty`, for the record's penalty form, the
penalty's edit page, the REST API and the demo alike; it raises DomainError (in Chinese) and
changes nothing in the database."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from app.core.errors import DomainError
from app.core.identifiers import USCC, InvalidIdentifier
from app.directory.models import Target, join_multi, split_multi
from app.extensions import db
from app.inspections.models import (
    CONFISCATION_KINDS,
    FINE_KIND,
    LICENCE_KINDS,
    MINOR_KINDS,
    NO_LIMIT_DATE,
    PARTY_CATEGORIES,
    PENALTY_KINDS,
    Penalty,
    party_category_of,
)

# The fields of a penalty that the form, the REST API and the record's penalty form take.
PENALTY_FIELDS = [
    "decision_number",
    "decision_date",
    "party_category",
    "violation_type",
    "violation_facts",
    "legal_basis",
    "kinds",
    "content",
    "fine_amount",
    "confiscation_amount",
    "licence",
    "valid_until",
    "publicity_until",
    "authority",
    "authority_uscc",
    "source_unit",
    "source_uscc",
    "note",
]
TEXT_FIELDS = (
    "decision_number",
    "party_category",
    "violation_type",
    "violation_facts",
    "legal_basis",
    "content",
    "licence",
    "authority",
    "authority_uscc",
    "source_unit",
    "source_uscc",
    "note",
)
# The longest text each field takes: the column's length, and 2,000 characters for the long
# texts (违法事实, 处罚依据, 处罚内容, 备注; docs/exports.md).
LONG_TEXT = 2000
MAX_LENGTHS = {
    "decision_number": Penalty.__table__.c.decision_number.type.length,
    "violation_type": Penalty.__table__.c.violation_type.type.length,
    "violation_facts": LONG_TEXT,
    "legal_basis": LONG_TEXT,
    "content": LONG_TEXT,
    "licence": Penalty.__table__.c.licence.type.length,
    "authority": Penalty.__table__.c.authority.type.length,
    "source_unit": Penalty.__table__.c.source_unit.type.length,
    "note": LONG_TEXT,
}
DATE_FIELDS = ("decision_date", "valid_until", "publicity_until")
# No decision of the bureau is older than this (the records kept start in 2000); none of the
# dates reaches past the standard's "no limit" date.
EARLIEST_DECISION = dt.date(2000, 1, 1)
AMOUNT_FIELDS = ("fine_amount", "confiscation_amount")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,6})?$")
# The amounts as the form and the errors name them.
AMOUNT_LABELS = {
    "fine_amount": _("Fine (10,000 yuan)"),
    "confiscation_amount": _("Confiscated amount (10,000 yuan)"),
}
USCC_LABELS = {
    "authority_uscc": _("Penalty authority's unified social credit code"),
    "source_uscc": _("Data source unit's unified social credit code"),
}


def _text(value) -> str | None:
    text = ("" if value is None else str(value)).strip()
    return text or None


def parse_amount(value, label) -> Decimal | None:
    """'1.5', '0.000001' or Decimal -> Decimal; empty -> None. Refused in Chinese: not a
    number, negative, more than 6 decimals or more than 12 digits before the point."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise DomainError(_("%(field)s must be a number of 万元, such as 1.5.", field=label))
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, (int, float)):
        text = repr(value) if isinstance(value, float) else str(value)
    else:
        text = str(value).strip()
    if text.startswith("-"):
        try:
            Decimal(text)
        except InvalidOperation:
            pass
        else:
            raise DomainError(_("%(field)s cannot be negative.", field=label))
    if "." in text:
        # 1.500000000 is 1.5: trailing zeros are not decimals of the amount.
        whole, decimals = text.split(".", 1)
        text = f"{whole}.{decimals.rstrip('0') or '0'}"
    if not _AMOUNT.match(text):
        if re.match(r"^\d+\.\d{7,}$", text):
            raise DomainError(_("%(field)s has at most 6 decimals.", field=label))
        raise DomainError(_("%(field)s must be a number of 万元, such as 1.5.", field=label))
    return Decimal(text)


def parse_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(_("Dates are written YYYY-MM-DD.")) from None


def parse_kinds(value) -> str | None:
    """A list of kinds, or their text joined with 、 ； , -> "警告、罚款" in the law's order."""
    chosen = split_multi(value) if isinstance(value, str) else [str(v) for v in (value or [])]
    chosen = [v.strip() for v in chosen if v and v.strip()]
    unknown = [v for v in chosen if v not in PENALTY_KINDS]
    if unknown:
        raise DomainError(
            _("Unknown kind of penalty: %(values)s.", values="、".join(dict.fromkeys(unknown)))
        )
    return join_multi(k for k in PENALTY_KINDS if k in chosen) or None


def default_publicity_until(decision_date: dt.date, kinds: list[str]) -> dt.date:
    """信用中国's rule: 警告 / 通报批评 only, 3 months; any other penalty 1 year (its minimum)."""
    if kinds and set(kinds) <= MINOR_KINDS:
        return decision_date + relativedelta(months=3)
    return decision_date + relativedelta(years=1)


def fill_defaults(penalty: Penalty, task, target) -> None:
    """What a new penalty gets when the form leaves it empty: the party's category from the
    target's type, 处罚有效期 2099-12-31 (no limit, as the standard writes it), 公示截止期 by the
    credit platform's rule, and the 处罚机关 / 数据来源单位 from the task's department (the
    department that acts in law for it: Department.legal_person)."""
    if not penalty.party_category and target is not None:
        penalty.party_category = party_category_of(target.target_type)
    if penalty.valid_until is None:
        penalty.valid_until = NO_LIMIT_DATE
    kinds = split_multi(penalty.kinds)
    if penalty.publicity_until is None and penalty.decision_date is not None and kinds:
        penalty.publicity_until = default_publicity_until(penalty.decision_date, kinds)
    organ = task.department.legal_person if task is not None and task.department else None
    if organ is not None:
        if not penalty.authority:
            penalty.authority = organ.name
            penalty.authority_uscc = penalty.authority_uscc or organ.uscc
        if not penalty.source_unit:
            penalty.source_unit = organ.name
            penalty.source_uscc = penalty.source_uscc or organ.uscc


def set_fields(penalty: Penalty, values: dict) -> None:
    """The given fields (strings from a form or JSON values) onto the penalty, unparsed
    values left for check_penalty."""
    for name in PENALTY_FIELDS:
        if name in values:
            setattr(penalty, name, values[name])


def _label(name):
    from app.inspections.views import PENALTY_LABELS  # the views import these rules

    return PENALTY_LABELS[name]


def check_penalty(penalty: Penalty, today: dt.date | None = None, target=None) -> None:
    """Normalise and check every 双公示 field; DomainError names the first problem. `target`:
    the party (the penalty's own when not given)."""
    with db.session.no_autoflush:
        _check_penalty(penalty, today or dt.date.today(), target)


def _check_penalty(penalty: Penalty, today: dt.date, target) -> None:
    for name in TEXT_FIELDS:
        setattr(penalty, name, _text(getattr(penalty, name)))
    for name, most in MAX_LENGTHS.items():
        value = getattr(penalty, name)
        if value and len(value) > most:
            raise DomainError(
                _(
                    "%(field)s takes at most %(n)d characters (%(length)d given).",
                    field=_label(name),
                    n=most,
                    length=len(value),
                )
            )
    for name in DATE_FIELDS:
        setattr(penalty, name, parse_date(getattr(penalty, name)))
    for name in AMOUNT_FIELDS:
        setattr(penalty, name, parse_amount(getattr(penalty, name), AMOUNT_LABELS[name]))
    penalty.kinds = parse_kinds(penalty.kinds)
    if not (penalty.decision_number and penalty.decision_date and penalty.content):
        raise DomainError(_("A penalty needs its decision number, date and content."))
    if penalty.decision_date > today:
        raise DomainError(_("The decision date cannot be in the future."))
    if penalty.decision_date < EARLIEST_DECISION:
        raise DomainError(
            _(
                "The decision date cannot be before %(day)s.",
                day=EARLIEST_DECISION.isoformat(),
            )
        )
    for name in ("valid_until", "publicity_until"):
        value = getattr(penalty, name)
        if value is not None and value > NO_LIMIT_DATE:
            raise DomainError(
                _(
                    "%(field)s cannot be after %(day)s.",
                    field=_label(name),
                    day=NO_LIMIT_DATE.isoformat(),
                )
            )
    if penalty.party_category not in PARTY_CATEGORIES:
        raise DomainError(
            _("The party's category is one of %(values)s.", values="、".join(PARTY_CATEGORIES))
        )
    target = target or penalty.target
    if target is None and penalty.target_id is not None:
        target = db.session.get(Target, penalty.target_id)
    if target is not None and penalty.party_category != party_category_of(target.target_type):
        raise DomainError(
            _(
                "The party is of type %(type)s: its category (行政相对人类别) is %(category)s, "
                "not %(given)s.",
                type=target.target_type,
                category=party_category_of(target.target_type),
                given=penalty.party_category,
            )
        )
    if not penalty.violation_facts:
        raise DomainError(_("State the facts of the violation (违法事实)."))
    if not penalty.legal_basis:
        raise DomainError(_("State the legal basis of the penalty (处罚依据)."))
    kinds = set(split_multi(penalty.kinds))
    if not kinds:
        raise DomainError(_("Choose at least one kind of penalty (处罚类别)."))
    if FINE_KIND in kinds and penalty.fine_amount is None:
        raise DomainError(_("A penalty with 罚款 needs the fine (10,000 yuan)."))
    if FINE_KIND in kinds and not penalty.fine_amount:
        raise DomainError(_("A penalty with 罚款 needs a fine above 0."))
    if kinds & CONFISCATION_KINDS and penalty.confiscation_amount is None:
        raise DomainError(_("A penalty with 没收 needs the confiscated amount (10,000 yuan)."))
    if kinds & LICENCE_KINDS and not penalty.licence:
        raise DomainError(_("A penalty with 暂扣 or 吊销 needs the licence's name and number."))
    if penalty.valid_until is not None and penalty.valid_until < penalty.decision_date:
        raise DomainError(_("The penalty's validity cannot end before the decision date."))
    if penalty.publicity_until is not None and penalty.publicity_until < penalty.decision_date:
        raise DomainError(_("The end of publicity cannot be before the decision date."))
    for name, label in USCC_LABELS.items():
        code = getattr(penalty, name)
        if code:
            setattr(penalty, name, valid_uscc(code, label))
    _check_number_unused(penalty)


def _check_number_unused(penalty: Penalty) -> None:
    """A decision number is used once by a 处罚机关 (the penalties of every department, not
    only the user's: the number is the authority's). A penalty edited without changing either
    keeps its number, even one recorded twice before this rule."""
    if penalty.id is not None:
        state = sa_inspect(penalty)
        if not any(
            state.attrs[name].history.has_changes() for name in ("decision_number", "authority")
        ):
            return
    query = select(Penalty.id, Penalty.decision_date).where(
        Penalty.decision_number == penalty.decision_number,
        Penalty.authority.is_(None)
        if penalty.authority is None
        else Penalty.authority == penalty.authority,
    )
    if penalty.id is not None:
        query = query.where(Penalty.id != penalty.id)
    other = db.session.execute(query.order_by(Penalty.id).limit(1)).first()
    if other is not None:
        raise DomainError(
            _(
                "%(authority)s already used the decision number %(number)s for penalty "
                "#%(id)s (decided %(day)s).",
                authority=penalty.authority or "",
                number=penalty.decision_number,
                id=other.id,
                day=other.decision_date.isoformat() if other.decision_date else "",
            )
        )


def valid_uscc(code: str, label) -> str:
    try:
        return USCC.validate(code)
    except InvalidIdentifier as exc:
        raise DomainError(_("%(field)s: %(problem)s", field=label, problem=str(exc))) from None
