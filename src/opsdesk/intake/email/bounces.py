"""Delivery-status notifications of our own mail: never answered; a permanent failure marks
the contact address as bouncing and notes the ticket; see docs/subsystems/email.md."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.intake.email.articles import Outcome
from opsdesk.intake.email.classify import Classification
from opsdesk.intake.email.results import ParsedMessage
from opsdesk.intake.email.selectors import outbound_by_message_ids
from opsdesk.intake.models import InboundAction, OutboundStatus
from opsdesk.tenancy.models import ContactEmail
from opsdesk.tickets.services import ticket_system_event_add

_MESSAGE_ID_LINE = re.compile(r"^message-id:\s*<([^<>\s]+@[^<>\s]+)>", re.I | re.M)
SCANNED_BYTES = 100_000


def _bounced_message_ids(parsed: ParsedMessage) -> list[str]:
    ids = [i for i in (parsed.in_reply_to, *parsed.references) if i]
    texts = [parsed.text_body[:SCANNED_BYTES]]
    texts += [
        a.head(SCANNED_BYTES).decode("utf-8", "replace")
        for a in parsed.attachments
        if a.filename.endswith((".eml", ".txt")) or a.content_type.startswith(("message/", "text/"))
    ]
    for text in texts:
        ids += _MESSAGE_ID_LINE.findall(text)
    return list(dict.fromkeys(ids))


def _mark_bouncing(addresses: tuple[str, ...]) -> list[str]:
    marked = []
    for email in ContactEmail.objects.filter(address__in=addresses, bouncing_since__isnull=True):
        email.bouncing_since = now()
        email.save(update_fields=["bouncing_since"])
        marked.append(email.address)
    return marked


def bounce_record(*, parsed: ParsedMessage, verdict: Classification) -> Outcome:
    """Never answered. A permanent failure marks our contacts' addresses as bouncing, and the
    bounced outbound mail (found by its Message-ID) gets a note on its ticket."""
    permanent = verdict.permanent is not False
    marked = _mark_bouncing(verdict.failed_recipients) if permanent else []
    outbound = outbound_by_message_ids(message_ids=_bounced_message_ids(parsed))
    reason = "bounce ({}): {}".format(
        "permanent" if permanent else "temporary", ", ".join(verdict.failed_recipients) or "-"
    )
    if outbound is None:
        return Outcome(InboundAction.IGNORED, reason)
    if permanent:
        outbound.status = OutboundStatus.BOUNCED
        outbound.last_error = f"{reason} {' '.join(verdict.status_codes)}"[:2000]
        outbound.save(update_fields=["status", "last_error"])
    event = ticket_system_event_add(
        ticket=outbound.ticket,
        actor_label="email",
        body=_("Mail to %(to)s bounced (%(codes)s).")
        % {
            "to": ", ".join(verdict.failed_recipients or outbound.to),
            "codes": ", ".join(verdict.status_codes) or verdict.reason,
        },
        data={"bounce": True, "outbound_id": outbound.pk, "bouncing": marked},
    )
    return Outcome(InboundAction.IGNORED, reason, outbound.ticket, event)
