"""Test set-up: every test that asks for ``app`` runs once per selected database.

``--db=sqlite`` and ``--db=postgres`` (both by default in ``make test``) choose the
backends. SQLite gets a fresh file per test, copied from one migrated template;
PostgreSQL gets a database of its own for the session, truncated between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from services.bootstrap import App
from services.core.clock import Clock
from services.core.settings import Settings
from services.db import counts
from services.db.engine import make_engine, make_session_factory
from services.db.migrate import upgrade
from services.db.models import Base
from services.registry.catalogue import ensure_seeded
from tests.support.mailserver import MailServer

NOTICE_DAY = date(2021, 7, 19)
PG_URL = os.environ.get("RECTIFY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        action="append",
        choices=["sqlite", "postgres"],
        help="database backends to run the integration tests on (repeatable; default sqlite)",
    )
    parser.addoption(
        "--strict-skips",
        action="store_true",
        help="fail the run when a test is skipped that ALLOWED_SKIPS does not name (make test)",
    )


#: Tests allowed to skip under ``--strict-skips``, by node id without the parameters, with why.
#: Empty: everything the suite needs is installed by ``make test``.
ALLOWED_SKIPS: dict[str, str] = {}
_skipped: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if not session.config.getoption("--strict-skips"):
        return
    unlisted = [(n, why) for n, why in _skipped if n.split("[")[0] not in ALLOWED_SKIPS]
    if unlisted:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.ensure_newline()
        reporter.write_sep("=", "skipped without a place in ALLOWED_SKIPS (tests/conftest.py)")
        for nodeid, why in unlisted:
            reporter.write_line(f"{nodeid}: {why}")
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = metafunc.config.getoption("--db") or ["sqlite"]
        metafunc.parametrize("backend", list(dict.fromkeys(backends)), scope="session")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database():
    name = f"rectify_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    if backend == "sqlite":
        path = tmp_path / "rectify.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # A connection an earlier test left open would make TRUNCATE wait for ever: end it,
        # and fail fast (not hang) should anything else hold a lock.
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        supervisor_email="supervisor@rectify.test",
    )


@pytest.fixture
def app(settings, request):
    engine = make_engine(settings.database_url)
    application = App(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=Clock(NOTICE_DAY),
    )
    with application.uow() as uow:
        ensure_seeded(uow)
        uow.commit()
    yield application
    # Every test that wrote cases through the services leaves the live counters equal to a
    # recount: transitions, batches (recheck, sweep, publication), imports, registry moves.
    wrong = {}
    if request.node.get_closest_marker("tampers") is None:
        with application.uow() as uow:
            wrong = counts.mismatches(uow.session)
    application.close()
    shown = dict(sorted(wrong.items())[:5])
    assert not wrong, f"case_counts differ from a recount in {len(wrong)} keys, e.g. {shown}"


@pytest.fixture
def mail_server():
    """A loopback SMTP server for one test, started; ``received`` holds what it accepted."""
    server = MailServer().start()
    yield server
    server.stop()
