"""The data generator: realistic spread (overdue, open, repeat chains), the same seed the same rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from bench.generate import AS_OF, generate
from services.bootstrap import build_app
from services.core.errors import ValidationFailed
from services.db.migrate import upgrade
from services.db.models import Case, Round
from services.registry.catalogue import ensure_seeded
from services.rounds import rechecks, sweeps

CASES = 4000


def _fingerprint(app) -> list[tuple]:
    with app.engine.connect() as conn:
        columns = (Case.id, Case.round_id, Case.target_id, Case.category_code, Case.state)
        return conn.execute(select(*columns, Case.previous_case_id).order_by(Case.id)).all()


def test_a_generated_history_has_overdue_open_and_repeat_cases_as_a_recheck_sees_them(app):
    made = generate(app.engine, units=60, cases=CASES, seed=5)
    assert made.cases == CASES
    later = build_app(app.settings, as_of=AS_OF)
    with later.uow() as uow:
        overdue = sweeps.overdue_ids(uow)
        candidates = rechecks.candidate_ids(uow, round_code="2021Q4")
        previous = aliased(Case)
        chains = uow.session.execute(
            select(Case.target_id, Case.category_code, Case.round_id, Case.notices_city)
            .add_columns(previous.target_id, previous.category_code, previous.round_id)
            .join(previous, previous.id == Case.previous_case_id)
        ).all()
        rounds = dict(uow.session.execute(select(Round.id, Round.period_start)).all())
    later.close()
    assert len(overdue) == made.overdue and 0.008 * CASES <= made.overdue <= 0.012 * CASES
    assert made.open <= len(candidates) < CASES // 2
    assert len(chains) == made.chained and made.chained > 0.02 * CASES
    for target, category, round_id, notices, p_target, p_category, p_round in chains:
        assert (target, category) == (p_target, p_category)
        assert rounds[p_round] < rounds[round_id] and notices >= 1


def test_the_same_seed_generates_the_same_rows_and_a_full_database_is_refused(app, tmp_path):
    generate(app.engine, units=60, cases=CASES, seed=5)
    url = f"sqlite:///{tmp_path / 'again.db'}"
    again = build_app(app.settings.model_copy(update={"database_url": url}), as_of=AS_OF)
    upgrade(again.engine)
    with again.uow() as uow:
        ensure_seeded(uow)
        uow.commit()
    generate(again.engine, units=60, cases=CASES, seed=5)
    assert _fingerprint(again) == _fingerprint(app)
    with pytest.raises(ValidationFailed, match="已有案件"):
        generate(again.engine, units=60, cases=CASES, seed=5)
    again.close()
