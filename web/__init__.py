"""The web entry point: supervisor pages, the unit portal and the JSON API (FastAPI)."""
