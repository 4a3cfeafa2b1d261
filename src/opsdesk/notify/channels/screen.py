"""A notice on the person's screen; ``address`` is the user id."""

from __future__ import annotations

from django.contrib.auth.models import User

from opsdesk.notify.channels.base import DeliveryResult, Message
from opsdesk.notify.channels.registry import channel_register
from opsdesk.notify.services import notice_broadcast


@channel_register("screen")
class ScreenChannel:
    name = "screen"

    def send(self, address: str, message: Message) -> DeliveryResult:
        user = User.objects.filter(pk=int(address)).first() if address.isdigit() else None
        if user is None:
            return DeliveryResult(ok=False, error="no such user", retryable=False)
        notice = notice_broadcast(
            kind="escalation",
            title=message.subject,
            body=message.body,
            url=message.url,
            recipient=user,
        )
        return DeliveryResult(ok=True, provider_id=str(notice.pk))
