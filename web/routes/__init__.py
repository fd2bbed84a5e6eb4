"""Routers, one per area; each route parses, calls one use case and renders."""
