"""A file larger than MAX_UPLOAD_MB is refused in the page before anything is sent (probe
finding F7): the import form and the evidence upload say the limit in Chinese beside the file
field and stay as they were, instead of the server's 413 page replacing the form. A file within
the limit is sent as before. Real Chromium on a 390 px phone."""

from __future__ import annotations

import pytest

from app.directory.import_jobs import ImportJob
from tests.directory.test_imports import base, count  # noqa: F401  (base: a fixture)
from tests.e2e.conftest import require_browser
from tests.e2e.test_phone import phone  # noqa: F401  (phone: a fixture)

require_browser()
pytestmark = pytest.mark.usefixtures("base")

MESSAGE = "文件过大：只接受不超过 1 MB 的文件，请选择较小的文件。"


def test_a_file_over_the_limit_is_refused_in_the_page_and_nothing_is_sent(
    app,
    phone,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)  # the app outlives this test
    v = phone()
    v.login("operator_a")
    v.go("/directory-import/")
    posts = []
    v.page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    big = b"\xef\xbb\xbf" + b"a" * (1024 * 1024 + 10)
    v.page.set_input_files("#import-file", {"name": "大.csv", "mimeType": "text/csv", "buffer": big})
    v.page.wait_for_selector(".upload-limit-hint")
    assert v.page.inner_text(".upload-limit-hint") == MESSAGE
    v.page.click("#import-submit")
    v.page.wait_for_timeout(500)
    assert v.page.url.endswith("/directory-import/") and posts == []
    assert count(app, ImportJob) == 0
    v.shot("upload-limit-refused")
    # A smaller file clears the message and is sent.
    v.page.set_input_files(
        "#import-file", {"name": "小.csv", "mimeType": "text/csv", "buffer": b"a,b\r\n"}
    )
    assert v.page.query_selector(".upload-limit-hint") is None
    v.page.click("#import-submit")
    v.page.wait_for_load_state()
    v.page.wait_for_timeout(500)
    assert posts, "the small file was not sent"
    assert v.console_errors == [] and v.outside == []
