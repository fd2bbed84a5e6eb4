"""API documentation that works offline: the OpenAPI schema rendered as a plain page.

FastAPI's default /docs loads Swagger UI from a CDN, which this machine cannot reach;
the schema itself is served at /openapi.json for any client or tool.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request):
    schema = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "params": [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"],
            "body": "requestBody" in op,
        }
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    ]
    return render(request, "docs.html", operations=operations, title=schema["info"]["title"])
