"""Photos and evidence files, checked by content and size, never by extension."""

from __future__ import annotations

from django.core.exceptions import ValidationError

ERR_FILE_TYPE = "只接受 JPG、PNG 图片{pdf}。"
ERR_FILE_SIZE = "文件超过 {mb} MB。"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
PDF_MAGIC = b"%PDF-"


def check_file(upload, *, allow_pdf: bool = False):
    """Photos and evidence: by content (JPG/PNG, optionally PDF) and size, never by extension."""
    if upload is None:
        return
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(ERR_FILE_SIZE.format(mb=MAX_PHOTO_BYTES // (1024 * 1024)))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    ok = head.startswith(PHOTO_MAGIC) or (allow_pdf and head.startswith(PDF_MAGIC))
    if not ok:
        raise ValidationError(ERR_FILE_TYPE.format(pdf="或 PDF 文件" if allow_pdf else ""))
