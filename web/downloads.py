"""Responses that hand the browser a file to save: the header naming it, stored attachments."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import FileResponse

from services.cases.submissions import StoredFile
from services.core.plaintext import visible_filename


def attachment_header(filename: str) -> dict[str, str]:
    """``Content-Disposition: attachment`` with an ASCII fallback and the UTF-8 (Chinese) name.

    Always a valid header line, whatever the name: control characters (a line feed in a name
    stored before uploads refused them) become ``_``, and the fallback drops ``"`` and ``\\``.
    """
    name = visible_filename(filename)
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "")
    return {
        "Content-Disposition": f'attachment; filename="{ascii_name or "download"}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    }


def attachment_response(stored: StoredFile) -> FileResponse:
    """A stored attachment as a download, never sniffed into something the browser would run."""
    return FileResponse(
        stored.path,
        media_type=stored.content_type,
        headers={**attachment_header(stored.filename), "X-Content-Type-Options": "nosniff"},
    )
