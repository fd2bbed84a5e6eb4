"""The Lincang 2021 demo: the seed notice's figures, its cases and the park domain's repeat chain."""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.bootstrap import App
from services.cases import transitions
from services.core.clock import Clock
from services.core.settings import Settings
from services.core.uow import UnitOfWork
from services.db.access_models import UnitLink
from services.db.engine import make_engine, make_session_factory
from services.db.migrate import upgrade
from services.db.models import BoardFigure, Case, CaseEvent, OutboxMessage, Round, Target, Unit
from services.imports import ImportReport
from services.ops import demo
from services.registry.catalogue import ensure_seeded
from services.rounds import rounds
from tests.conftest import NOTICE_DAY, PG_URL


@dataclass
class LoadedDemo:
    app: App
    report: ImportReport

    def uow(self) -> UnitOfWork:
        return self.app.uow()


@pytest.fixture(scope="module")
def demo_app(backend, request, tmp_path_factory):
    """One database per backend with the demo loaded, shared by the READ-ONLY tests below.

    A test that writes (even flushing without committing) takes ``own_demo`` instead.
    """
    pg_name = None
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        pg_name = f"rectify_demo_{uuid.uuid4().hex[:10]}"
        with create_engine(PG_URL, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = PG_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    engine = make_engine(url)
    upgrade(engine)
    application = App(
        settings=Settings(database_url=url, data_dir=tmp_path_factory.mktemp("data")),
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=Clock(NOTICE_DAY),
    )
    with application.uow() as uow:
        ensure_seeded(uow)
        report = demo.load_demo(uow)
        uow.commit()
    yield LoadedDemo(app=application, report=report)
    application.close()
    if pg_name:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def own_demo(app) -> LoadedDemo:
    """The demo in the test's own database (``app``), for tests that change it."""
    with app.uow() as uow:
        report = demo.load_demo(uow)
        uow.commit()
    return LoadedDemo(app=app, report=report)


def cases_of(uow, round_code: str) -> list[Case]:
    return list(
        uow.session.scalars(
            select(Case).join(Round).where(Round.code == round_code).order_by(Case.id)
        )
    )


def test_q2_tally_gives_the_notices_counts_and_pass_rates(demo_app):
    with demo_app.uow() as uow:
        tally = rounds.tally(uow, "2021Q2")
    figures = {kind: (t.inspected, t.unqualified) for kind, t in tally.items()}
    assert figures == {"website": (9, 1), "column": (38, 1), "new_media": (194, 3)}
    nm = tally["new_media"]
    assert rounds.pass_rate(nm.qualified, nm.inspected) == Decimal("98.45")
    column = tally["column"]
    assert rounds.pass_rate(column.qualified, column.inspected) == Decimal("97.37")
    website = tally["website"]
    assert rounds.pass_rate(website.qualified, website.inspected, rule="truncate") == Decimal(
        "88.88"
    )


def test_q2_round_holds_the_inventory_figures_deadline_and_document_number(demo_app):
    with demo_app.uow() as uow:
        q2 = rounds.get_round(uow, "2021Q2")
        assert (q2.nm_registered, q2.nm_wechat_closed, q2.nm_other_deregistered) == (54, 11, 17)
        assert (q2.notice_date, q2.deadline) == (date(2021, 7, 19), date(2021, 7, 29))
        assert q2.doc_number == "临政办字〔2021〕72号"
        assert q2.title == "关于2021年二季度全市政府网站和政府系统政务新媒体检查情况的通报"


def test_ten_message_boards_received_151_messages_with_three_overdue_in_gengma(demo_app):
    with demo_app.uow() as uow:
        rows = uow.session.execute(
            select(Unit.short_name, BoardFigure.messages_received, BoardFigure.replies_overdue)
            .join(Target, Target.id == BoardFigure.target_id)
            .join(Unit, Unit.id == Target.unit_id)
        ).all()
    received = {name: n for name, n, _ in rows}
    assert received == {
        "市政府": 54,
        "市公安局": 1,
        "临翔区": 29,
        "云县": 4,
        "凤庆县": 8,
        "永德县": 10,
        "镇康县": 12,
        "耿马自治县": 7,
        "沧源自治县": 13,
        "双江自治县": 13,
    }
    assert sum(received.values()) == 151
    assert {name: o for name, _, o in rows if o} == {"耿马自治县": 3}


def test_q2_cases_are_found_with_the_units_and_categories_the_notice_names(demo_app):
    with demo_app.uow() as uow:
        found = {
            (c.unit.name, c.target.name, c.category_code, c.severity, c.state)
            for c in cases_of(uow, "2021Q2")
        }
    assert found == {
        (
            "临沧市自然资源和规划局",
            "市自然资源和规划局信息公开专栏",
            "serious_wording",
            "veto",
            "found",
        ),
        ("永德县人民政府", "永德县人民政府门户网站", "column_stale", "veto", "found"),
        (
            "临沧市乡村振兴局",
            "市乡村振兴局信息公开专栏",
            "column_stale_minor",
            "deduction",
            "found",
        ),
        (
            "临沧市乡村振兴局",
            "市乡村振兴局信息公开专栏",
            "column_name_outdated",
            "deduction",
            "found",
        ),
        (
            "临沧工业园区管理委员会",
            "临沧工业园区管理委员会网站",
            "domain_not_deregistered",
            "deduction",
            "found",
        ),
        ("临沧工业园区管理委员会", "临沧工业园区", "nm_zombie", "veto", "found"),
        ("耿马傣族佤族自治县水务局", "耿马水务", "nm_zombie", "veto", "found"),
        ("耿马傣族佤族自治县森林公安局", "耿马森警", "nm_zombie", "veto", "found"),
        (
            "耿马傣族佤族自治县人民政府",
            "耿马自治县网民留言",
            "message_reply_overdue",
            "deduction",
            "found",
        ),
    }


def test_q1_problems_were_rectified_and_verified_through_their_recorded_steps(demo_app):
    with demo_app.uow() as uow:
        q1 = [c for c in cases_of(uow, "2021Q1") if c.severity == "veto"]
        kinds = sorted(c.target.kind for c in q1)
        assert kinds == ["column"] * 3 + ["new_media"] * 4 + ["website"]
        assert {c.state for c in q1} == {"verified"}
        for case in q1:
            events = uow.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            ).all()
            assert [e.trigger for e in events] == ["created", "notify", "start", "submit", "verify"]
            assert all(date(2021, 4, 1) <= e.at.date() <= date(2021, 5, 31) for e in events)
        tally = rounds.tally(uow, "2021Q1")
        assert {k: t.unqualified for k, t in tally.items()} == {
            "website": 1,
            "column": 3,
            "new_media": 4,
        }


def test_the_park_domain_chain_counts_two_city_and_one_province_notice_before_q2(own_demo):
    with own_demo.uow() as uow:
        chain = uow.session.scalars(
            select(Case)
            .join(Target)
            .where(Target.code == "web-gyyq", Case.category_code == "domain_not_deregistered")
            .order_by(Case.id)
        ).all()
        assert [c.round.code for c in chain] == ["2020Q4", "2021Q1", "2021Q2"]
        assert [c.previous_case_id for c in chain] == [None, chain[0].id, chain[1].id]
        # The earlier cases were escalated, then carried over to the next round's case.
        assert [c.state for c in chain] == ["continued", "continued", "found"]
        q2 = chain[2]
        assert (q2.notices_city, q2.notices_province) == (2, 1)
        assert q2.target.status == "offline" and q2.target.domain == "lcgyyq.example"

        transitions.transition(uow, case_id=q2.id, trigger="notify", actor="市政府办公室")
        uow.commit()
        assert (q2.notices_city, q2.notices_province) == (3, 1)
        assert q2.deadline == date(2021, 7, 29)


def test_every_unit_has_contact_and_leader_emails_and_gengmas_bureaus_sit_under_gengma(demo_app):
    with demo_app.uow() as uow:
        units = {u.code: u for u in uow.session.scalars(select(Unit))}
        assert all(u.contact_email and u.leader_email for u in units.values())
        assert units["gengma-swj"].parent.name == "耿马傣族佤族自治县人民政府"
        assert units["gengma-slga"].parent.code == "gengma"
        assert units["lincang"].parent is None and units["lincang"].kind == "city_gov"
        assert units["gyyq"].kind == "park_committee"
        assert sum(u.kind == "county_gov" for u in units.values()) == 8
        synthetic = uow.session.scalar(select(func.count()).where(Target.synthetic.is_(True)))
        assert synthetic > 0


def test_loading_the_demo_again_changes_nothing_and_it_mailed_nothing(own_demo):
    def snapshot(uow):
        return [
            (c.id, c.state, c.version, c.notices_city, c.notices_province)
            for c in uow.session.scalars(select(Case).order_by(Case.id))
        ], uow.session.scalar(select(func.count()).select_from(CaseEvent))

    assert own_demo.report.counts["cases"].created == 19
    with own_demo.uow() as uow:
        before = snapshot(uow)
        again = demo.load_demo(uow)
        uow.commit()
        assert snapshot(uow) == before
        assert uow.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert uow.session.scalar(select(func.count()).select_from(UnitLink)) == 0
    assert not again.changed


def test_cli_demo_lists_q2_cases_and_refuses_verifying_a_found_case(settings, tmp_path):
    env = {"RECTIFY_DATABASE_URL": settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}

    def run(*args):
        return CliRunner().invoke(cli_app, ["--as-of", "2021-07-19", *args], env=env)

    assert run("db", "upgrade").exit_code == 0
    assert run("demo", "--if-empty").exit_code == 0
    skipped = run("demo", "--if-empty")
    assert skipped.exit_code == 0 and "跳过" in skipped.stdout

    listed = run("cases", "--round", "2021Q2", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert len(rows) == 9 and {r["state"] for r in rows} == {"found"}
    assert {r["unit"] for r in rows} >= {"永德县人民政府", "耿马傣族佤族自治县水务局"}
    wording = next(r for r in rows if r["category"] == "serious_wording")

    history_before = json.loads(run("case", "show", str(wording["id"]), "--json").stdout)
    refused = run("case", "verify", str(wording["id"]), "--actor", "张三")
    assert refused.exit_code != 0
    assert "已发现" in refused.stderr and "verify" in refused.stderr
    history_after = json.loads(run("case", "show", str(wording["id"]), "--json").stdout)
    assert history_after["events"] == history_before["events"]
    assert history_after["case"]["state"] == "found"
