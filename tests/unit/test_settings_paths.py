"""Where an installation keeps its files: the platform's data directory (or RECTIFY_DATA_DIR),
never the source tree; `rectify up` puts its Prefect server there and sets run retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cli.supervisor import prefect_env
from services.core.settings import Settings

SOURCE = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No RECTIFY_* location settings, no .env in the working directory, XDG pointing at tmp."""
    for name in ("RECTIFY_DATA_DIR", "RECTIFY_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_by_default_data_and_database_live_in_the_platform_data_directory(bare_env):
    settings = Settings()
    assert settings.data_dir == bare_env / "xdg" / "rectify"
    assert settings.database_url == f"sqlite:///{bare_env / 'xdg' / 'rectify' / 'rectify.db'}"
    assert SOURCE not in settings.data_dir.parents


def test_rectify_data_dir_moves_the_database_with_it_and_an_explicit_url_wins(
    bare_env, monkeypatch
):
    monkeypatch.setenv("RECTIFY_DATA_DIR", "/var/lib/rectify")
    moved = Settings()
    assert (moved.data_dir, moved.database_url) == (
        Path("/var/lib/rectify"),
        "sqlite:////var/lib/rectify/rectify.db",
    )
    monkeypatch.setenv("RECTIFY_DATABASE_URL", "postgresql+psycopg://rectify@db/rectify")
    assert Settings().database_url == "postgresql+psycopg://rectify@db/rectify"


def test_rectify_up_keeps_prefect_in_the_data_directory_and_routes_service_logs(
    bare_env, monkeypatch
):
    monkeypatch.delenv("PREFECT_LOGGING_EXTRA_LOGGERS", raising=False)
    env = prefect_env(4299, bare_env / "data")
    assert env["PREFECT_HOME"] == str(bare_env / "data" / "prefect")
    assert (bare_env / "data" / "prefect").is_dir()
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"].endswith(
        str(bare_env / "data" / "prefect" / "prefect.db")
    )
    assert env["RECTIFY_DATA_DIR"] == str(bare_env / "data")  # children: the same database
    assert env["PREFECT_LOGGING_EXTRA_LOGGERS"] == "services"
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD", "86400")
    assert (
        prefect_env(4299, bare_env / "data")["PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"]
        == "86400"
    )  # the operator's choice wins


@pytest.mark.slow
def test_the_retention_rectify_up_sets_is_what_prefects_server_reads(bare_env, monkeypatch):
    """The variable names are Prefect 3.9.1's own: its settings read them as a 30-day flow-run
    vacuum (a misspelt name would leave the default: events only, 90 days)."""
    for name in list(os.environ):
        if name.startswith("PREFECT_SERVER_SERVICES_DB_VACUUM"):
            monkeypatch.delenv(name)
    env = prefect_env(4299, bare_env / "data")
    probe = (
        "import json\n"
        "from prefect.settings import get_current_settings\n"
        "s = get_current_settings()\n"
        "v = s.server.services.db_vacuum\n"
        "print(json.dumps({'types': sorted(v.enabled_vacuum_types),"
        " 'seconds': v.retention_period.total_seconds(),"
        " 'extra': s.logging.extra_loggers}))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    read = json.loads(ran.stdout.strip().splitlines()[-1])
    assert "flow_runs" in read["types"] and "events" in read["types"]
    assert read["seconds"] == timedelta(days=30).total_seconds()
    assert read["extra"] in ("services", ["services"])
