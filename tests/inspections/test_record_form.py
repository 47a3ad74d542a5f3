"""The record form as the inspector meets it at the site (issue 17): the target, the task and
its items at the top; the item choice holds the task's items only, on the page and in the
REST `_info` (finding 7: an item outside the task was offered, then refused on save); evidence
from the camera and from a file in one upload."""

import io
import re

from sqlalchemy import select

from app.directory.models import InspectionItem, Target
from app.extensions import db
from app.inspections.models import Evidence, InspectionRecord
from app.planning.models import SpotCheckTask
from app.security.system_user import acting_as_system
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, new_item
from tests.inspections.conftest import PNG
from tests.inspections.test_records import _open

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _outside_item(app, world) -> int:
    """A published item of the task's own department that the task does not check."""
    with app.app_context(), acting_as_system():
        leader = app.appbuilder.sm.find_user(username="leader")
        item = new_item("A-009", world.dept_a, leader)
        db.session.commit()
        return item.id


def _options(page: str, name: str) -> set[str]:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return {v for v in re.findall(r'<option[^>]*value="([^"]*)"', select_html) if v}


def test_the_form_shows_the_target_the_task_and_only_its_items(app, world, inspected, login_as):
    outside = _outside_item(app, world)
    record_id = _open(app, inspected)
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, record_id)
        target = db.session.get(Target, record.target_id)
        target.address = "东胜区伊克昭大街 8 号"
        db.session.commit()
        task = db.session.get(SpotCheckTask, inspected.task)
        facts = [target.name, target.uscc, "东胜区伊克昭大街 8 号", task.number, task.name]
        task_items = {str(i.id) for i in task.items}
        item_names = [f"{i.code} {i.name}" for i in task.items]
        outside_name = db.session.get(InspectionItem, outside).name
    client = login_as("inspector_a")
    page = client.get(f"/records/edit/{record_id}").get_data(as_text=True)
    header = page[page.index('class="record-header') : page.index('id="model_form"')]
    for text in [*facts, *item_names, "本任务的抽查事项", "统一社会信用代码"]:
        assert text in header, text
    assert _options(page, "items") == task_items
    assert outside_name not in page
    # The draft script knows this record and this user, and is served by the application.
    assert f'data-key="dsr-draft:{world.user("inspector_a")}:record:{record_id}"' in page
    assert 'src="/static/js/record_draft.js' in page
    assert client.get("/static/js/record_draft.js").status_code == 200


def test_an_item_outside_the_task_is_neither_offered_nor_saved(app, world, inspected, login_as):
    outside = _outside_item(app, world)
    record_id = _open(app, inspected)
    client = login_as("inspector_a")
    token = csrf_token_from(client, f"/records/edit/{record_id}")
    response = client.post(
        f"/records/edit/{record_id}",
        data={"csrf_token": token, "items": [str(outside)], "situation": "现场正常"},
    )
    assert response.status_code == 200  # the form again, with the reason
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        assert record.items == [] and record.situation is None
    # REST: `_info` offers the items of the tasks the inspector enters, nothing else.
    info = client.get("/api/v1/record/_info").get_json()
    items = next(c for c in info["edit_columns"] if c["name"] == "items")
    with app.app_context():
        task_items = {i.id for i in db.session.get(SpotCheckTask, inspected.task).items}
    assert {v["id"] for v in items["values"]} == task_items
    response = client.put(f"/api/v1/record/{record_id}", json={"items": [outside]})
    assert response.status_code in (400, 422)
    with app.app_context():
        assert db.session.get(InspectionRecord, record_id).items == []


def test_an_inspector_without_a_task_is_offered_no_items(app, world, inspected, login_as):
    from tests.inspections.test_records import _add_inspector_user

    _add_inspector_user(app, world)
    info = login_as("inspector_a2").get("/api/v1/record/_info").get_json()
    items = [c for c in info["edit_columns"] if c["name"] == "items"]
    assert items == [] or items[0]["values"] == []


def test_a_photo_and_a_file_are_attached_in_one_upload(app, inspected, login_as):
    record_id = _open(app, inspected)
    client = login_as("inspector_a")
    page = client.get(f"/records/show/{record_id}").get_data(as_text=True)
    camera = r'<input type="file" name="file"[^>]*accept="image/\*" capture="environment"'
    assert re.search(camera, page)
    assert re.search(r'<input type="file" name="file" id="evidence-file" accept="[^"]*\.pdf', page)
    token = csrf_token_from(client, f"/records/show/{record_id}")
    response = client.post(
        f"/record-workflow/{record_id}/evidence",
        data={
            "csrf_token": token,
            "file": [(io.BytesIO(PNG), "相机.png"), (io.BytesIO(PDF), "检定证书.pdf")],
            "note": "现场",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        names = db.session.scalars(
            select(Evidence.file_name).where(Evidence.record_id == record_id)
        ).all()
    assert sorted(names) == ["检定证书.pdf", "相机.png"]
    # Only the camera input filled (the file input sent empty): one attachment.
    token = csrf_token_from(client, f"/records/show/{record_id}")
    client.post(
        f"/record-workflow/{record_id}/evidence",
        data={
            "csrf_token": token,
            "file": [(io.BytesIO(PNG + b"1"), "第二张.png"), (io.BytesIO(b""), "")],
        },
        content_type="multipart/form-data",
    )
    # Nothing chosen: a clear message, nothing written.
    token = csrf_token_from(client, f"/records/show/{record_id}")
    response = client.post(
        f"/record-workflow/{record_id}/evidence",
        data={"csrf_token": token, "file": [(io.BytesIO(b""), "")]},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "请选择要上传的文件" in response.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(select(Evidence).where(Evidence.record_id == record_id)).all()
    assert len(rows) == 3
