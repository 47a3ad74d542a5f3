"""Names of downloaded files. A file is named by what it is for a person — the task's number and
title and what the file holds (`东水双随机〔2026〕3号_取水许可专项检查_抽取结果.json`) — never by an
internal id. The name goes into `Content-Disposition` twice (RFC 6266): as `filename*=UTF-8''…`
(RFC 5987, what every current browser uses) and as a plain ASCII `filename` for the rest
(`task-2026-003-draw-result.json`)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# Characters Windows, macOS or a shell refuse or misread in a file name, and control characters.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]+')
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 120

__all__ = [
    "ascii_fallback",
    "DOCX_MIMETYPE",
    "attach",
    "content_disposition",
    "plan_file_names",
    "safe_file_name",
    "send_named",
    "task_file_names",
]


def safe_file_name(name: str) -> str:
    """`name` without path separators and characters file systems refuse, trimmed; the stem is
    cut to a length every file system takes."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", name or "")).strip(" ._")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:_MAX_STEM].rstrip(" ._") or "download"
    return f"{stem}.{ext}" if ext else stem


def ascii_fallback(name: str) -> str:
    """An ASCII name for clients that ignore `filename*`: the ASCII letters and digits of `name`
    ("2026-001_抽取结果.json" -> "2026-001.json"), "download" when none is left."""
    name = unicodedata.normalize("NFKD", name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = re.sub(r"[-_.]{2,}", "-", _NOT_ASCII_NAME.sub("-", stem)).strip("-_.") or "download"
    ext = _NOT_ASCII_NAME.sub("", ext)
    return f"{stem}.{ext}" if ext else stem


def content_disposition(name: str, fallback: str | None = None, inline: bool = False) -> str:
    """`attachment; filename="task-2026-003-draw.json"; filename*=UTF-8''%E4%B8%9C…`."""
    name = safe_file_name(name)
    plain = ascii_fallback(fallback or name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def task_file_names(task, what: str, ascii_what: str, ext: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a task's file: ("东水双随机〔2026〕3号_取水许可专项检查_抽取结果.json",
    "task-2026-003-draw-result.json")."""
    name = safe_file_name(f"{task.number}_{task.name}_{what}.{ext}")
    if getattr(task, "year", None) and getattr(task, "seq", None):
        plain = f"task-{task.year}-{task.seq:03d}-{ascii_what}.{ext}"
    else:
        plain = ascii_fallback(f"{task.number}-{ascii_what}.{ext}")
    return name, plain


def plan_file_names(plan, what: str, ascii_what: str, ext: str) -> tuple[str, str]:
    """(name, ASCII fallback) of an annual plan's file: ("2026年度水资源管理科随机抽查计划_备案.csv",
    "plan-2026-SZYK-filing.csv")."""
    name = safe_file_name(f"{plan.title}_{what}.{ext}")
    code = getattr(plan.department, "code", "") if plan.department is not None else ""
    return name, ascii_fallback(f"plan-{plan.year}-{code}-{ascii_what}.{ext}")


DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def send_named(data, mimetype: str, names: tuple[str, str], **kwargs):
    """`send_file` of `data` (bytes or a binary file) as an attachment named `names` (name,
    ASCII fallback)."""
    import io

    from flask import send_file

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    response = send_file(
        source,
        mimetype=mimetype.split(";", 1)[0],
        as_attachment=True,
        download_name=names[1],
        **kwargs,
    )
    # The type as given: werkzeug appends its own charset to a text type, so a given one would
    # be sent twice ("text/csv; charset=utf-8; charset=utf-8").
    response.headers["Content-Type"] = mimetype
    return attach(response, *names)


def attach(response, name: str, fallback: str | None = None, inline: bool = False):
    """`response` with its Content-Disposition set to `name` (and its ASCII fallback)."""
    response.headers["Content-Disposition"] = content_disposition(name, fallback, inline)
    return response
