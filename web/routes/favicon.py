"""``/favicon.ico``: the icon browsers ask for at the site's root (pages link the SVG)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)
ICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(ICON, media_type="image/x-icon")
