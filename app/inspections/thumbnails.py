"""Small JPEG previews of photo evidence for the record page, made once and kept next to the
stored files (UPLOAD_FOLDER/thumbs). HEIC photos have no preview: Pillow cannot read them
without a codec that the intranet server may not have; the page links the file instead."""

from __future__ import annotations

import io
import os
import tempfile

from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.files import storage_root, stored_path

SIZE = (320, 320)
# A decompression bomb (a small file claiming gigapixels) is refused, not expanded.
Image.MAX_IMAGE_PIXELS = 80_000_000


def thumbnail(sha256: str, kind: str) -> bytes | None:
    if kind not in ("jpeg", "png"):
        return None
    cached = storage_root() / "thumbs" / f"{sha256}.jpg"
    if cached.exists():
        return cached.read_bytes()
    try:
        with Image.open(stored_path(sha256)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail(SIZE)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        # A file that starts like a photo but does not decode: no preview, the link remains.
        return None
    data = out.getvalue()
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cached.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, cached)
    return data
