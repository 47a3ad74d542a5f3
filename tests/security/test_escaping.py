"""HTML and JavaScript typed into text fields are shown as text, never run: on the staff pages
(FAB lists and detail pages, our templates, the badge markup of listed targets) and on the
public pages and exports."""

from sqlalchemy import select

from app.credit.models import BlacklistEntry
from app.directory.models import Target
from app.extensions import db
from tests.credit.conftest import Refused, operator_a2, refused  # noqa: F401  (fixtures)
from tests.credit.test_draw_and_public import _list
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_typed_markup_is_escaped_everywhere(app, refused: Refused, login_as, client):  # noqa: F811
    with acting(app, "operator_a"):
        target = db.session.get(Target, refused.target)
        target.name = "水务" + PAYLOAD
        target.remarks = PAYLOAD
        target.listed_on = None
        db.session.commit()
    operator = login_as("operator_a")
    pages = [
        "/targets/list/",
        f"/targets/show/{refused.target}",
        "/records/list/",
        f"/records/show/{refused.record}",
        f"/rectifications/show/{refused.case}",
        "/blacklist/list/",
        f"/credit/target/{refused.target}",
    ]
    for url in pages:
        page = operator.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;" in page, url
    # Listed (the name then carries the badge's markup) and published: the public side too.
    with acting(app, "operator_a"):
        suggestion = db.session.scalars(select(BlacklistEntry)).one()  # the system's
        suggestion.status, suggestion.active_key = "dismissed", None
        db.session.commit()
    _list(app, refused.target)
    for url in (f"/targets/show/{refused.target}", "/targets/list/"):
        page = operator.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "label-danger" in page, url
    for url in ("/public/blacklist", f"/public/credit/{refused.target}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "&lt;script&gt;" in page, url
