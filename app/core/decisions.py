"""A Leader's decisions and their 意见 (issue 17, finding 4).

Rows that had no history of their decisions (annual plans, checks outside the plan) keep one
`Decision` per approve / return / refusal: who, when, what and the opinion (required to return
or refuse, optional to approve). The audit recorder logs each row as it is written; the row's
page shows the list (`templates/core/_decisions.html`), so the Operator whose plan was returned
reads why. Summaries (`SummaryVersion.comment`) and blacklist entries (`BlacklistEvent.comment`)
keep theirs in their own history tables.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import relationship

DECISIONS = {
    "approved": _l("Approved"),
    "returned": _l("Returned"),
    "rejected": _l("Refused"),
}


class Decision(Model):
    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_object", "object_type", "object_id"),)

    id = Column(Integer, primary_key=True)
    object_type = Column(String(40), nullable=False)  # the row's table
    object_id = Column(Integer, nullable=False)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False)
    decision = Column(String(20), nullable=False)
    opinion = Column(Text, nullable=True)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    decided_on = Column(DateTime, nullable=False)

    department = relationship("Department")
    decided_by = relationship("User")

    @property
    def decision_label(self):
        return DECISIONS.get(self.decision, "")


# An opinion (意见), a reason or a note typed into a decision form: a few sentences, kept in a
# Text column and shown on the row's page and the workbench. A longer text is refused.
MAX_OPINION = 2000
OPINION_TOO_LONG = _l("The opinion is too long: at most %(n)d characters.")


def check_opinion(text) -> None:
    """Refuse an opinion, reason or note longer than MAX_OPINION characters (a DomainError, so
    every page and the REST API answer it in Chinese and write nothing)."""
    from app.core.errors import DomainError

    if isinstance(text, str) and len(text.strip()) > MAX_OPINION:
        raise DomainError(str(OPINION_TOO_LONG) % {"n": MAX_OPINION})


def record_decision(obj, decision: str, opinion: str, user) -> Decision:
    """Keep the decision on `obj` (a row with `id` and `department_id`) in the session."""
    from app.extensions import db

    check_opinion(opinion)

    row = Decision(
        object_type=obj.__table__.name,
        object_id=obj.id,
        department_id=obj.department_id,
        decision=decision,
        opinion=(opinion or "").strip() or None,
        decided_by_id=user.id,
        decided_on=dt.datetime.now(),
    )
    db.session.add(row)
    return row


def decisions_of(obj) -> list[Decision]:
    """The decisions on `obj`, oldest first."""
    from app.extensions import db

    if obj is None or obj.id is None:
        return []
    return list(
        db.session.scalars(
            select(Decision)
            .where(Decision.object_type == obj.__table__.name, Decision.object_id == obj.id)
            .order_by(Decision.decided_on, Decision.id)
        )
    )
