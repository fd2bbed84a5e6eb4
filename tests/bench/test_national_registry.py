"""bench national's registry stage: the import files, loaded through ``rectify import``, give
exactly the plan's registry (PostgreSQL only: the bench runs on it)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from bench.national import registry
from bench.national.quarter import open_quarter


@pytest.fixture
def quarter(tmp_path):
    """A quarter on a PostgreSQL database of its own (the national bench's database), whatever
    ``--db`` says, as the pipeline test."""
    with open_quarter(0.001, tmp_path) as q:
        yield q


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_the_import_files_load_the_plans_registry_and_rounds(quarter):
    plan = quarter.plan

    loaded = registry.load(quarter)
    made = registry.rounds(quarter)

    sizes = plan.sizes
    assert loaded.items == sizes.units + sizes.pages + sizes.accounts
    assert made.details == {"issuers": sizes.offices, "rounds": sizes.offices}
    units = _rows(
        quarter.database_url,
        "SELECT u.code, u.name, u.kind, p.code, u.path, u.contact_email "
        "FROM units u LEFT JOIN units p ON p.id = u.parent_id",
    )
    paths = {row[1]: row[5] for row in registry.stored_units(plan)}
    assert sorted(units) == sorted(
        (u.code, u.name, registry.unit_kind(u), u.parent_code, paths[u.code], u.email)
        for u in plan.units
    )
    targets = _rows(
        quarter.database_url,
        "SELECT t.code, u.code, t.kind, p.code, t.url, t.status, t.platform "
        "FROM targets t JOIN units u ON u.id = t.unit_id "
        "LEFT JOIN targets p ON p.id = t.parent_target_id",
    )
    port = quarter.fixtures.port
    wanted = []
    for site in plan.websites:
        status = registry.site_status(plan, site.index)
        wanted.append((site.code, site.unit_code, "website", None,
                       f"http://{site.host}:{port}/", status, None))  # fmt: skip
        wanted += [
            (
                site.column_code(c),
                site.unit_code,
                "column",
                site.code,
                f"http://{site.host}:{port}{site.column_path(c)}",
                status,
                None,
            )  # fmt: skip
            for c in range(sizes.columns)
        ]
    wanted += [
        (a.code, a.unit_code, "new_media", None, None, "operating", registry.platform(a.index)[0])
        for a in plan.accounts
    ]
    assert sorted(targets) == sorted(wanted)
    rounds = _rows(
        quarter.database_url,
        "SELECT r.code, u.code, r.period_start, r.period_end, r.notice_date FROM rounds r "
        "JOIN issuers i ON i.id = r.issuer_id JOIN units u ON u.id = i.unit_id",
    )
    assert sorted(rounds) == sorted(
        (plan.round_code(o.code), o.code, *registry.PERIOD, registry.NOTICE_DAY)
        for o in plan.offices
    )


def test_loading_the_registry_again_changes_nothing(quarter):
    registry.load(quarter)

    again = registry.load(quarter)

    assert again.items == 0
    count = _rows(quarter.database_url, "SELECT count(*) FROM targets")[0][0]
    assert count == quarter.plan.sizes.pages + quarter.plan.sizes.accounts
