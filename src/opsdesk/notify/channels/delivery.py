"""Delivery records: create one per message, attempt it through its channel, record the outcome
(docs/subsystems/notifications.md#deliveries)."""

from __future__ import annotations

import logging
import urllib.parse

from django.contrib.auth.models import User

from opsdesk.core.clock import now
from opsdesk.core.masking import mask_phone, mask_text
from opsdesk.notify.channels import (  # noqa: F401 - each registers itself
    email,
    kakao_alimtalk,
    nhn_sms,
    screen,
    sens_sms,
    slack,
    teams,
    telegram,
    twilio_sms,
    twilio_voice,
)
from opsdesk.notify.channels.base import DeliveryResult, Message
from opsdesk.notify.channels.registry import channel_get
from opsdesk.notify.models import Delivery, DeliveryStatus
from opsdesk.notify.selectors import quiet_hours_end
from opsdesk.tickets.models import Ticket

logger = logging.getLogger("opsdesk.notify")

MAX_ATTEMPTS = 3
# A screen notice disturbs nobody who is away from the screen: it never waits.
QUIET_EXEMPT_CHANNELS = frozenset({"screen"})


def address_masked(address: str) -> str:
    """An address as logs may show it: phone numbers and mailboxes masked, webhook URLs cut
    to their host (their path is the secret)."""
    if address.startswith(("http://", "https://")):
        return f"{urllib.parse.urlsplit(address).hostname or '?'}/..."
    if address.strip("+").replace("-", "").replace(" ", "").isdigit():
        return mask_phone(address)
    return mask_text(address)


def delivery_create(
    *,
    channel: str,
    address: str,
    message: Message,
    user: User | None = None,
    ticket: Ticket | None = None,
    source: str = "",
    urgent: bool = True,
) -> Delivery:
    """A queued delivery. A non-urgent one for a person in their quiet hours gets
    ``not_before`` = the end of that window (``outbox.delivery_queue`` schedules it then)."""
    moment = now()
    not_before = None
    if not urgent and user is not None and channel not in QUIET_EXEMPT_CHANNELS:
        not_before = quiet_hours_end(user=user, at=moment)
    return Delivery.objects.create(
        ticket=ticket,
        source=source,
        user=user,
        channel=channel,
        address=address,
        subject=message.subject[:300],
        body=message.body,
        url=message.url[:500],
        urgent=urgent,
        not_before=not_before,
        created_at=moment,
        updated_at=moment,
    )


def delivery_attempt(*, delivery: Delivery) -> DeliveryResult:
    """Send once through the channel and record it. ``retryable`` in the result says whether
    the caller should schedule another attempt (it is False once attempts are used up)."""
    channel = channel_get(delivery.channel)
    message = Message(
        subject=delivery.subject,
        body=delivery.body,
        url=delivery.url,
        key=f"opsdesk-delivery-{delivery.pk}",
    )
    if channel is None:
        result = DeliveryResult(
            ok=False, error=f"unknown channel {delivery.channel}", retryable=False
        )
    else:
        result = channel.send(delivery.address, message)
    delivery.attempts += 1
    delivery.updated_at = now()
    delivery.provider_id = result.provider_id[:100]
    # Providers echo numbers back in their errors; the error is shown on the timeline.
    delivery.error = mask_text(result.error)[:2000]
    if result.ok:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = delivery.updated_at
    elif not result.retryable or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        result = DeliveryResult(ok=False, error=result.error, retryable=False)
    delivery.save(
        update_fields=["attempts", "updated_at", "provider_id", "error", "status", "sent_at"]
    )
    _log(delivery, result)
    return result


def _log(delivery: Delivery, result: DeliveryResult) -> None:
    extra = {
        "delivery": delivery.pk,
        "channel": delivery.channel,
        "to": address_masked(delivery.address),
        "attempt": delivery.attempts,
        "provider_id": delivery.provider_id,
    }
    if result.ok:
        logger.info("delivery sent", extra=extra)
    else:
        extra.update(error=delivery.error, retryable=result.retryable)
        logger.warning("delivery failed", extra=extra)
