"""Email through Django's mail backend."""

from __future__ import annotations

import re
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import NoReverseMatch, reverse

from opsdesk.notify.channels.base import DeliveryResult, Message
from opsdesk.notify.channels.registry import channel_register


def _ack_token(url: str) -> str | None:
    """The signed token of an on-call acknowledgement link in ``url``, if it is one."""
    try:
        prefix, _sep, suffix = reverse("oncall:ack", args=["TOKEN"]).partition("TOKEN")
    except NoReverseMatch:
        return None
    match = re.search(re.escape(prefix) + r"([A-Za-z0-9_\-:]+)" + re.escape(suffix), url)
    return match.group(1) if match else None


def _headers(message: Message) -> dict[str, str]:
    """Replies go to the support mailbox, where intake recognises a reply to a page as its
    acknowledgement (docs/subsystems/email.md): by the quoted link, or — when the person
    deletes the quote — by the Message-ID that carries the same signed token."""
    support = str(settings.OPSDESK["SUPPORT_EMAIL"])
    headers = {"Reply-To": support}
    token = _ack_token(message.url) if message.url else None
    if token:
        domain = support.rsplit("@", 1)[-1]
        headers["Message-ID"] = f"<ack.{token.replace(':', '.')}@{domain}>"
    return headers


@channel_register("email")
class EmailChannel:
    name = "email"

    def send(self, address: str, message: Message) -> DeliveryResult:
        body = f"{message.body}\n\n{message.url}" if message.url else message.body
        mail = EmailMessage(message.subject, body, None, [address], headers=_headers(message))
        try:
            sent = mail.send()
        except (SMTPException, OSError) as exc:
            return DeliveryResult(ok=False, error=f"{exc.__class__.__name__}: {exc}")
        return DeliveryResult(ok=sent == 1, error="" if sent == 1 else "not sent")
