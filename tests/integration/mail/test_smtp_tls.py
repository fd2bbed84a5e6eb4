"""The SMTP sender over STARTTLS with a login, and over implicit TLS (self-signed loopback)."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifications.smtp import SmtpConfig, SmtpSender
from services.cases import transitions
from services.mail import outbox
from tests.builders import a_case, a_target, a_unit
from tests.support.mailserver import MailServer


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def _login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (auth_data.login, auth_data.password) == (b"rectify", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def _one_notice(app) -> None:
    with app.uow() as uow:
        a_unit(uow, "yongde", contact_email="yd@units.test")
        case = a_case(uow, target_code=a_target(uow, unit_code="yongde").code)
        transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()


def _sender(server: MailServer, **tls) -> SmtpSender:
    password = tls.pop("password", "s3cret")
    config = SmtpConfig(
        host="127.0.0.1",
        port=server.port,
        sender="rectify@localhost",
        username="rectify" if password else "",
        password=password,
        validate_certs=False,  # self-signed on loopback
        timeout=10,
        **tls,
    )
    return SmtpSender(config)


def test_mail_goes_over_starttls_with_a_login(app, tls_context):
    server = MailServer(
        tls_context=tls_context,
        require_starttls=True,
        authenticator=_login,
        auth_required=True,
    ).start()
    _one_notice(app)
    try:
        report = outbox.dispatch(app, sender=_sender(server, starttls=True))
    finally:
        server.stop()

    assert report.sent == 1
    assert server.received[0].rcpt_tos == ["yd@units.test"]


def test_a_wrong_password_keeps_mail_pending_with_a_clear_reason(app, tls_context):
    server = MailServer(
        tls_context=tls_context,
        require_starttls=True,
        authenticator=_login,
        auth_required=True,
    ).start()
    _one_notice(app)
    try:
        report = outbox.dispatch(app, sender=_sender(server, starttls=True, password="wrong"))
    finally:
        server.stop()

    assert report.sent == 0 and report.retried == 1
    assert "SMTP 登录失败" in report.unreachable
    assert server.received == []


def test_mail_goes_over_implicit_tls(app, tls_context):
    server = MailServer(ssl_context=tls_context).start()
    _one_notice(app)
    try:
        report = outbox.dispatch(app, sender=_sender(server, tls=True, password=""))
    finally:
        server.stop()

    assert report.sent == 1
    assert len(server.received) == 1
