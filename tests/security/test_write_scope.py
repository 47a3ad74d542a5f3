"""Department scope on what will be written (issue 15, finding 2; app/security/write_scope.py).

Generated from the application: every REST resource with POST or PUT and every page add or edit
form that exposes a relationship to a department-scoped row (SQLAlchemy mapper inspection) is
tried as operator_a with that relationship pointing at a row of department B, by relationship
name and (REST) by foreign-key column name. Each attempt must be refused and nothing written
(every table hashed, as in test_row_matrix.py). Then the same requests with department A's own
row must be accepted: they prove the requests were valid and refused for the scope alone. A new
resource, form or relationship whose department-B row this file cannot make fails here."""

from __future__ import annotations

import datetime as dt
import html.parser
import uuid

import pytest
from flask_appbuilder import ModelRestApi
from sqlalchemy import insert, select
from werkzeug.datastructures import MultiDict

from app.directory.models import InspectionItem, Inspector, Target
from app.draws.models import Draw, DrawnTarget
from app.extensions import db
from app.inspections.models import InspectionRecord, Penalty, RectificationCase
from app.planning.models import AnnualPlan, SpotCheckTask
from app.security.models import Department
from app.security.scope import is_scoped_model, row_clause
from app.security.write_scope import cross_department
from tests.credit.conftest import refused  # noqa: F401  (fixture)
from tests.directory.conftest import acting, conflict, directory, uscc  # noqa: F401
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.security.test_row_matrix import _fingerprint

# write_scope.NOT_FOUND as the user reads it.
NOT_FOUND = "所选的记录不存在，或您无权查看。"


def _clone(table, row_id, **overrides) -> int:
    row = dict(db.session.execute(select(table).where(table.c.id == row_id)).mappings().one())
    row.pop("id")
    row.update(overrides)
    return db.session.execute(insert(table).values(**row)).inserted_primary_key[0]


@pytest.fixture
def foreign(app, world, directory, refused, conflict):  # noqa: F811
    """A row of department B for every scoped model a form or resource can point at, made with
    Core statements (the fixtures run no department B workflow)."""
    with app.app_context():
        a_record = db.session.get(InspectionRecord, refused.record)
        a_task = a_record.task
        plan_b = _clone(AnnualPlan.__table__, a_task.plan_id, department_id=world.dept_b)
        task_b = _clone(
            SpotCheckTask.__table__,
            a_task.id,
            department_id=world.dept_b,
            plan_id=plan_b,
            plan_line_id=None,
            number=a_task.number + "B",
            seq=a_task.seq + 1000,
        )
        # Two records of department B's task (the second with a case): copies of department
        # A's second record, on drawn targets of their own.
        drawn = db.session.get(DrawnTarget, a_record.drawn_target_id)
        taken = select(DrawnTarget.target_id).where(DrawnTarget.draw_id == drawn.draw_id)
        # A drawn target's task is its draw's task (drawn_target's key to draw): task B's
        # drawn targets come from a draw of task B.
        draw_b = _clone(
            Draw.__table__, drawn.draw_id, task_id=task_b, uid=f"{uuid.uuid4()}", active_key=None
        )
        free = db.session.scalars(select(Target.id).where(Target.id.not_in(taken))).all()
        record_b, record_b2 = (
            _clone(
                InspectionRecord.__table__,
                refused.other_record,
                task_id=task_b,
                target_id=free[n],
                drawn_target_id=_clone(
                    DrawnTarget.__table__,
                    drawn.id,
                    target_id=free[n],
                    task_id=task_b,
                    draw_id=draw_b,
                ),
            )
            for n in (0, 1)
        )
        case_b = _clone(
            RectificationCase.__table__,
            refused.case,
            record_id=record_b2,
            task_id=task_b,
            department_id=world.dept_b,
            status="in_progress",
        )
        penalty_b = db.session.execute(
            insert(Penalty.__table__).values(
                record_id=record_b,
                task_id=task_b,
                target_id=a_record.target_id,
                decision_number="水罚〔2026〕B1号",
                decision_date=dt.date.today(),
                content="罚款",
                created_on=dt.datetime.now(),
                changed_on=dt.datetime.now(),
                created_by_fk=world.user("admin"),
                changed_by_fk=world.user("admin"),
            )
        ).inserted_primary_key[0]
        db.session.commit()
        other = {
            Department: world.dept_b,
            InspectionItem: directory.item_b,
            Inspector: directory.inspector_b,
            Target: directory.target_b,
            AnnualPlan: plan_b,
            SpotCheckTask: task_b,
            InspectionRecord: record_b,
            RectificationCase: case_b,
            Penalty: penalty_b,
        }
    return other


def scoped_fields(app):
    """(view, "api"|"page", "add"|"edit", column, related model) for every write path that
    exposes a relationship to a scoped model."""
    found = []
    for view in app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if datamodel is None or type(view).__module__.startswith("tests."):
            continue
        api = isinstance(view, ModelRestApi)
        for op in ("add", "edit"):
            if api:
                routes = view.include_route_methods
                if routes is not None and {"add": "post", "edit": "put"}[op] not in routes:
                    continue
            elif op in (getattr(view, "exclude_route_methods", None) or set()):
                continue
            for column in getattr(view, f"{op}_columns", None) or []:
                if not datamodel.is_relation(column):
                    continue
                related = datamodel.get_related_model(column)
                if not is_scoped_model(related):
                    continue
                mode = cross_department(datamodel.obj).get(column)
                if mode == "any" or (mode == "new" and op == "add"):
                    continue  # a declared crossing (write_scope.py), tested on its own
                found.append((view, "api" if api else "page", op, column, related))
    return found


def _own_rows(app, model) -> list[int]:
    with acting(app, "operator_a"):
        clause = row_clause(model) if is_scoped_model(model) else None
        query = select(model.id).order_by(model.id)
        return list(db.session.scalars(query if clause is None else query.where(clause)))


class _Form(html.parser.HTMLParser):
    """The fields of the first <form> holding a CSRF token, as a browser would submit it."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select = self._textarea = None
        self._options = []
        self._done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((a["name"], a.get("value", "y" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and any(n == "csrf_token" for n, _v in self.fields):
            self._done = True


def _form_fields(client, url):
    parser = _Form()
    parser.feed(client.get(url).get_data(as_text=True))
    return parser.fields


# Valid bodies for creating rows through REST POST and page add forms, with department A's
# rows; {column} stands for the relationship under test. A resource that gets a scoped
# relationship in its add columns needs a body here.
def _bodies(world, directory, refused, own):  # noqa: F811
    today = dt.date.today().isoformat()
    later = (dt.date.today() + dt.timedelta(days=300)).isoformat()
    return {
        "InspectionItemApi": {
            "department": world.dept_a,
            "code": "A-900",
            "category": "水资源",
            "name": "取水许可检查",
            "target_type": "企业",
            "method": "实地检查",
            "inspecting_body": "水资源管理科",
            "legal_basis": "《取水许可和水资源费征收管理条例》",
        },
        "InspectorApi": {
            "department": world.dept_a,
            "name": "孙新人",
            "certificate_no": "C-A-900",
            "certificate_expiry": later,
            "status": "在岗",
        },
        "TargetApi": {
            "department": world.dept_a,
            "target_type": "企业",
            "name": "新建对象有限公司",
            "uscc": uscc(900),
            "items": [directory.item_a],
        },
        "ConflictApi": {
            "inspector": directory.inspector_a,
            "target": directory.target_a,
            "reason": "亲属关系",
            "valid_from": today,
        },
        "AnnualPlanApi": {
            "department": world.dept_a,
            "year": dt.date.today().year + 3,
            "title": "年度抽查计划",
        },
        "SpotCheckTaskApi": {
            "department": world.dept_a,
            "name": "举报核查",
            "items": [directory.item_a],
            "out_of_plan_reason": "群众举报",
            **dict.fromkeys(("ratio_a", "ratio_b", "ratio_c", "ratio_d", "ratio_special"), 100),
            "group_size": 2,
        },
        "RectificationApi": {
            "record": refused.other_record,
            "department": world.dept_a,
            "requirement": "限期整改",
            "deadline": later,
        },
        "BlacklistApi": {
            "department": world.dept_a,
            "case": refused.case,
            "records": [refused.record],
            "basis": "refused",
        },
    }


def _refused(response) -> bool:
    if response.status_code >= 400:
        return True
    # A page form shown again with the reason (a field error or our flash), not a redirect.
    text = response.get_data(as_text=True)
    return response.status_code == 200 and (
        NOT_FOUND in text or "help-block" in text or "alert-danger" in text
    )


def test_no_write_points_at_another_departments_row(
    app,
    world,
    directory,  # noqa: F811
    refused,  # noqa: F811
    foreign,
    login_as,
    api_token,
    monkeypatch,
):
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", False)
    page = login_as("operator_a")
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    own = {model: _own_rows(app, model) for model in foreign}
    bodies = _bodies(world, directory, refused, own)
    fields = scoped_fields(app)
    missing = sorted({m.__name__ for *_x, m in fields if m not in foreign})
    assert not missing, f"no department-B row to point at for {missing}: add one to `foreign`"
    before = _fingerprint(app)
    wrong, tried, controls = [], 0, []
    for view, kind, op, column, related in fields:
        name = type(view).__name__
        many = view.datamodel.is_relation_many_to_many(
            column
        ) or view.datamodel.is_relation_one_to_many(column)
        bad = [foreign[related]] if many else foreign[related]
        if kind == "api":
            base = f"/api/v1/{view.resource_name}/"
            if op == "edit":
                rows = _own_rows(app, view.datamodel.obj)
                if not rows:
                    wrong.append(f"{name}: no row of department A to edit")
                    continue
                url, method, body = f"{base}{rows[0]}", "PUT", {}
            else:
                url, method, body = base, "POST", dict(bodies.get(name, {}))
                if name not in bodies:
                    response = client.post(url, json={column: bad}, headers=headers)
                    if response.status_code != 403:
                        wrong.append(f"{name}: give a valid POST body in _bodies()")
                    continue
            attempts = [{**body, column: bad}]
            fk = f"{column}_id"
            if not many:
                attempts.append({**{k: v for k, v in body.items() if k != column}, fk: bad})
            answers = []
            for attempt in attempts:
                response = client.open(url, method=method, json=attempt, headers=headers)
                tried += 1
                if response.status_code == 403:
                    break  # Operators may not use it at all
                answers.append((response.status_code, (response.get_json() or {}).get("message")))
                if not _refused(response):
                    wrong.append(f"{method} {url} {attempt}: {response.status_code}")
            else:
                if own[related]:
                    good = [own[related][0]] if many else own[related][0]
                    controls.append((url, method, {**body, column: good}, answers[0]))
        else:
            base = view.route_base
            if op == "edit":
                rows = _own_rows(app, view.datamodel.obj)
                if not rows:
                    wrong.append(f"{name}: no row of department A to edit")
                    continue
                url = f"{base}/edit/{rows[0]}"
            else:
                url = f"{base}/add"
            response = page.get(url)
            if response.status_code in (302, 403, 404):
                continue  # not offered to Operators (the access matrix says who may)
            data = [(k, v) for k, v in _form_fields(page, url) if k != column]
            data += [(column, str(v)) for v in (bad if many else [bad])]
            response = page.post(url, data=MultiDict(data))
            tried += 1
            if not _refused(response):
                wrong.append(f"POST {url} {column}={bad}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert _fingerprint(app) == before, "a write pointing at department B's row was saved"
    assert tried > 30, tried
    # The same REST requests with department A's row instead: not refused the same way (saved,
    # or refused by a business rule), so the refusals above were for the scope alone.
    same = []
    for url, method, body, answer in controls:
        response = client.open(url, method=method, json=body, headers=headers)
        got = (response.status_code, (response.get_json() or {}).get("message"))
        if got == answer:
            same.append(f"{method} {url} {body}: {got}")
    assert not same, "refused with department A's own row too:\n" + "\n".join(same)
    assert len(controls) > 10, len(controls)


def test_rest_put_cannot_move_a_target_or_inspector(app, world, directory, api_token):  # noqa: F811
    """The reproduced finding: PUT {"department": B} answered 200 and moved the row."""
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    for resource, row_id, model in (
        ("target", directory.target_a, Target),
        ("inspector", directory.inspector_a, Inspector),
    ):
        response = client.put(
            f"/api/v1/{resource}/{row_id}", json={"department": world.dept_b}, headers=headers
        )
        assert response.status_code in (400, 422), response.get_json()
        assert "不存在" in response.get_json()["message"]  # as for a missing row
        with app.app_context():
            assert db.session.get(model, row_id).department_id == world.dept_a
        # Within the scope (a department below A) the move is allowed.
        response = client.put(
            f"/api/v1/{resource}/{row_id}", json={"department": world.dept_a1}, headers=headers
        )
        assert response.status_code == 200, response.get_json()


def test_a_stored_row_of_another_department_is_not_changed(app, world, directory):  # noqa: F811
    """Whatever loaded it (a service, an import): a row of department B is not changed by
    operator_a, except the dates the services keep for any department (a joint check's record
    submitted by another department sets the target's last inspection date)."""
    from app.core.errors import DomainError

    with acting(app, "operator_a"):
        target = db.session.get(Target, directory.target_b)
        target.name = "改名"
        with pytest.raises(DomainError, match="不存在"):
            db.session.flush()
        db.session.rollback()
        target = db.session.get(Target, directory.target_b)
        target.last_inspected_on = dt.date.today()
        db.session.commit()
    with app.app_context():
        target = db.session.get(Target, directory.target_b)
        assert (target.name, target.last_inspected_on) == ("河湖砂石有限公司", dt.date.today())
