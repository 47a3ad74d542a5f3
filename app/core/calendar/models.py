from flask_appbuilder import Model
from flask_appbuilder.models.mixins import AuditMixin
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Date, Integer, String

CALENDAR_SOURCES = {
    "chinese-calendar": _l("chinese-calendar package"),
    "import": _l("File import"),
    "manual": _l("Entered by hand"),
}


class Holiday(AuditMixin, Model):
    """A day that breaks the Monday-Friday rule: a public holiday on a weekday
    (is_workday False) or a 调休 weekend workday (is_workday True). Holidays that fall on a
    weekend are kept too, so the table reads like the State Council's notice."""

    __tablename__ = "holiday"

    id = Column(Integer, primary_key=True)
    date = Column(Date, nullable=False, unique=True)
    is_workday = Column(Boolean, nullable=False, default=False)
    name = Column(String(64), nullable=False, default="")
    source = Column(String(20), nullable=False, default="manual")

    @property
    def source_label(self):
        return CALENDAR_SOURCES.get(self.source, self.source)

    def __str__(self):
        return f"{self.date.isoformat()} {self.name}"


class CalendarYear(AuditMixin, Model):
    """Whether a year's holidays are confirmed. For a year without a confirmed row the
    calendar counts Monday-Friday and flags every result "calendar not confirmed"."""

    __tablename__ = "calendar_year"

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False, unique=True)
    confirmed = Column(Boolean, nullable=False, default=False)
    source = Column(String(20), nullable=False, default="manual")
    note = Column(String(200), nullable=True)

    @property
    def source_label(self):
        return CALENDAR_SOURCES.get(self.source, self.source)

    def __str__(self):
        return str(self.year)
