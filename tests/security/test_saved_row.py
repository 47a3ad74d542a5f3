"""After a save the user is on the row they saved (issue 17, finding 2).

FAB sends the user back one step in the session's page history: with two forms opened one
after the other, saving the second showed "记录已更新" on the first row's form, and the next
inspection was typed into another company's record. Every edit form is saved here after another
row's form was opened in the same session; the answer must lead to the saved row."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from werkzeug.datastructures import MultiDict

from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services
from app.security.base_views import KeepsFormOnRefusal, LandsOnSavedRow
from tests.directory.conftest import acting, conflict, directory  # noqa: F401  (fixtures)
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.security.test_form_input import FORMS, _errors, form_fields


def _edit_links(client, list_url: str) -> tuple[str, list[int]]:
    route = list_url.rsplit("/list/", 1)[0]
    listing = client.get(list_url).get_data(as_text=True)
    ids = list(dict.fromkeys(int(pk) for pk in re.findall(rf'href="{re.escape(route)}/edit/(\d+)', listing)))
    return route, ids


def _save_unchanged(client, edit_url: str):
    fields = form_fields(client.get(edit_url).get_data(as_text=True))
    return client.post(edit_url, data=MultiDict([(n, v) for n, v, _k in fields]))


def _lands_on(response, route: str, pk: int) -> None:
    assert response.status_code == 302, _errors(response.get_data(as_text=True))
    target = response.headers["Location"]
    assert re.search(rf"{re.escape(route)}/(show|edit)/{pk}(\?|$)", target), target


def test_every_view_with_a_form_lands_on_the_saved_row(app):
    with_forms = [
        v for v in app.appbuilder.baseviews
        if isinstance(v, KeepsFormOnRefusal) and not type(v).__module__.startswith("tests.")
    ]
    assert with_forms
    assert [type(v).__name__ for v in with_forms if not isinstance(v, LandsOnSavedRow)] == []


@pytest.mark.parametrize("view_name", sorted(set(FORMS) - {"PlanLineView"}))
def test_saving_a_form_opened_after_another_lands_on_that_row(
    app, world, directory, plan, conflict, login_as, view_name  # noqa: F811
):
    list_url, username = FORMS[view_name]
    client = login_as(username)
    route, ids = _edit_links(client, list_url)
    assert ids, f"{view_name}: no row to edit"
    saved = ids[-1]
    if len(ids) > 1:  # another row's form first, as the user had; else FAB's answer is the list
        client.get(f"{route}/edit/{ids[0]}")
    response = _save_unchanged(client, f"{route}/edit/{saved}")
    _lands_on(response, route, saved)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "alert-success" in page


def test_a_plan_line_saved_lands_on_its_plan(app, world, plan, login_as):  # noqa: F811
    client = login_as("operator_a")
    _route, ids = _edit_links(client, "/plan-lines/list/")
    assert ids
    client.get("/plans/list/")
    response = _save_unchanged(client, f"/plan-lines/edit/{ids[0]}")
    with app.app_context():
        from app.planning.models import PlanLine

        plan_id = db.session.get(PlanLine, ids[0]).plan_id
    _lands_on(response, "/plans", plan_id)


def test_an_inspector_saving_the_second_record_stays_on_it(app, inspected, login_as):  # noqa: F811
    with acting(app, "inspector_a"):
        first, second = (
            services.open_record(db.session.get(DrawnTarget, drawn)) for drawn in inspected.drawn
        )
        db.session.commit()
        first, second = first.id, second.id
    client = login_as("inspector_a")
    client.get(f"/records/edit/{first}")
    client.get(f"/records/edit/{second}")
    fields = MultiDict(
        (n, v) for n, v, _k in form_fields(client.get(f"/records/edit/{second}").get_data(as_text=True))
    )
    for name, value in dict(
        inspection_date=(dt.date.today() - dt.timedelta(days=1)).isoformat(),
        method="实地检查",
        situation="取水计量设施运行正常",
        result_code="未发现问题",
        follow_up="无需后续处置",
    ).items():
        fields[name] = value
    fields.setlist("items", [str(inspected.item)])
    response = client.post(f"/records/edit/{second}", data=fields)
    _lands_on(response, "/records", second)
    with app.app_context():
        from app.inspections.models import InspectionRecord

        assert db.session.get(InspectionRecord, second).situation == "取水计量设施运行正常"
        assert db.session.get(InspectionRecord, first).situation is None


def test_a_new_row_added_lands_on_that_row(app, world, login_as):
    client = login_as("admin")
    client.get("/areas/list/")
    fields = MultiDict(
        (n, v) for n, v, _k in form_fields(client.get("/areas/add").get_data(as_text=True))
    )
    fields["name"] = "罕台镇"
    fields["kind"] = "镇"
    response = client.post("/areas/add", data=fields)
    with app.app_context():
        from app.directory.models import Area

        new = db.session.scalar(db.select(Area.id).where(Area.name == "罕台镇"))
    assert new is not None, _errors(response.get_data(as_text=True))
    _lands_on(response, "/areas", new)
