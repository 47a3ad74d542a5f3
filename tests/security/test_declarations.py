"""Declared, not defaulted (issue 15): what a role can *infer* through filters, sorts, `_info`
and the choices of forms.

Generated from the registered views: every ModelRestApi and list ModelView offers filters and
sorts on columns that the role reading it is shown there (list or show columns), and nothing
else; a resource that forgets its declarations does not start. Then, for every secret-bearing
value, a guessed prefix, an equality, a related filter and a sort give the same answer whatever
the guess, on REST (`q=` rison) and on list pages (`_flt_N_col=…`, `_oc_View=col`)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

import prison
import pytest
from flask_appbuilder import ModelRestApi, ModelView
from sqlalchemy.orm import undefer

from app.directory.models import Target
from app.draws.models import Draw
from app.extensions import db
from app.security.base_views import AppModelRestApi, AppModelView
from app.security.scope import ScopedInterface
from tests.directory.conftest import acting, citizen_id, directory  # noqa: F401  (fixture)
from tests.draws.test_draw_service import _draw, task  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.support.probe import ScopeProbe

# One user per role of app/security/roles.py (the `world` fixture).
ROLE_USERS = ("admin", "leader", "operator_a", "inspector_a", "jointoffice")
# A column shown under another name: the Target directory shows an enterprise's USCC as its
# identifier (a natural person has none: their ID number is `id_number`, never searchable).
SHOWN_AS = {("TargetView", "uscc"): "identifier_display"}
HEADER = "Project-Id-Version"


def _shown(view, column: str) -> bool:
    """Whether `view` shows `column` to whoever reads it: as such, through a dotted relation
    column (`department.name`), as its label or HTML rendering (`status_label`)."""
    visible = set(view.list_columns) | set(view.show_columns)
    if column in visible or any(c.startswith(f"{column}.") for c in visible):
        return True
    if {f"{column}_label", f"{column}_html"} & visible:
        return True
    return SHOWN_AS.get((type(view).__name__, column)) in visible


def _hidden(view, columns) -> list[str]:
    return [c for c in columns if not _shown(view, c)]


def _model_views(app):
    return [
        v
        for v in app.appbuilder.baseviews
        if isinstance(v, (ModelView, ModelRestApi)) and v.datamodel is not None
    ]


def test_every_view_declares_filters_and_sorts_on_shown_columns_only(app):
    offenders = {}
    for view in _model_views(app):
        hidden = _hidden(view, view.search_columns) + _hidden(view, view.order_columns)
        hidden += _hidden(view, view._filters.get_search_filters())
        if hidden:
            offenders[type(view).__name__] = hidden
    assert offenders == {}


def test_a_resource_that_forgets_its_declarations_does_not_start(app):
    declared = {
        "datamodel": ScopedInterface(ScopeProbe),
        "list_columns": ["id", "name"],
        "show_columns": ["id", "name"],
        "add_columns": ["name"],
        "edit_columns": ["name"],
        "class_permission_name": "ScopeProbe",
    }
    for base in (AppModelRestApi, AppModelView):
        for missing in ("search_columns", "order_columns"):
            attrs = {**declared, "search_columns": ["name"], "order_columns": ["name"]}
            del attrs[missing]
            forgetful = type(f"Forgot{missing}", (base,), attrs)
            with app.app_context(), pytest.raises(TypeError, match=missing):
                forgetful()
        # Declared empty: no filter and no sort at all, not FAB's "every column".
        empty = type("Empty", (base,), {**declared, "search_columns": [], "order_columns": []})
        with app.app_context():
            view = empty()
        assert view.search_columns == [] and view.order_columns == []
        assert view._filters.get_search_filters() == {}
    # And the generated check above catches a view that would filter on a hidden column.
    with app.app_context():
        leaky = type(
            "Leaky",
            (AppModelRestApi,),
            {**declared, "search_columns": ["marked"], "order_columns": ["department_id"]},
        )()
    assert _hidden(leaky, leaky.search_columns + leaky.order_columns) == [
        "marked",
        "department_id",
    ]


def _bearer(api_token, username):
    return {"Authorization": f"Bearer {api_token(username)}"}


def test_info_and_lists_offer_only_shown_columns_to_every_role(app, world, api_token):
    client = app.test_client()
    seen = 0
    for username in ROLE_USERS:
        headers = _bearer(api_token, username)
        for view in _model_views(app):
            if not isinstance(view, ModelRestApi):
                continue
            base = f"/api/v1/{view.resource_name}"
            info = client.get(f"{base}/_info", headers=headers)
            if info.status_code == 403:
                continue
            assert info.status_code == 200, (username, base)
            seen += 1
            body = info.get_json()
            where = f"{username} {base}"
            assert _hidden(view, body["filters"]) == [], where
            listed = client.get(f"{base}/?q=(page_size:1)", headers=headers).get_json()
            assert _hidden(view, listed["order_columns"]) == [], where
            # Form fields and their choices only for a user who may use that form.
            if "can_write" not in body["permissions"]:
                assert body["add_columns"] == [] and body["edit_columns"] == [], where
            for field in body["add_columns"] + body["edit_columns"]:
                assert HEADER not in field["description"] and HEADER not in field["label"]
    assert seen > 20


def test_list_pages_filter_and_sort_on_shown_columns_for_every_role_that_opens_them(
    app, world, login_as
):
    for username in ROLE_USERS:
        client = login_as(username)
        for view in _model_views(app):
            if not isinstance(view, ModelView):
                continue
            if client.get(f"{view.route_base}/list/").status_code != 200:
                continue
            assert _hidden(view, view.search_columns + view.order_columns) == []


# --- oracles -----------------------------------------------------------------------------

_TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|("csrf_token": ")[^"]+|(nonce=")[^"]+')


def _page(client, url, echoed=""):
    """The page's HTML, without what changes on every request (tokens, nonces) and without
    the page's own URL arguments (`echoed`), which its links repeat."""
    response = client.get(url)
    assert response.status_code == 200, url
    body = _TOKEN.sub(r"\1\2\3", response.get_data(as_text=True))
    return body.replace(echoed, "ECHO") if echoed else body


def _rest(client, headers, resource, **query):
    response = client.get(f"/api/v1/{resource}/?q={prison.dumps(query)}", headers=headers)
    assert response.status_code < 500
    return response.status_code, response.get_json()


def _guesses(value: str):
    """A right and a wrong guess of the value's first characters."""
    right = value[:2]
    wrong = next(c for c in ("00", "zz", "9Z", "张") if not value.startswith(c))
    return right, wrong


def _rest_answers_alike(client, headers, resource, column, value, pinned):
    """Prefix, equality, inequality filters and both sort orders on `column` answer the same
    whatever the guess; `pinned` is a filter on a shown column that selects the row."""
    right, wrong = _guesses(value)
    for opr, guesses in (("sw", (right, wrong)), ("eq", (value, wrong)), ("ct", (right, wrong))):
        answers = [
            _rest(
                client,
                headers,
                resource,
                filters=[{"col": column, "opr": opr, "value": g}, pinned],
            )
            for g in guesses
        ]
        assert answers[0] == answers[1], (resource, column, opr)
        assert answers[0][0] == 400 and "筛选" in answers[0][1]["message"]
    orders = [
        _rest(client, headers, resource, order_column=column, order_direction=d)
        for d in ("asc", "desc")
    ]
    assert orders[0] == orders[1] and orders[0][0] == 400 and "排序" in orders[0][1]["message"]


def _page_answers_alike(client, route, view_name, column, value):
    right, wrong = _guesses(value)
    for index in range(3):
        bodies = set()
        for guess in (right, wrong):
            url = f"{route}/list/?{urlencode({f'_flt_{index}_{column}': guess})}"
            body = _page(client, url)
            bodies.add(re.sub(f"_flt_{index}_{re.escape(column)}=[^&\"'\\s>]*", "ECHO", body))
        assert len(bodies) == 1, (route, column, index)
    # The rows in the same order; the column headers' links echo the requested direction.
    sorted_ = {
        re.sub(
            f"_od_{view_name}=(asc|desc)",
            "ECHO",
            _page(client, f"{route}/list/?_oc_{view_name}={column}&_od_{view_name}={direction}"),
        )
        for direction in ("asc", "desc")
    }
    assert len(sorted_) == 1, (route, column)


@pytest.fixture
def drawn(app, task):  # noqa: F811
    """Two completed draws of an unpublished task: the secrets, pools and results are secret."""
    first = _draw(app, task, "target", entropy="20270315 开奖号码 8")
    second = _draw(app, task, "inspector", entropy="20270316 开奖号码 3")
    with app.app_context():
        # Draw.pool is deferred (a frozen pool is large): load it while the rows are attached.
        return [
            db.session.get(Draw, pk, options=[undefer(Draw.pool)]) for pk in (first, second)
        ]


SECRET_DRAW_COLUMNS = ("server_secret", "pool", "result", "witness_entropy", "params")


def test_no_filter_or_sort_tells_anything_of_an_unpublished_draw(
    app, world, drawn, api_token, login_as
):
    headers = _bearer(api_token, "operator_a")
    client = app.test_client()
    draw = drawn[0]
    pinned = {"col": "uid", "opr": "eq", "value": draw.uid}
    assert _rest(client, headers, "draw", filters=[pinned])[1]["count"] == 1
    for column in SECRET_DRAW_COLUMNS:
        _rest_answers_alike(client, headers, "draw", column, getattr(draw, column), pinned)
    # Passwords through a relation of the row.
    with app.app_context():
        password = app.appbuilder.sm.find_user(username="operator_a").password
    for column in ("created_by.password", "changed_by.password", "created_by"):
        _rest_answers_alike(client, headers, "draw", column, password, pinned)
    page = login_as("operator_a")
    for column in SECRET_DRAW_COLUMNS:
        _page_answers_alike(page, "/draws", "DrawView", column, getattr(draw, column))
    for column in ("created_by", "changed_by", "assignments", "drawn_targets"):
        _page_answers_alike(page, "/draws", "DrawView", column, "1")
    # Counts of the list pages and answers of the other resources holding draws' results.
    for resource in ("record", "summary", "rectification", "task"):
        for column in ("created_by", "changed_by", "drawn_target"):
            right = _rest(
                client, headers, resource, filters=[{"col": column, "opr": "rel_o_m", "value": 1}]
            )
            wrong = _rest(
                client, headers, resource, filters=[{"col": column, "opr": "rel_o_m", "value": 2}]
            )
            assert right == wrong and right[0] == 400, (resource, column)


@pytest.fixture
def person(app, world, directory):  # noqa: F811
    """A natural person in department A's directory, ID number and phone on record."""
    with acting(app, "operator_a"):
        row = Target(
            department_id=world.dept_a,
            target_type="自然人",
            name="欧阳娜娜",
            id_number=citizen_id(7),
            contact_phone="13812345678",
            risk_class="A",
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_no_filter_or_sort_tells_a_masked_id_number_or_phone(
    app,
    world,
    directory,  # noqa: F811
    person,
    api_token,
    login_as,
):
    client = app.test_client()
    with app.app_context():
        target = db.session.get(Target, person)
        target_values = {"id_number": target.id_number, "contact_phone": target.contact_phone}
        from app.directory.models import Inspector

        inspector = db.session.get(Inspector, directory.inspector_a)
        inspector_values = {"id_number": inspector.id_number, "phone": inspector.phone}
    for username in ("operator_a", "leader"):
        headers = _bearer(api_token, username)
        pinned = {"col": "name", "opr": "eq", "value": "欧阳娜娜"}
        assert _rest(client, headers, "target", filters=[pinned])[1]["count"] == 1
        for column, value in target_values.items():
            _rest_answers_alike(client, headers, "target", column, value, pinned)
        pinned = {"col": "name", "opr": "eq", "value": "王建国"}
        for column, value in inspector_values.items():
            _rest_answers_alike(client, headers, "inspector", column, value, pinned)
        page = login_as(username)
        for column, value in target_values.items():
            _page_answers_alike(page, "/targets", "TargetView", column, value)
        for column, value in inspector_values.items():
            _page_answers_alike(page, "/inspectors", "InspectorView", column, value)


# --- _info and the choices of forms ----------------------------------------------------------


def test_info_descriptions_are_never_the_catalogue_header(app, world, api_token):
    client = app.test_client()
    for username in ("operator_a", "inspector_a"):
        body = client.get(
            "/api/v1/target/_info" if username == "operator_a" else "/api/v1/conflict/_info",
            headers=_bearer(api_token, username),
        ).get_json()
        fields = body["add_columns"] + body["edit_columns"]
        assert fields and all(HEADER not in f["description"] for f in fields)
        assert {f["description"] for f in fields} >= {""}


@pytest.fixture
def unpublished(app, world, task):  # noqa: F811
    """The task's name and number: drawn, not published."""
    _draw(app, task, "target")
    _draw(app, task, "inspector")
    from app.draws.models import DrawnTarget
    from app.inspections.models import InspectionRecord
    from app.planning.models import SpotCheckTask

    with acting(app, "operator_a"):
        drawn = db.session.query(DrawnTarget).filter_by(task_id=task).first()
        db.session.add(
            InspectionRecord(
                task_id=task, target_id=drawn.target_id, drawn_target=drawn, status="draft"
            )
        )
        db.session.commit()
        row = db.session.get(SpotCheckTask, task)
        return row.name, row.number, row.id


def test_the_joint_office_learns_no_unpublished_task_or_target_from_info_or_search_forms(
    app, world, unpublished, api_token, login_as
):
    name, number, task_id = unpublished
    headers = _bearer(api_token, "jointoffice")
    client = app.test_client()
    for resource in ("record", "blacklist", "plan", "item", "department"):
        body = client.get(f"/api/v1/{resource}/_info", headers=headers).get_json()
        assert body["add_columns"] == [] and body["edit_columns"] == [], resource
    text = client.get("/api/v1/record/_info", headers=headers).get_data(as_text=True)
    assert name not in text and number not in text and "摇号对象" not in text
    page = login_as("jointoffice")
    for url in ("/records/list/", f"/records/list/?_flt_0_task={task_id}"):
        listed = page.get(url).get_data(as_text=True)
        assert name not in listed and number not in listed and "摇号对象" not in listed, url
    # Filtering by the task's id answers as for a task that does not exist.
    counts = [
        _rest(
            client, headers, "record", filters=[{"col": "task", "opr": "rel_o_m", "value": v}]
        )
        for v in (task_id, 999999)
    ]
    assert counts[0] == counts[1] and counts[0][1]["count"] == 0
    # The Operator of the task's department still finds it in the search select.
    own = login_as("operator_a").get("/records/list/").get_data(as_text=True)
    assert number in own


def test_no_role_gets_other_users_real_names_from_info(app, world, api_token):
    client = app.test_client()
    with app.app_context():
        users = [
            app.appbuilder.sm.find_user(username=u)
            for u in ("admin", "leader", "operator_b", "jointoffice")
        ]
        names = {f"{u.last_name}{u.first_name}" for u in users} | {str(u) for u in users}
    for username in ("inspector_a", "operator_a", "jointoffice", "leader"):
        headers = _bearer(api_token, username)
        for view in _model_views(app):
            if isinstance(view, ModelRestApi):
                text = client.get(f"/api/v1/{view.resource_name}/_info", headers=headers)
                leaked = {n for n in names if n in text.get_data(as_text=True)}
                assert leaked == set(), (username, view.resource_name)


def test_the_inspector_form_offers_the_accounts_of_the_operators_departments_only(
    app, world, login_as
):
    with app.app_context():
        other = str(app.appbuilder.sm.find_user(username="operator_b"))
        own = str(app.appbuilder.sm.find_user(username="inspector_a"))
    body = login_as("operator_a").get("/inspectors/add").get_data(as_text=True)
    assert own in body and other not in body


@pytest.fixture
def people(app, world, directory):  # noqa: F811
    """Natural persons in department A and in department B (set up as Admin: the write scope
    refuses an Operator department B's rows)."""
    with acting(app, "admin"):
        rows = [
            Target(
                department_id=world.dept_a,
                target_type="自然人",
                name="欧阳娜娜",
                id_number=citizen_id(7),
                risk_class="A",
            ),
            Target(
                department_id=world.dept_b,
                target_type="自然人",
                name="司马相如",
                id_number=citizen_id(8),
                risk_class="A",
            ),
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def test_an_inspector_declares_conflicts_among_own_targets_with_persons_masked(
    app, world, people, login_as, api_token
):
    form = login_as("inspector_a").get("/conflicts/add")
    assert form.status_code == 200
    body = form.get_data(as_text=True)
    assert "东胜水务有限公司" in body  # an enterprise of department A, by name
    assert "欧阳**" in body and "欧阳娜娜" not in body  # a person of A, masked
    assert "司马" not in body and "河湖砂石有限公司" not in body  # nothing of department B
    info = (
        app.test_client()
        .get("/api/v1/conflict/_info", headers=_bearer(api_token, "inspector_a"))
        .get_data(as_text=True)
    )
    assert "欧阳娜娜" not in info and "司马" not in info and "河湖砂石有限公司" not in info
    # The Operator, who keeps the directory, names any target; persons of other
    # departments masked, their own shown as on the target's page.
    staff = login_as("operator_a").get("/conflicts/add").get_data(as_text=True)
    assert "欧阳娜娜" in staff and "司马**" in staff and "司马相如" not in staff
    assert "河湖砂石有限公司" in staff


def test_an_inspector_still_declares_a_conflict_with_a_target_of_their_department(
    app,
    world,
    people,
    directory,  # noqa: F811
    login_as,
):
    client = login_as("inspector_a")
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client, "/conflicts/add")
    response = client.post(
        "/conflicts/add",
        data={
            "csrf_token": token,
            "inspector": directory.inspector_a,
            "target": people[0],
            "reason": "亲属关系",
            "valid_from": dt.date.today().isoformat(),
        },
    )
    assert response.status_code == 302
    from app.directory.models import Conflict

    with app.app_context():
        assert db.session.query(Conflict).filter_by(target_id=people[0]).count() == 1
