"""Email through Django's mail backend."""

from __future__ import annotations

from smtplib import SMTPException

from django.core.mail import send_mail

from opsdesk.notify.channels.base import DeliveryResult, Message
from opsdesk.notify.channels.registry import channel_register


@channel_register("email")
class EmailChannel:
    name = "email"

    def send(self, address: str, message: Message) -> DeliveryResult:
        body = f"{message.body}\n\n{message.url}" if message.url else message.body
        try:
            sent = send_mail(message.subject, body, None, [address])
        except (SMTPException, OSError) as exc:
            return DeliveryResult(ok=False, error=f"{exc.__class__.__name__}: {exc}")
        return DeliveryResult(ok=sent == 1, error="" if sent == 1 else "not sent")
