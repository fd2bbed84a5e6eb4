"""The web parts of the corpus reuse the web tests' fixtures (app over ASGI, two units)."""

from tests.web.conftest import cheap_argon2, two_units  # noqa: F401
