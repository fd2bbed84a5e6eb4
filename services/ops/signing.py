"""Archive signatures: HMAC-SHA256 over ``manifest.json``'s bytes with the installation's key.

The manifest lists the sha256 of every other member, so signing it signs the whole archive.
The key is ``RECTIFY_ARCHIVE_KEY`` or, when that is empty, ``RECTIFY_SECRET_KEY``; the HMAC key
is derived from it for this purpose only, so the same secret signing session cookies and
unit links never signs an archive with the same bytes. A restore on another machine needs
the same key there.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from services.core.errors import ServiceError
from services.core.settings import Settings

#: The archive member holding the manifest's signature.
SIGNATURE = "manifest.sig"
ALGORITHM = "HMAC-SHA256"
_PURPOSE = b"rectify archive manifest v1"
_HOW_TO_SET = (
    '请设置环境变量 RECTIFY_ARCHIVE_KEY（可用 python -c "import secrets; '
    'print(secrets.token_hex(32))" 生成，并妥善保存），或 RECTIFY_SECRET_KEY'
)


class KeyMissing(ServiceError):
    """No key to sign or check an archive with: nothing was written."""


class SignatureRefused(ServiceError):
    """The archive's signature is missing or wrong: nothing was restored."""


def key(settings: Settings, *, restoring: bool = False) -> bytes:
    """The HMAC key derived from the configured archive key; refused when none is set."""
    secret = settings.archive_key or settings.secret_key
    if not secret:
        if restoring:
            raise KeyMissing(
                "未配置备份签名密钥，无法核验备份文件：请将 RECTIFY_ARCHIVE_KEY"
                "（或 RECTIFY_SECRET_KEY）设为导出该备份的系统所用的同一密钥"
            )
        raise KeyMissing(
            f"未配置备份签名密钥，无法导出：{_HOW_TO_SET}；恢复时须在目标机器上配置同一密钥"
        )
    return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def sign(hmac_key: bytes, manifest: bytes) -> str:
    """The content of ``manifest.sig`` for these manifest bytes."""
    mac = hmac.new(hmac_key, manifest, hashlib.sha256).hexdigest()
    return json.dumps({"algorithm": ALGORITHM, "signature": mac}) + "\n"


def verify(hmac_key: bytes, manifest: bytes, signature: bytes | None) -> None:
    """Refuse, naming the reason, unless ``signature`` signs ``manifest`` with this key."""
    if signature is None:
        raise SignatureRefused(
            f"备份文件没有签名（缺少 {SIGNATURE}），无法确认它由本系统导出且未被改动，已拒绝恢复"
        )
    try:
        spec = json.loads(signature.decode("utf-8"))
        algorithm, mac = spec["algorithm"], spec["signature"]
    except (ValueError, TypeError, KeyError) as exc:
        raise SignatureRefused(f"备份文件的签名（{SIGNATURE}）无法读取，已拒绝恢复") from exc
    if algorithm != ALGORITHM:
        raise SignatureRefused(
            f"备份文件的签名算法「{algorithm}」不受支持（应为 {ALGORITHM}），已拒绝恢复"
        )
    expected = hmac.new(hmac_key, manifest, hashlib.sha256).hexdigest()
    if not isinstance(mac, str) or not hmac.compare_digest(mac.encode(), expected.encode()):
        raise SignatureRefused(
            "备份文件的签名不符，已拒绝恢复：备份在导出后被改动过，或导出它的系统使用了另一个"
            "签名密钥（RECTIFY_ARCHIVE_KEY，未设置时为 RECTIFY_SECRET_KEY，两边须一致）"
        )
