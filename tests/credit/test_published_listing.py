"""A published blacklist listing keeps the target as it was published (issue 15, finding 8):
the public blacklist, its downloads and the public credit record print the name and code of the
publication, whatever the directory says later."""

import datetime as dt

from app.credit import services
from app.credit.models import BlacklistEntry
from app.directory.models import Target
from app.extensions import db
from tests.credit.test_draw_and_public import _list
from tests.directory.conftest import acting


def _rename(app, target_id: int, name: str) -> None:
    with acting(app, "operator_a"):
        db.session.get(Target, target_id).name = name
        db.session.commit()


def _company(app, world, name: str, uscc: str) -> int:
    with acting(app, "operator_a"):
        target = Target(
            department_id=world.dept_a, target_type="企业", name=name, uscc=uscc, risk_class="B"
        )
        db.session.add(target)
        db.session.commit()
        return target.id


def _pages(client, target_id):
    urls = [
        "/public/blacklist",
        "/public/blacklist?format=csv",
        "/public/blacklist?format=csv&encoding=gb18030",
        "/public/blacklist?q=91150602MA0N000001",
        f"/public/credit/{target_id}",
    ]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.data
    return pages


def test_a_published_listing_keeps_the_name_it_was_published_with(app, world, client):
    target_id = _company(app, world, "起草时的名称有限公司", "91150602MA0N000001")
    entry_id = _list(app, target_id, published=False)
    # Renamed before publication: the publication takes the name of that day.
    _rename(app, target_id, "公示时的名称有限公司")
    with acting(app, "leader_a"):
        services.publish(db.session.get(BlacklistEntry, entry_id))
        db.session.commit()
    before = _pages(client, target_id)
    assert "公示时的名称有限公司" in before["/public/blacklist"].decode()
    assert "公示时的名称有限公司" in before[f"/public/credit/{target_id}"].decode()

    _rename(app, target_id, "公示后的新名称有限公司")
    assert _pages(client, target_id) == before
    page = client.get("/public/blacklist?q=公示后的新名称").get_data(as_text=True)
    assert "91150602MA0N000001" not in page
    # A removal of the published listing shows on the name that was published.
    with acting(app, "operator_a"):
        entry = db.session.get(BlacklistEntry, entry_id)
        entry.status, entry.removed_on, entry.active_key = "removed", dt.date.today(), None
        db.session.commit()
    page = client.get("/public/blacklist").get_data(as_text=True)
    assert "公示时的名称有限公司" in page and "公示后的新名称有限公司" not in page
    with app.app_context():
        assert db.session.get(BlacklistEntry, entry_id).target.name == "公示后的新名称有限公司"
