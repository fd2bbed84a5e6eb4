"""One Prefect test server for the whole session (its start-up costs seconds, not per test)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from services.bootstrap import App
from services.core.clock import Clock
from services.core.settings import Settings
from services.db.engine import make_engine, make_session_factory
from services.registry.catalogue import ensure_seeded
from tests.conftest import NOTICE_DAY

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="rectify-prefect-"))
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def app(sqlite_template, tmp_path):
    """A SQLite database of its own: the services run on both backends elsewhere, the flows here."""
    path = tmp_path / "rectify.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite:///{path}",
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        supervisor_email="supervisor@rectify.test",
    )
    engine = make_engine(settings.database_url)
    application = App(settings, engine, make_session_factory(engine), Clock(NOTICE_DAY))
    with application.uow() as uow:
        ensure_seeded(uow)
        uow.commit()
    yield application
    application.close()


@pytest.fixture
def demo(app, prefect_server, monkeypatch):
    """The Lincang 2021 scenario in the test database, which the flows' settings point at."""
    from services.ops.demo import load_demo

    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("RECTIFY_SECRET_KEY", app.settings.secret_key)
    monkeypatch.setenv("RECTIFY_DATA_DIR", str(app.settings.data_dir))
    with app.uow() as uow:
        load_demo(uow)
        uow.commit()
    return app
