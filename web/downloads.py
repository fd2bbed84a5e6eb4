"""Responses that hand the browser a file to save: the header naming it, stored attachments."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import FileResponse, Response

from services.cases.submissions import StoredFile
from services.core.plaintext import visible_filename

#: The content policy of an HTML report opened in the browser (the notice): its own inline
#: stylesheet and SVG chart, nothing loaded, no script, no form, not framed, its own origin.
REPORT_PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "sandbox",
    ]
)


def attachment_header(filename: str, *, inline: bool = False) -> dict[str, str]:
    """``Content-Disposition: attachment`` (``inline`` to open it in the browser) with an ASCII
    fallback and the UTF-8 (Chinese) name.

    Always a valid header line, whatever the name: control characters (a line feed in a name
    stored before uploads refused them) become ``_``, and the fallback drops ``"`` and ``\\``.
    """
    name = visible_filename(filename)
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "")
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Disposition": f'{disposition}; filename="{ascii_name or "download"}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    }


def report_response(content: bytes, *, filename: str, content_type: str, inline: bool) -> Response:
    """A generated report: saved as ``filename``, or (``inline``, an HTML page) opened in the
    browser under :data:`REPORT_PAGE_POLICY`, its stylesheet being inline."""
    headers = attachment_header(filename, inline=inline)
    if inline:
        headers["Content-Security-Policy"] = REPORT_PAGE_POLICY
    return Response(content, media_type=content_type, headers=headers)


def attachment_response(stored: StoredFile) -> FileResponse:
    """A stored attachment as a download, never sniffed into something the browser would run."""
    return FileResponse(
        stored.path,
        media_type=stored.content_type,
        headers={**attachment_header(stored.filename), "X-Content-Type-Options": "nosniff"},
    )
