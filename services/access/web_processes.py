"""What several web processes need to agree on: the key that signs session cookies.

Without ``RECTIFY_SECRET_KEY`` each process signs its cookies with a random key of its own, so
a form served by one process fails its CSRF check in another and a signed-in browser bounces
to the login page. One process on loopback (a person trying it on their own machine) may do
without; several processes, or one that others can reach, may not start.
"""

from __future__ import annotations

import ipaddress

#: How to make a key, as the refusal tells it.
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


def loopback(host: str | None) -> bool:
    """Whether an address to listen on is reachable from this machine only."""
    if host is None:
        return False
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name other than localhost: whatever it resolves to, not assumed local
        return False


def key_refusal(secret_key: str, *, workers: int, local: bool, where: str) -> str | None:
    """Why the web server may not start without a configured secret key (Chinese), or None.

    ``where`` names the address (or socket) the server listens on, for the message.
    """
    if secret_key:
        return None
    reasons = []
    if workers > 1:
        reasons.append(f"以 {workers} 个进程")
    if not local:
        reasons.append(f"在本机以外可访问的地址（{where}）上")
    if not reasons:
        return None
    return (
        f"未配置密钥 RECTIFY_SECRET_KEY，不能{'、'.join(reasons)}启动网页服务："
        "各进程会各自生成随机密钥，登录和表单会随机失败，重启后所有人都要重新登录。\n"
        "请生成一个密钥，并在每个网页进程的环境中设置同一个值，例如：\n"
        f"  export RECTIFY_SECRET_KEY=$({MAKE_A_KEY})\n"
        "（生产环境写入 systemd 的 EnvironmentFile 或 .env 文件；请妥善保管，不要提交到代码库）"
    )
