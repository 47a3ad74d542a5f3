"""The access matrix's second layer (issue 9): own department / other department, unpublished /
published, for every registered route that names a row.

For each such route (from the application's URL map, as in test_access_matrix.py) the row is
a real one of department A, from a task that has been drawn, inspected and followed up:
- an Operator of department B gets 403 or 404 for it, on every method, and nothing is written;
- an Operator of department A reading it (GET) gets past both the permission and the scope
  check, where the role table allows the route at all (403 where it does not).
Then the task's unpublished results are hidden from the joint-meeting office and the public,
and shown to both once published."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pytest
from sqlalchemy import MetaData, select

from app.credit.models import BlacklistEntry
from app.directory.import_jobs import ImportJob
from app.directory.imports import TARGET_COLUMNS
from app.directory.models import InspectionItem, Target
from app.draws.models import Draw, DrawnTarget
from app.extensions import db
from app.inspections import services
from app.inspections.models import (
    Evidence,
    InspectionRecord,
    InspectionSummary,
    Penalty,
    RectificationCase,
)
from app.planning.models import AnnualPlan, PlanLine, SpotCheckTask, TaskAttachment
from app.security.scope import is_scoped_model, row_clause
from tests.conftest import csrf_token_from
from tests.credit.conftest import refused  # noqa: F401  (fixture)
from tests.directory.conftest import acting, conflict, directory  # noqa: F401  (fixtures)
from tests.inspections.conftest import PNG, enter_all, finish, inspected  # noqa: F401
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.security.access_matrix import guarded_routes
from tests.security.test_access_matrix import POLICY

# The row a route's argument names, where the view has no datamodel to say it.
VIEW_MODELS = {
    "PlanWorkflowView": AnnualPlan,
    "BlacklistWorkflowView": BlacklistEntry,
    "ItemWorkflowView": InspectionItem,
    "RecordWorkflowView": InspectionRecord,
    "CaseWorkflowView": RectificationCase,
    "SummaryWorkflowView": InspectionSummary,
    "TaskResultsView": SpotCheckTask,
    "TaskApprovalView": SpotCheckTask,
    "TaskDrawView": SpotCheckTask,
    "CreditRecordView": Target,
    "DirectoryImportView": ImportJob,
}
ARGUMENT_MODELS = {
    "item_id": InspectionItem,
    "line_id": PlanLine,
    "drawn_id": DrawnTarget,
    "evidence_id": Evidence,
    "attachment_id": TaskAttachment,
    "task_id": SpotCheckTask,
}
# Routes an Operator of the row's own department may use that still answer 404 for this row,
# and why. Nothing else may.
OWN_404 = {
    # Evidence and training material: the fixture task has none (argument model has no row).
}
_ARGS = re.compile(r"<(?:(\w+):)?(\w+)>")


def _model_of(view, rule, arg):
    if arg in ARGUMENT_MODELS:
        return ARGUMENT_MODELS[arg]
    name = type(view).__name__
    if name == "TaskDrawView" and rule.rule.startswith("/task-draw/draw/"):
        return Draw
    if name == "BlacklistWorkflowView" and "/open/" in rule.rule:
        return RectificationCase
    if name in VIEW_MODELS:
        return VIEW_MODELS[name]
    datamodel = getattr(view, "datamodel", None)
    return getattr(datamodel, "obj", None)


# Rows without a scope rule of their own that belong to a task (the fixture's one task, of
# department A). Other models without a scope rule are shared reference data (the calendar,
# areas): every department reads them, so they have no "other department".
TASK_ROWS = {DrawnTarget}


def _own_row(app, model):
    """A row operator_a sees and operator_b does not: department A's."""
    with app.app_context():
        if not is_scoped_model(model):
            if model not in TASK_ROWS:
                return None
            return db.session.scalar(select(model.id).order_by(model.id))
        with acting(app, "operator_a"):
            own = set(db.session.scalars(select(model.id).where(row_clause(model))))
        with acting(app, "operator_b"):
            other = set(db.session.scalars(select(model.id).where(row_clause(model))))
        return min(own - other, default=None)


def _routes_with_rows(app):
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    found = []
    for rule, _method, resource, permission in guarded_routes(app):
        args = [a for _c, a in _ARGS.findall(rule.rule)]
        row_args = [a for a in args if a in ("pk", *ARGUMENT_MODELS)]
        if not row_args or "filename" in args or resource is None:
            continue
        view = views[rule.endpoint.partition(".")[0]]
        if type(view).__module__.startswith("tests."):
            continue  # the scope probe has its own tests
        url = rule.rule
        models = {}
        for arg in row_args:
            models[arg] = _model_of(view, rule, arg)
        found.append((rule, url, models, resource, permission))
    return found


def _fill(url, values):
    for arg, value in values.items():
        url = re.sub(rf"<(?:\w+:)?{arg}>", str(value), url)
    return url.replace("<string:name>", "nonexistent").replace("<kind>", "case")


def _fingerprint(app) -> str:
    """A hash of every row of every table: equal before and after means nothing was written."""
    digest = hashlib.sha256()
    with app.app_context():
        meta = MetaData()
        meta.reflect(bind=db.engine)
        with db.engine.connect() as conn:
            for table in sorted(meta.tables.values(), key=lambda t: t.name):
                if table.name in ("ab_user",):  # sign-ins update last_login
                    continue
                order = [c for c in table.primary_key.columns] or list(table.columns)
                for row in conn.execute(select(table).order_by(*order)):
                    digest.update(repr(tuple(row)).encode())
                digest.update(table.name.encode())
    return digest.hexdigest()


def _methods(rule):
    return [m for m in ("GET", "POST", "PUT", "DELETE") if m in rule.methods]


@pytest.fixture
def files_and_conflict(app, world, directory, inspected, conflict, login_as):  # noqa: F811
    """Evidence on a record before it is submitted, a penalty, training material on the task and a
    conflict of interest (declared after the draws, which it would otherwise constrain), an
    import job: rows the other fixtures do not make."""
    with acting(app, "inspector_a"):
        record = services.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        services.add_evidence(record, io.BytesIO(PNG), "现场.png", "全景")
        db.session.commit()
        record_id = record.id
    with acting(app, "operator_a"):
        # A penalty (its page, edit form and REST resource), as an older row would be.
        record = db.session.get(InspectionRecord, record_id)
        db.session.add(
            Penalty(
                record=record,
                task_id=record.task_id,
                target_id=record.target_id,
                decision_number="东水罚〔2027〕1号",
                decision_date=dt.date.today(),
                content="警告",
            )
        )
        db.session.commit()
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/tasks/show/{inspected.task}")
    response = client.post(
        f"/task-material/{inspected.task}/upload",
        data={"file": (io.BytesIO(PNG), "培训.png"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    # A background import's job (our template's header without data rows: queued at once,
    # refused, nothing written; another header would open the preview first).
    _TEMPLATE_HEADER = ",".join(c.header for c in TARGET_COLUMNS) + "\r\n"
    response = client.post(
        "/directory-import/",
        data={
            "kind": "targets",
            "file": (io.BytesIO(_TEMPLATE_HEADER.encode()), "目录.csv"),
            "csrf_token": csrf_token_from(client, "/directory-import/"),
        },
        content_type="multipart/form-data",
    )
    assert "/directory-import/job/" in response.headers["Location"]


def test_other_department_rows_on_every_route(
    app, world, files_and_conflict, refused, login_as, monkeypatch  # noqa: F811
):
    with acting(app, "inspector_a"):
        services.open_summary(db.session.get(InspectionRecord, refused.record).task)
        db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", False)
    own_client, other_client = login_as("operator_a"), login_as("operator_b")
    before = _fingerprint(app)
    wrong, covered, no_row = [], set(), set()
    rows = {}
    for rule, url, models, _resource, _permission in _routes_with_rows(app):
        values = {}
        for arg, model in models.items():
            if model is None:
                continue
            if model not in rows:
                rows[model] = _own_row(app, model)
            values[arg] = rows[model]
        if any(m is not None and not is_scoped_model(m) and m not in TASK_ROWS for m in models.values()):
            continue  # shared reference data
        if len(values) < len(models) or None in values.values():
            no_row.add(rule.rule)
            continue
        target = _fill(url, values)
        covered.add(rule.rule)
        for method in _methods(rule):
            kwargs = {"json": {}} if rule.rule.startswith("/api/") else {"data": {}}
            response = other_client.open(target, method=method, **kwargs)
            if method == "GET" and "/delete/" in rule.rule and response.status_code == 302:
                continue  # FAB refuses a delete by GET before it reads the row
            if response.status_code not in (403, 404):
                wrong.append(f"operator_b {method} {target}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert _fingerprint(app) == before, "a request for another department's row wrote"
    for rule, url, models, resource, permission in _routes_with_rows(app):
        if rule.rule not in covered or "GET" not in rule.methods:
            continue
        target = _fill(url, {arg: rows[m] for arg, m in models.items()})
        response = own_client.get(target)
        allowed = "O" in POLICY.get((resource, permission), "")
        if "/action/" in rule.rule:
            continue  # an unknown action name is a 404 for everybody
        if not allowed:
            ok = response.status_code in (302, 403) and (
                response.status_code == 403 or "/login" in response.headers["Location"]
            )
        else:
            ok = response.status_code < 400 and not (
                response.status_code == 302 and "/login" in response.headers["Location"]
            )
            ok = ok or OWN_404.get(rule.rule) is not None and response.status_code == 404
        if not ok:
            wrong.append(f"operator_a GET {target}: {response.status_code} (allowed={allowed})")
    assert not wrong, "\n".join(wrong)
    # The fixtures hold a row for every kind of route (a new model without one shows here).
    assert not no_row, sorted(no_row)
    # the printable 摇号现场记录 shows an unpublished draw: scoped like the draw page
    assert "/task-draw/draw/<int:pk>/site-record" in covered
    assert len(covered) > 150, len(covered)


def test_unpublished_results_are_hidden_until_published(app, world, inspected, login_as):  # noqa: F811
    record_ids = enter_all(app, inspected)
    with app.app_context():
        target_id = db.session.get(InspectionRecord, record_ids[0]).target_id
    joint, public = login_as("jointoffice"), app.test_client()
    pages = [
        (joint, f"/records/show/{record_ids[0]}"),
        (joint, f"/api/v1/record/{record_ids[0]}"),
        (public, f"/public/results/{inspected.task}"),
        (public, f"/public/credit/{target_id}"),
    ]
    for client, url in pages:
        assert client.get(url).status_code == 404, ("unpublished", url)
    finish(app, inspected)
    for client, url in pages:
        assert client.get(url).status_code == 200, ("published", url)


def test_the_public_draw_ledger_is_anonymous_and_holds_nothing_unpublished(app, inspected):  # noqa: F811
    """/public/draws/ledger and its JSON: anybody reads them; before publication they show
    each draw's commitment and hashes, never its secret, pool, result or names."""
    from app.directory.models import Inspector

    client = app.test_client()
    texts = []
    for url in ("/public/draws/ledger", "/public/draws/ledger.json", "/public/draws/ledger.json?since=1"):
        response = client.get(url)
        assert response.status_code == 200, url
        texts.append(response.get_data(as_text=True))
    text = "".join(texts)
    with app.app_context():
        draws = db.session.scalars(select(Draw)).all()
        names = db.session.scalars(select(Target.name)).all()
        names += db.session.scalars(select(Inspector.name)).all()
        assert draws and not any(d.published for d in draws)
        for draw in draws:
            assert draw.commitment in text and draw.server_secret not in text
            assert draw.result not in text
    assert names and not [name for name in names if name in text]


TEXT_FIELDS = (
    "comment reason note witnesses witness_entropy entropy_source mode decision_number kind "
    "content organ "
    "description finding status decided_on decision_date transfer_date date"
).split()


def test_workflow_endpoints_refuse_bodies_of_the_wrong_shape(
    app, world, files_and_conflict, refused, api_token  # noqa: F811
):
    """Every REST workflow endpoint, on a row of its caller's own department, with a body that
    is no JSON object, holds an object or a list, or has numbers where text belongs: a 4xx,
    never a 500 (FAB's @safe turned the AttributeError or TypeError into one)."""
    client = app.test_client()
    tokens = {name: api_token(name) for name in ("operator_a", "leader_a", "inspector_a")}
    bodies = [[1], {"comment": {"a": 1}}, {"reason": ["x"]}, dict.fromkeys(TEXT_FIELDS, 5)]
    bodies.append({"target_id": "abc", "inspector_id": [1], "reason": "病假"})
    wrong, tried = [], 0
    rows = {}
    for rule, url, models, _resource, _permission in _routes_with_rows(app):
        if not rule.rule.startswith("/api/") or "POST" not in rule.methods:
            continue
        values = {}
        for arg, model in models.items():
            if model not in rows:
                rows[model] = _own_row(app, model)
            values[arg] = rows[model]
        if None in values.values():
            continue
        target = _fill(url, values)
        for token in tokens.values():
            for body in bodies:
                response = client.post(
                    target, json=body, headers={"Authorization": f"Bearer {token}"}
                )
                tried += 1
                if response.status_code >= 500:
                    wrong.append(f"POST {target} {body}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert tried > 100

