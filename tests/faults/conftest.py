"""The fault suite reuses the web tests' fixtures (app over ASGI, two units with links)."""

from tests.web.conftest import cheap_argon2, two_units, web_app  # noqa: F401
