"""Delivery records: create one per message, attempt it through its channel, record the outcome."""

from __future__ import annotations

from django.contrib.auth.models import User

from opsdesk.core.clock import now
from opsdesk.notify.channels import (  # noqa: F401 - each registers itself
    email,
    nhn_sms,
    screen,
    slack,
    telegram,
    twilio_sms,
    twilio_voice,
)
from opsdesk.notify.channels.base import DeliveryResult, Message
from opsdesk.notify.channels.registry import channel_get
from opsdesk.notify.models import Delivery, DeliveryStatus
from opsdesk.tickets.models import Ticket

MAX_ATTEMPTS = 3


def delivery_create(
    *,
    channel: str,
    address: str,
    message: Message,
    user: User | None = None,
    ticket: Ticket | None = None,
    source: str = "",
) -> Delivery:
    moment = now()
    return Delivery.objects.create(
        ticket=ticket,
        source=source,
        user=user,
        channel=channel,
        address=address,
        subject=message.subject[:300],
        body=message.body,
        url=message.url[:500],
        created_at=moment,
        updated_at=moment,
    )


def delivery_attempt(*, delivery: Delivery) -> DeliveryResult:
    """Send once through the channel and record it. ``retryable`` in the result says whether
    the caller should schedule another attempt (it is False once attempts are used up)."""
    channel = channel_get(delivery.channel)
    message = Message(subject=delivery.subject, body=delivery.body, url=delivery.url)
    if channel is None:
        result = DeliveryResult(
            ok=False, error=f"unknown channel {delivery.channel}", retryable=False
        )
    else:
        result = channel.send(delivery.address, message)
    delivery.attempts += 1
    delivery.updated_at = now()
    delivery.provider_id = result.provider_id
    delivery.error = result.error[:2000]
    if result.ok:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = delivery.updated_at
    elif not result.retryable or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        result = DeliveryResult(ok=False, error=result.error, retryable=False)
    delivery.save(
        update_fields=["attempts", "updated_at", "provider_id", "error", "status", "sent_at"]
    )
    return result
