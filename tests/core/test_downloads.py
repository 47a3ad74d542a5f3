"""Download names (app/core/downloads.py): named by task number and title, RFC 5987
`filename*` with an ASCII fallback, nothing a file system refuses."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import unquote

from app.core.downloads import (
    ascii_fallback,
    content_disposition,
    plan_file_names,
    safe_file_name,
    task_file_names,
)

TASK = SimpleNamespace(number="东水双随机〔2026〕3号", name="取水许可专项检查", year=2026, seq=3)


def _filename_star(header: str) -> str:
    value = header.split("filename*=", 1)[1]
    assert value.startswith("UTF-8''")
    return unquote(value[len("UTF-8''") :])


def test_a_task_file_is_named_by_number_and_title():
    name, fallback = task_file_names(TASK, "检查对象抽取结果", "target-draw", "json")
    assert name == "东水双随机〔2026〕3号_取水许可专项检查_检查对象抽取结果.json"
    assert fallback == "task-2026-003-target-draw.json"


def test_content_disposition_has_rfc5987_name_and_ascii_fallback():
    header = content_disposition("东水双随机〔2026〕3号_取水许可专项检查_检查报告.docx", "task-2026-003-report.docx")
    assert header.startswith('attachment; filename="task-2026-003-report.docx"; ')
    assert _filename_star(header) == "东水双随机〔2026〕3号_取水许可专项检查_检查报告.docx"
    assert header.isascii()


def test_fallback_from_the_name_itself():
    assert ascii_fallback("2026-水资源-001_取水许可专项检查_抽取结果.json") == "2026-001.json"
    assert ascii_fallback("抽查结果.csv") == "download.csv"
    header = content_disposition("抽查结果.csv")
    assert 'filename="download.csv"' in header and _filename_star(header) == "抽查结果.csv"


def test_a_title_cannot_inject_a_path_or_header():
    task = SimpleNamespace(number="X1", name='../../etc/"passwd"\r\nSet-Cookie: a=b', year=None, seq=None)
    name, fallback = task_file_names(task, "归档包", "archive", "zip")
    assert "/" not in name and '"' not in name and "\r" not in name and "\n" not in name
    header = content_disposition(name, fallback)
    assert "\r" not in header and "\n" not in header and header.isascii()
    assert fallback.endswith("-archive.zip") and fallback.isascii()
    assert safe_file_name("") == "download"
    assert len(safe_file_name("很" * 500 + ".docx")) <= 130


def test_a_plan_file_is_named_by_its_title():
    plan = SimpleNamespace(
        title="水资源管理科2026年度抽查计划", year=2026, department=SimpleNamespace(code="SZYK")
    )
    assert plan_file_names(plan, "备案表", "filing-form", "docx") == (
        "水资源管理科2026年度抽查计划_备案表.docx",
        "plan-2026-SZYK-filing-form.docx",
    )
