"""Issue 15, finding 12: a workbook whose XML declares a DTD or entities (an external entity,
or a "billion laughs" expansion) is refused with a Chinese message on the import page before
any XML parser sees it: no 500, no memory blow-up, nothing written."""

import io
import zipfile

import pytest

from app.directory.models import Target
from tests.conftest import csrf_token_from
from tests.directory.test_imports import (  # noqa: F401  (fixture)
    TARGET_HEADER,
    URL,
    _upload,
    base,
    count,
    target_row,
    xlsx_bytes,
)

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    + "]>\n"
)


def _with_part(data: bytes, name: str, prefix: str, encoding="utf-8") -> bytes:
    """The workbook with `prefix` put before the root element of part `name`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    assert name in source.namelist(), name
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            raw = source.read(info)
            if info.filename == name:
                text = raw.decode("utf-8")
                body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
                if encoding == "utf-8":
                    raw = (prefix + body).encode("utf-8")
                else:
                    raw = (prefix.replace("?>", f' encoding="{encoding}"?>', 1) + body).encode(
                        encoding
                    )
            target.writestr(info.filename, raw)
    return out.getvalue()


@pytest.mark.parametrize(
    "part, prefix, encoding",
    [
        ("xl/worksheets/sheet1.xml", LAUGHS, "utf-8"),
        ("xl/styles.xml", LAUGHS, "utf-8"),
        ("xl/workbook.xml", LAUGHS, "utf-8"),
        ("[Content_Types].xml", LAUGHS, "utf-8"),
        (
            "xl/worksheets/sheet1.xml",
            '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n',
            "utf-8",
        ),
        ("xl/worksheets/sheet1.xml", LAUGHS, "utf-16"),
    ],
)
def test_a_workbook_declaring_entities_is_refused_on_the_import_page(
    app, base, login_as, part, prefix, encoding  # noqa: F811
):
    data = _with_part(xlsx_bytes(TARGET_HEADER, [target_row(1)]), part, prefix, encoding)
    client = login_as("operator_a")
    token = csrf_token_from(client, URL)
    # The upload opens the job's page, which shows the report (here: the refusal).
    response = _upload(client, "targets", data, "炸弹.xlsx", token, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="import-error-table"' in html
    assert "DOCTYPE" in html and "拒绝" in html
    assert count(app, Target) == 0


def test_a_workbook_unpacking_to_gigabytes_is_refused(app, base, login_as):  # noqa: F811
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in zipfile.ZipFile(io.BytesIO(xlsx_bytes(TARGET_HEADER, []))).infolist():
            archive.writestr(info.filename, b"")
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as part:
            block = b"\0" * (1 << 20)
            for _ in range(1100):
                part.write(block)
    client = login_as("operator_a")
    token = csrf_token_from(client, URL)
    response = _upload(client, "targets", out.getvalue(), "大.xlsx", token, follow_redirects=True)
    assert response.status_code == 200
    assert "解压" in response.get_data(as_text=True)
    assert count(app, Target) == 0
