"""The database connection cut in the middle of a publication: nothing half-written, rerun ends.

On PostgreSQL the session's backend is terminated from another connection
(``pg_terminate_backend``), on SQLite its connection is closed under it; both happen as the
second batch starts writing, so the first batch is committed and the second is not.
"""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from services.db.models import Case, CaseEvent, OutboxMessage, Round
from services.registry.catalogue import ensure_seeded
from tests.faults.scenario import BATCH, CASES, file_app, found_cases, run_step
from tests.support.flowkit import snapshot


def _cut_at_second_batch(app, backend: str):
    """Cut the connection when the second batch's case update is about to run."""
    updates = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("UPDATE CASES"):
            return
        updates.append(statement)
        if len(updates) != 2:
            return
        raw = conn.connection.dbapi_connection
        if backend == "postgres":
            killer = create_engine(app.settings.database_url, isolation_level="AUTOCOMMIT")
            with killer.connect() as other:
                other.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": raw.info.backend_pid}
                )
            killer.dispose()
        else:
            raw.close()

    event.listen(app.engine, "before_cursor_execute", before)
    return lambda: event.remove(app.engine, "before_cursor_execute", before)


def _uninterrupted(sqlite_template, tmp_path) -> dict:
    path = tmp_path / "baseline.db"
    shutil.copy(sqlite_template, path)
    baseline = file_app(f"sqlite:///{path}")
    with baseline.uow() as uow:
        ensure_seeded(uow)
        uow.commit()
    found_cases(baseline)
    run_step(baseline, "publish")
    try:
        return snapshot(baseline)
    finally:
        baseline.close()


def test_a_publication_whose_database_connection_is_cut_fails_cleanly_and_a_rerun_completes(
    app, backend, sqlite_template, tmp_path
):
    found_cases(app)
    restore = _cut_at_second_batch(app, backend)

    with pytest.raises(DBAPIError):
        run_step(app, "publish")
    restore()

    with app.uow() as uow:
        s = uow.session
        notified = set(s.scalars(select(Case.id).where(Case.state == "notified")))
        with_notify_event = set(
            s.scalars(select(CaseEvent.case_id).where(CaseEvent.trigger == "notify"))
        )
        mails = s.scalar(select(func.count()).select_from(OutboxMessage))
        published_at = s.scalar(select(Round.published_at))
    assert len(notified) == BATCH  # the first batch, whole; nothing of the second
    assert with_notify_event == notified
    assert mails == 0  # the unit notices come after the last batch
    assert published_at is None

    summary = run_step(app, "publish")
    assert summary.notified == CASES - BATCH
    assert snapshot(app) == _uninterrupted(sqlite_template, tmp_path)
