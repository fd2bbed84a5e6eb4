"""``rectify export`` / ``rectify import-archive``: everything comes back, on either database."""

import hashlib
import io
import json
import tarfile
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.access import unit_links
from services.bootstrap import App
from services.cases import submissions, transitions
from services.core.clock import Clock
from services.core.settings import Settings
from services.db.access_models import User
from services.db.engine import make_engine, make_session_factory
from services.db.migrate import alembic_config, current, upgrade
from services.db.models import Attachment, Base, Case, CaseEvent, CheckResult, OutboxMessage
from services.ops import demo
from services.registry.catalogue import ensure_seeded
from services.rounds import rounds
from tests.builders import a_case, a_round, a_target, a_unit
from tests.conftest import NOTICE_DAY, PG_URL

PDF = b"%PDF-1.4\n% \xe6\x95\xb4\xe6\x94\xb9\xe6\x9d\x90\xe6\x96\x99\n" + bytes(range(256)) * 40
BEIJING = timezone(timedelta(hours=8))


def pytest_generate_tests(metafunc):
    """One run per direction between the selected backends, not one per backend."""
    if "direction" in metafunc.fixturenames:
        backends = list(dict.fromkeys(metafunc.config.getoption("--db") or ["sqlite"]))
        pairs = [(a, b) for a in backends for b in backends if a != b] or [
            (backends[0], backends[0])
        ]
        metafunc.parametrize("direction", pairs, ids=[f"{a}-to-{b}" for a, b in pairs])


@pytest.fixture
def new_database(tmp_path):
    """Make empty migrated databases of either kind; PostgreSQL ones are dropped after."""
    created = []
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")

    def make(backend: str, label: str) -> App:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / label}.db"
        else:
            name = f"rectify_backup_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            created.append(name)
            url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        settings = Settings(
            database_url=url, data_dir=tmp_path / f"{label}-data", secret_key="test-secret"
        )
        engine = make_engine(url)
        upgrade(engine)
        application = App(settings, engine, make_session_factory(engine), Clock(NOTICE_DAY))
        with application.uow() as uow:
            ensure_seeded(uow)  # as `rectify db upgrade` does
            uow.commit()
        apps.append(application)
        return application

    apps: list[App] = []
    yield make
    for application in apps:
        application.close()
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def cli(application: App, *args: str):
    env = {
        "RECTIFY_DATABASE_URL": application.settings.database_url,
        "RECTIFY_DATA_DIR": str(application.settings.data_dir),
        "RECTIFY_SECRET_KEY": application.settings.secret_key,  # signs and checks archives
        "COLUMNS": "300",  # no line wrapping in the messages asserted on
    }
    return CliRunner().invoke(cli_app, ["--as-of", "2021-07-19", *args], env=env)


def fill_with_history(application: App) -> None:
    """Units, targets, rounds, cases in every state with events and notices, and the rest."""
    with application.uow() as uow:
        a_unit(uow, "bk-city", name="备份市人民政府办公室", kind="city_gov")
        a_unit(uow, "bk-county", parent_code="bk-city", name="备份县人民政府", kind="county_gov")
        a_target(uow, "bk-site", unit_code="bk-county", url="http://bk.test/", synthetic=True)
        a_target(uow, "bk-board", unit_code="bk-county", kind="message_board", name="留言板")
        quarter = a_round(
            uow,
            "2022Q2",
            notice_date=date(2021, 7, 19),
            deadline=date(2021, 7, 29),
            doc_number="临政办字〔2021〕72号",
        )
        quarter.notice_texts = {"preamble": "各县（区）人民政府：", "items": ["一", 2, None, True]}
        a_round(uow, "2022Q1")
        rounds.set_verdict(
            uow, round_code="2022Q2", target_code="bk-board", qualified_override=False,
            override_reason="留言超期", praise=None,
        )  # fmt: skip
        rounds.set_verdict(uow, round_code="2022Q2", target_code="bk-site", inspected=False)
        rounds.set_board_figure(
            uow,
            round_code="2022Q2",
            target_code="bk-board",
            messages_received=12,
            replies_overdue=3,
        )
        old = a_case(uow, state="verified", round_code="2022Q1", target_code="bk-site")
        for state in ["found", "notified", "rectifying", "submitted", "escalated"]:
            a_case(
                uow,
                state=state,
                round_code="2022Q2",
                category="site_unreachable" if state == "found" else "broken_links",
            )
        repeat = a_case(
            uow, state="notified", round_code="2022Q2", target_code="bk-site", previous_case_id=old.id,
            evidence={"url": "http://bk.test/", "seen": ["2021-07-01", "2021-07-02"]},
        )  # fmt: skip
        transitions.record_notice(
            uow, case_id=repeat.id, level="province", notified_on=date(2021, 7, 30), actor="督查员"
        )
        transitions.extend_deadline(
            uow, case_id=repeat.id, new_deadline=date(2021, 8, 9), reason="需采购", actor="督查员"
        )
        transitions.transition(
            uow, case_id=repeat.id, trigger="submit", actor="耿马县", actor_kind="unit",
            data={"text": "已更新栏目", "responsible_person": "张三", "phone": "0883-1234567"},
        )  # fmt: skip
        submission_id = uow.session.scalars(
            select(CaseEvent.data).where(CaseEvent.case_id == repeat.id).order_by(CaseEvent.id)
        ).all()[-1]["submission_id"]
        attach(uow, submission_id=submission_id, filename="整改报告.pdf", content=PDF)
        attach(uow, submission_id=submission_id, filename="截图.png", content=b"\x89PNG\r\n\x1a\n")
        unit_links.issue_link(uow, unit_id=repeat.unit_id, round_id=repeat.round_id)
        uow.session.add_all(
            [
                OutboxMessage(
                    key=f"test:{repeat.id}", template="test_only", case_id=repeat.id,
                    context={"案件": repeat.id, "deadline": "2021-08-09", "nested": {"a": [1]}},
                    to_addrs=["gengma@units.test"], cc_addrs=[], status="sent", attempts=2,
                    created_at=datetime(2021, 7, 19, 9, 30, tzinfo=BEIJING),
                    sent_at=datetime(2021, 7, 19, 9, 31, 5, 123456, tzinfo=BEIJING),
                ),
                CheckResult(
                    case_id=repeat.id, target_id=repeat.target_id, check="column_freshness",
                    outcome="fixed", summary="栏目已更新", details={"age_days": 3, "ok": True},
                    checked_at=datetime(2021, 7, 25, 23, 59, 59, tzinfo=BEIJING), run_ref="测试",
                ),
                User(
                    username="bk-admin", display_name="备份管理员", password_hash="x", role="admin",
                    active=False, created_at=datetime(2021, 7, 1, tzinfo=BEIJING),
                ),
            ]
        )  # fmt: skip
        uow.commit()


def attach(uow, *, submission_id: int, filename: str, content: bytes) -> None:
    stored_name = hashlib.sha256(filename.encode()).hexdigest()[:32]
    path = submissions.attachment_path(uow, stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    uow.session.add(
        Attachment(
            submission_id=submission_id, filename=filename, stored_name=stored_name,
            content_type="application/pdf", size=len(content),
            sha256=hashlib.sha256(content).hexdigest(), created_at=uow.clock.now(),
        )
    )  # fmt: skip


def every_row(application: App) -> dict[str, list[tuple]]:
    with application.engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def file_hashes(application: App) -> dict[str, str]:
    folder = application.settings.data_dir / "attachments"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_an_archive_restores_every_row_and_file_on_the_other_database(
    new_database, direction, tmp_path
):
    source, target = new_database(direction[0], "source"), new_database(direction[1], "target")
    with source.uow() as uow:
        demo.load_demo(uow)
        uow.commit()
    fill_with_history(source)
    archive = tmp_path / "备份" / "rectify.tar.gz"

    exported = cli(source, "export", "-o", str(archive))
    assert exported.exit_code == 0, exported.output
    assert "附件 2 个" in exported.output
    restored = cli(target, "import-archive", str(archive))
    assert restored.exit_code == 0, restored.output

    before, after = every_row(source), every_row(target)
    assert after == before
    assert all(before[name] for name in ("units", "cases", "case_events", "attachments", "outbox"))
    assert file_hashes(target) == file_hashes(source)
    with target.uow() as uow:
        sent_at = uow.session.scalar(
            select(OutboxMessage.sent_at).where(OutboxMessage.template == "test_only")
        )
        assert sent_at == datetime(2021, 7, 19, 1, 31, 5, 123456, tzinfo=UTC)
        assert sent_at.utcoffset() is not None
        assert uow.session.scalar(select(User.active)) is False
    assert cli(target, "audit", "verify").exit_code == 0


def test_a_restored_database_keeps_numbering_and_refuses_rewritten_history(
    new_database, direction, tmp_path
):
    source, target = new_database(direction[0], "source"), new_database(direction[1], "target")
    fill_with_history(source)
    archive = tmp_path / "rectify.tar.gz"
    assert cli(source, "export", "-o", str(archive)).exit_code == 0
    assert cli(target, "import-archive", str(archive)).exit_code == 0
    with target.uow() as uow:
        highest_case = max(uow.session.scalars(select(Case.id)))
        highest_event = max(uow.session.scalars(select(CaseEvent.id)))
        case_id = a_case(uow, state="notified").id
        uow.commit()
        new_events = uow.session.scalars(select(CaseEvent.id).filter_by(case_id=case_id)).all()
    assert case_id == highest_case + 1
    assert min(new_events) == highest_event + 1
    with pytest.raises(IntegrityError, match="只能追加"), target.engine.begin() as conn:
        conn.execute(text("DELETE FROM case_events"))


def test_restoring_into_a_database_with_data_is_refused(app, tmp_path):
    fill_with_history(app)
    archive = tmp_path / "rectify.tar.gz"
    assert cli(app, "export", "-o", str(archive)).exit_code == 0
    rows = every_row(app)

    result = cli(app, "import-archive", str(archive))

    assert result.exit_code == 2
    assert "只能恢复到空数据库，当前数据库已有数据" in result.stderr
    assert every_row(app) == rows


def test_an_archive_of_another_schema_revision_is_refused(app, new_database, tmp_path):
    fill_with_history(app)
    archive = tmp_path / "rectify.tar.gz"
    assert cli(app, "export", "-o", str(archive)).exit_code == 0
    older = new_database("sqlite", "older")
    command.downgrade(alembic_config(older.engine), "0001")

    result = cli(older, "import-archive", str(archive))

    assert result.exit_code == 2
    assert f"备份的数据库结构版本为 {current(app.engine)}，当前数据库为 0001" in result.stderr
    with older.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM units")).scalar() == 0


def test_a_tampered_archive_is_refused_and_writes_nothing(app, new_database, tmp_path):
    fill_with_history(app)
    archive = tmp_path / "rectify.tar.gz"
    assert cli(app, "export", "-o", str(archive)).exit_code == 0
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(archive, "r:gz") as original, tarfile.open(forged, "w:gz") as out:
        for info in original:
            content = original.extractfile(info).read()
            if info.name == "tables/cases.jsonl":
                content = content.replace(b'"state":"notified"', b'"state":"verified"', 1)
                info.size = len(content)
            out.addfile(info, io.BytesIO(content))
    empty = new_database("sqlite", "empty")

    result = cli(empty, "import-archive", str(forged))

    assert result.exit_code == 2
    assert "「tables/cases.jsonl」的校验值不符" in result.stderr
    with empty.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cases")).scalar() == 0
    assert not (empty.settings.data_dir / "attachments").exists()


def test_the_manifest_lists_revision_counts_time_and_checksums(app, tmp_path):
    fill_with_history(app)
    archive = tmp_path / "rectify.tar.gz"
    assert cli(app, "export", "-o", str(archive)).exit_code == 0

    with tarfile.open(archive, "r:gz") as opened:
        manifest = json.loads(opened.extractfile("manifest.json").read())
        members = {
            info.name: hashlib.sha256(opened.extractfile(info).read()).hexdigest()
            for info in opened
            if info.name not in ("manifest.json", "manifest.sig")
        }
        names = opened.getnames()

    assert manifest["schema_revision"] == current(app.engine)
    assert list(manifest["tables"]) == [t.name for t in Base.metadata.sorted_tables]
    assert manifest["tables"]["cases"]["rows"] == len(every_row(app)["cases"])
    assert datetime.fromisoformat(manifest["created_at"]).date() == NOTICE_DAY
    assert {name: spec["sha256"] for name, spec in manifest["members"].items()} == members
    assert sum(name.startswith("attachments/") for name in members) == 2
    assert names[:2] == ["manifest.json", "manifest.sig"]  # the manifest, then its signature
