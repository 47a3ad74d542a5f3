"""A task material's file name keeps no quote, line break or right-to-left override (U+202E
shows "gpj.exe" as "exe.jpg"): cleaned when uploaded, and again when an older row is downloaded
(second probe of issue 17)."""

import io

from sqlalchemy import select, update

from app.core.files import safe_display_name
from app.extensions import db
from app.planning.models import TaskAttachment
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting
from tests.planning.test_tasks import PDF, _publish, _task_from_line

BAD_NAME = '课件"\r\nX-Evil: 1\u202egpj.pdf'


def _is_clean(name):
    return not any(ch in name for ch in '"\r\n\t\u202e\u202d\u2066\u200f')


def test_safe_display_name_drops_quotes_breaks_and_bidi_controls():
    assert safe_display_name(BAD_NAME, "pdf") == "课件 X-Evil: 1gpj.pdf"
    assert safe_display_name("\u202e\u2067", "pdf") == "file.pdf"
    assert safe_display_name("现场 照片.png", "png") == "现场 照片.png"


def test_material_names_are_clean_on_upload_and_on_download(app, login_as, plan):
    _publish(app, plan)
    task_id, _ = _task_from_line(app, plan)
    client = login_as("operator_a")
    response = client.post(
        f"/task-material/{task_id}/upload",
        data={
            "csrf_token": csrf_token_from(client, "/plans/add"),
            "file": (io.BytesIO(PDF), BAD_NAME),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 302)
    with acting(app, "operator_a"):
        attachment = db.session.scalars(select(TaskAttachment)).one()
        assert _is_clean(attachment.file_name)
        # A row stored before names were cleaned this far.
        db.session.execute(
            update(TaskAttachment)
            .where(TaskAttachment.id == attachment.id)
            .values(file_name=BAD_NAME)
        )
        db.session.commit()
        attachment_id = attachment.id
    download = client.get(f"/task-material/{attachment_id}")
    assert download.status_code == 200 and download.data == PDF
    header = download.headers["Content-Disposition"]
    from urllib.parse import unquote

    assert _is_clean(unquote(header.split("filename*=UTF-8''")[-1]))
    assert header.count('"') in (0, 2)
