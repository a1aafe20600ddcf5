"""A real SMTP server on loopback (aiosmtpd) whose replies a test can script."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.redis_server import free_port


@dataclass
class Inbox:
    """What the server accepted, and the replies it should give next."""

    messages: list[EmailMessage] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)  # consumed one per RCPT
    rcpt_delay: float = 0.0  # seconds before each RCPT reply (a slow server)
    data_replies: list[str] = field(default_factory=list)  # consumed one per DATA
    # Consumed one per DATA, after the message is kept: "hang_up" closes the connection
    # instead of replying; "stall" replies only after ``stall_seconds``.
    data_faults: list[Literal["hang_up", "stall"]] = field(default_factory=list)
    stall_seconds: float = 2.0
    on_data: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class ScriptedHandler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.inbox.lock:
            reply = self.inbox.rcpt_replies.pop(0) if self.inbox.rcpt_replies else "250 OK"
        if self.inbox.rcpt_delay:
            await asyncio.sleep(self.inbox.rcpt_delay)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.inbox.lock:
            reply = self.inbox.data_replies.pop(0) if self.inbox.data_replies else "250 Queued"
            if reply.startswith("250"):
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                self.inbox.messages.append(message)  # type: ignore[arg-type]
            hook = self.inbox.on_data
            fault = self.inbox.data_faults.pop(0) if self.inbox.data_faults else None
        if hook is not None:
            hook()
        if fault == "hang_up":
            server.transport.close()  # the message is kept; the client never hears back
        elif fault == "stall":
            await asyncio.sleep(self.inbox.stall_seconds)
        return reply


class Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user = user.encode()
        self.password = password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login == self.user and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False)


def self_signed_context(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1; and the cert."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "smtp-cert.pem"
    key_path = folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


class SmtpServer:
    """aiosmtpd on 127.0.0.1, optionally with STARTTLS (or implicit TLS) and AUTH required."""

    def __init__(
        self,
        tls_context: ssl.SSLContext | None = None,
        user: str | None = None,
        password: str | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if implicit_tls is not None:
            kwargs["ssl_context"] = implicit_tls
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        if user is not None:
            kwargs.update(
                authenticator=Authenticator(user, password or ""),
                auth_required=True,
                # aiosmtpd only counts STARTTLS as TLS; an implicit-TLS socket is encrypted
                # from the first byte, so AUTH is offered there without that check.
                auth_require_tls=tls_context is not None,
            )
        self.controller = Controller(
            ScriptedHandler(self.inbox), hostname="127.0.0.1", port=self.port, **kwargs
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
