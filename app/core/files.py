"""Stored files (training material now, inspection evidence later): kept outside the database
under UPLOAD_FOLDER, named by their SHA-256 (so a file name is never used as a path and the
same file is stored once), typed by their content, not by their name, and limited in size."""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.core.errors import DomainError
from app.core.text import without_control_characters

CHUNK = 1024 * 1024

# Kinds this system accepts, with their MIME types.
KINDS = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ole": "application/octet-stream",  # .doc / .xls / .ppt (OLE compound file)
}
DOCUMENT_KINDS = frozenset({"pdf", "docx", "xlsx", "pptx", "ole"})
PHOTO_KINDS = frozenset({"jpeg", "png", "heic"})


@dataclass
class StoredFile:
    sha256: str
    size: int
    kind: str
    content_type: str


def sniff(path: Path) -> str | None:
    """The kind of a file from its first bytes (and, for Office files, its zip directory)."""
    with open(path, "rb") as fh:
        head = fh.read(32)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim"):
        return "heic"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
                if any(n.startswith(prefix) for n in names):
                    return kind
    return None


def storage_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def stored_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")
    return storage_root() / sha256[:2] / sha256


def store(stream, allowed_kinds) -> StoredFile:
    """Copy the upload to the store while hashing it; refuse what is too large or of a kind
    not allowed (DomainError, nothing kept)."""
    limit = current_app.config.get("MAX_UPLOAD_MB", 20) * 1024 * 1024
    root = storage_root()
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=root / "tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise DomainError(
                        _l("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise DomainError(_l("The file is empty."))
        kind = sniff(tmp)
        if kind not in allowed_kinds:
            raise DomainError(_l("This kind of file is not accepted here."))
        sha = digest.hexdigest()
        final = stored_path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
        return StoredFile(sha, size, kind, KINDS[kind])
    finally:
        if tmp.exists():
            tmp.unlink()


# Quotes end the name in a `Content-Disposition` header or an HTML attribute someone forgot to
# escape; a right-to-left override (U+202E) shows "txt.exe" as "exe.txt".
_NOT_IN_NAMES = frozenset('"\'`')


def safe_display_name(name: str | None, kind: str = "bin") -> str:
    """The uploader's file name, for display and downloads only: no path, no control
    characters (PostgreSQL cannot store a NUL), no line breaks or tabs, no invisible format
    characters (bidi overrides and isolates, zero-width marks), no quotes, bounded length. A
    name stored before this was checked is cleaned again when it is downloaded."""
    name = without_control_characters((name or "").replace("\\", "/"))
    name = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in name
        if ch in "\t\r\n"
        or (ch not in _NOT_IN_NAMES and unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    )
    base = " ".join(os.path.basename(name).split()) or f"file.{kind}"
    return base[-120:]
