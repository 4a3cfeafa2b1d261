from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as _MessageHandler

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "email"

MakeMail = Callable[..., bytes]


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.OPSDESK = {
        **settings.OPSDESK,
        "SUPPORT_EMAIL": "support@opsdesk.test",
        "EMAIL_OWN_ADDRESSES": ["noreply@opsdesk.test"],
        "EMAIL_UNKNOWN_SENDER": "create",
        "EMAIL_RATE_LIMIT_PER_HOUR": 20,
        "EMAIL_REOPEN_DAYS": 7,
        "EMAIL_MAX_ATTACHMENT_BYTES": 1024 * 1024,
        "EMAIL_SEND_MAX_ATTEMPTS": 3,
    }
    settings.DEFAULT_FROM_EMAIL = "support@opsdesk.test"


@pytest.fixture
def make_mail() -> MakeMail:
    def build(
        *,
        sender: str = "Kim Minsu <minsu@customer.test>",
        to: str = "support@opsdesk.test",
        subject: str = "Server unreachable",
        body: str = "Our web server does not answer since 09:00.",
        cc: str = "",
        message_id: str | None = None,
        in_reply_to: str = "",
        references: str = "",
        headers: dict[str, str] | None = None,
        attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    ) -> bytes:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = to
        if cc:
            msg["Cc"] = cc
        msg["Subject"] = subject
        msg["Message-ID"] = message_id or make_msgid(domain="customer.test")
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
        if references:
            msg["References"] = references
        for name, value in (headers or {}).items():
            msg[name] = value
        msg.set_content(body)
        for filename, payload in attachments:
            msg.add_attachment(
                payload, maintype="application", subtype="octet-stream", filename=filename
            )
        return msg.as_bytes()

    return build


class _Capture(_MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[override]
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(settings) -> Iterator[_Capture]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django sends to it over SMTP."""
    handler = _Capture()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    try:
        yield handler
    finally:
        controller.stop()
