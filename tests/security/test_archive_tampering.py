"""A forged archive is refused by ``rectify import-archive``, whatever checksum it recomputed:
the manifest is signed with the installation's key, and a restore refuses attachment rows whose
stored name the system cannot have made. Each refusal writes nothing."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import tarfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.bootstrap import App
from services.core.settings import Settings
from services.db.access_models import User
from services.db.models import Base
from services.ops import signing
from tests.integration.ops import test_backup_restore as backups

new_database = backups.new_database  # the fixture: empty migrated databases of either kind
Edit = Callable[[bytes], bytes]
_forgeries = itertools.count(1)


def run(application: App, *args: str, key: str | None = None):
    env = {
        "RECTIFY_DATABASE_URL": application.settings.database_url,
        "RECTIFY_DATA_DIR": str(application.settings.data_dir),
        "RECTIFY_SECRET_KEY": application.settings.secret_key if key is None else key,
        "RECTIFY_ARCHIVE_KEY": "",
        "COLUMNS": "300",  # no line wrapping in the messages asserted on
    }
    return CliRunner().invoke(cli_app, ["--as-of", "2021-07-19", *args], env=env)


def replace(old: bytes, new: bytes) -> Edit:
    def edit(content: bytes) -> bytes:
        assert old in content, f"{old!r} not in the member"
        return content.replace(old, new, 1)

    return edit


def forge(archive: Path, edits: dict[str, Edit], *, sign_with: str | None = None) -> Path:
    """A copy of ``archive`` with members edited and their sha256 in the manifest recomputed,
    its old signature kept, or signed anew with ``sign_with`` (someone holding that key)."""
    with tarfile.open(archive, "r:gz") as original:
        members = [(info, original.extractfile(info).read()) for info in original]
    content = {info.name: data for info, data in members}
    manifest = json.loads(content["manifest.json"])
    for name, edit in edits.items():
        content[name] = edit(content[name])
        digest = hashlib.sha256(content[name]).hexdigest()
        manifest["members"][name] = {"sha256": digest, "size": len(content[name])}
    content["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    if sign_with is not None:
        hmac_key = signing.key(Settings(archive_key=sign_with))
        content["manifest.sig"] = signing.sign(hmac_key, content["manifest.json"]).encode()
    forged = archive.with_name(f"forged-{next(_forgeries)}.tar.gz")
    with tarfile.open(forged, "w:gz") as out:
        for info, _ in members:
            info.size = len(content[info.name])
            out.addfile(info, io.BytesIO(content[info.name]))
    return forged


@pytest.fixture
def exported(app, tmp_path) -> Path:
    """An archive of a filled database with a viewer account, signed with "test-secret"."""
    backups.fill_with_history(app)
    with app.uow() as uow:
        uow.session.add(
            User(
                username="bk-viewer", display_name="只读人员", password_hash="x", role="viewer",
                active=True, created_at=datetime(2021, 7, 1, tzinfo=timezone(timedelta(hours=8))),
            )
        )  # fmt: skip
        uow.commit()
    archive = tmp_path / "archive" / "rectify.tar.gz"
    result = run(app, "export", "-o", str(archive))
    assert result.exit_code == 0, result.output
    return archive


def assert_nothing_written(target: App) -> None:
    with target.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name != "categories":  # the seeded catalogue, there before
                assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    assert not (target.settings.data_dir / "attachments").exists()


def test_a_viewer_made_admin_with_the_checksum_recomputed_is_refused(
    exported, new_database, backend
):
    forged = forge(exported, {"tables/users.jsonl": replace(b'"role":"viewer"', b'"role":"admin"')})
    target = new_database(backend, "target")

    result = run(target, "import-archive", str(forged))

    assert result.exit_code == 2
    assert "备份文件的签名不符，已拒绝恢复" in result.stderr
    assert_nothing_written(target)


def test_a_rewritten_event_is_refused_and_even_re_signed_the_audit_finds_it(
    exported, new_database, backend
):
    actor = replace('"actor":"督查员"'.encode(), '"actor":"某领导"'.encode())
    target = new_database(backend, "target")

    refused = run(
        target, "import-archive", str(forge(exported, {"tables/case_events.jsonl": actor}))
    )

    assert refused.exit_code == 2
    assert "备份文件的签名不符" in refused.stderr
    assert_nothing_written(target)
    # Someone holding the key signs the forgery: the restore takes it, the hash chain does not.
    resigned = forge(exported, {"tables/case_events.jsonl": actor}, sign_with="test-secret")
    assert run(target, "import-archive", str(resigned)).exit_code == 0
    audit = run(target, "audit", "verify", "--json")
    assert audit.exit_code == 1
    (mismatch,) = json.loads(audit.stdout)["mismatches"]
    assert "历史记录与哈希链不符：该记录在数据库中被改动" in mismatch["message"]


@pytest.mark.parametrize("signed", [False, True], ids=["old-signature", "re-signed"])
def test_an_attachment_row_naming_a_path_outside_the_folder_is_refused(
    exported, new_database, backend, signed
):
    with tarfile.open(exported, "r:gz") as opened:
        rows = opened.extractfile("tables/attachments.jsonl").read().decode().splitlines()
    first = json.loads(rows[0])
    traversal = replace(
        f'"stored_name":"{first["stored_name"]}"'.encode(), b'"stored_name":"../../etc/hostname"'
    )
    forged = forge(
        exported,
        {"tables/attachments.jsonl": traversal},
        sign_with="test-secret" if signed else None,
    )
    target = new_database(backend, "target")

    result = run(target, "import-archive", str(forged))

    assert result.exit_code == 2
    if signed:  # only a key holder gets this far: the row itself is refused, named
        assert (
            f"备份中的附件记录（tables/attachments.jsonl 第 1 行，id={first['id']}）"
            "的存储文件名「../../etc/hostname」不是系统生成的名称"
        ) in result.stderr
    else:
        assert "备份文件的签名不符" in result.stderr
    assert_nothing_written(target)


def test_an_archive_signed_with_another_key_or_not_at_all_is_refused(
    exported, new_database, backend
):
    target = new_database(backend, "target")
    other_key = forge(exported, {}, sign_with="another-installations-key")
    with (
        tarfile.open(exported, "r:gz") as original,
        tarfile.open(exported.with_name("unsigned.tar.gz"), "w:gz") as unsigned,
    ):
        for info in original:
            if info.name != "manifest.sig":
                unsigned.addfile(info, original.extractfile(info))

    refused_key = run(target, "import-archive", str(other_key))
    refused_unsigned = run(target, "import-archive", str(exported.with_name("unsigned.tar.gz")))
    wrong_here = run(target, "import-archive", str(exported), key="not-the-exporters-key")

    assert [r.exit_code for r in (refused_key, refused_unsigned, wrong_here)] == [2, 2, 2]
    assert "导出它的系统使用了另一个签名密钥" in refused_key.stderr
    assert "备份文件没有签名（缺少 manifest.sig）" in refused_unsigned.stderr
    assert "备份文件的签名不符" in wrong_here.stderr
    assert_nothing_written(target)
    assert run(target, "import-archive", str(exported)).exit_code == 0  # the genuine one


def test_export_without_a_key_refuses_and_says_how_to_set_one(app, tmp_path):
    archive = tmp_path / "rectify.tar.gz"

    result = run(app, "export", "-o", str(archive), key="")

    assert result.exit_code == 2
    assert "未配置备份签名密钥，无法导出：请设置环境变量 RECTIFY_ARCHIVE_KEY" in result.stderr
    assert not archive.exists() and not archive.with_name("rectify.tar.gz.partial").exists()
    with app.engine.connect() as conn:  # nothing else happened either
        assert conn.execute(text("SELECT COUNT(*) FROM cases")).scalar() == 0


def test_export_refuses_an_attachment_row_whose_stored_name_is_not_the_systems(app, tmp_path):
    backups.fill_with_history(app)
    with app.engine.begin() as conn:
        attachment_id = conn.execute(text("SELECT MIN(id) FROM attachments")).scalar()
        conn.execute(
            text("UPDATE attachments SET stored_name = '../../etc/hostname' WHERE id = :i"),
            {"i": attachment_id},
        )
    archive = tmp_path / "rectify.tar.gz"

    result = run(app, "export", "-o", str(archive))

    assert result.exit_code == 2
    assert (
        f"附件记录 id={attachment_id} 的存储文件名「../../etc/hostname」不是系统生成的名称"
    ) in result.stderr
    assert not archive.exists() and not archive.with_name("rectify.tar.gz.partial").exists()
