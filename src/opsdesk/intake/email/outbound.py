"""Building and delivering OpsDesk's own mails over SMTP; see docs/subsystems/email.md.

Delivery is called by tasks.outbound_send_task; queueing lives in services.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.intake.email import conf
from opsdesk.intake.models import OutboundMessage, OutboundStatus
from opsdesk.tickets.models import Attachment
from opsdesk.tickets.services import ticket_system_event_add

logger = logging.getLogger("opsdesk.intake.email")

BASE_BACKOFF_SECONDS = 30


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: str
    retry_in: timedelta | None = None


def outbound_build(*, outbound: OutboundMessage) -> EmailMessage:
    headers = {"Message-ID": f"<{outbound.message_id}>"}
    if outbound.in_reply_to:
        headers["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        headers["References"] = " ".join(f"<{r}>" for r in outbound.references.split())
    if outbound.auto_submitted:
        # RFC 3834: customers' auto-responders must not answer our automatic mail.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    message = EmailMessage(
        subject=outbound.subject,
        body=outbound.body,
        from_email=conf.support_address(),
        to=list(outbound.to),
        cc=list(outbound.cc),
        headers=headers,
    )
    for attachment in Attachment.objects.filter(pk__in=outbound.attachment_ids):
        with attachment.file.open("rb") as handle:
            message.attach(attachment.filename, handle.read(), attachment.content_type)
    return message


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BASE_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0))


def _record_failure(outbound: OutboundMessage, error: str) -> DeliveryResult:
    max_attempts = conf.send_max_attempts()
    with transaction.atomic():
        current = OutboundMessage.objects.select_for_update().get(pk=outbound.pk)
        current.attempts += 1
        current.last_error = error[:2000]
        given_up = current.attempts >= max_attempts
        if given_up:
            current.status = OutboundStatus.FAILED
        current.save(update_fields=["attempts", "last_error", "status"])
        if given_up:
            ticket_system_event_add(
                ticket=current.ticket,
                actor_label="email",
                body=_("Mail to %(to)s could not be delivered after %(n)d attempts: %(error)s")
                % {"to": ", ".join(current.to), "n": current.attempts, "error": error[:300]},
                data={"outbound_id": current.pk, "delivery_failed": True},
            )
            return DeliveryResult(status=OutboundStatus.FAILED)
    return DeliveryResult(status=OutboundStatus.QUEUED, retry_in=_backoff(current.attempts))


def outbound_deliver(*, outbound_id: int) -> DeliveryResult:
    """Send one queued mail. No transaction is held during the SMTP conversation."""
    outbound = OutboundMessage.objects.select_related("ticket").get(pk=outbound_id)
    if outbound.status != OutboundStatus.QUEUED:
        return DeliveryResult(status=outbound.status)
    try:
        message = outbound_build(outbound=outbound)
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([message])
    except Exception as exc:  # SMTP, DNS, socket and storage errors are all retried
        logger.warning("outbound delivery failed", extra={"outbound_id": outbound_id})
        return _record_failure(outbound, f"{type(exc).__name__}: {exc}")
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status=OutboundStatus.SENT, sent_at=now(), attempts=outbound.attempts + 1, last_error=""
    )
    return DeliveryResult(status=OutboundStatus.SENT)
