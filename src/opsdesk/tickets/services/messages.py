"""Notes, replies, calls, customer messages and system entries on the timeline
(docs/subsystems/tickets.md)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.tickets.enums import (
    EventKind,
    Status,
)
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services._common import (
    _event,
    _label,
    _lock,
    _touch,
)


@transaction.atomic
def ticket_note_add(*, ticket: Ticket, actor: User | None, body: str) -> TimelineEvent:
    """An internal note: staff only, never sent to the customer."""
    if not body.strip():
        raise InvalidInput(_("A note cannot be empty."), field="body")
    current = _touch(ticket)
    return _event(ticket=current, kind=EventKind.NOTE, actor=actor, body=body, is_internal=True)


@transaction.atomic
def ticket_reply_add(*, ticket: Ticket, actor: User, body: str) -> TimelineEvent:
    """A reply to the customer. The first one stops the first-response clock; a new ticket
    moves to 'in progress'. The email channel delivers it (docs/architecture.md)."""
    if not body.strip():
        raise InvalidInput(_("A reply cannot be empty."), field="body")
    current = _lock(ticket)
    at = now()
    fields = ["updated_at"]
    changes: dict[str, Any] = {}
    if current.first_response_at is None:
        current.first_response_at = at
        fields.append("first_response_at")
        changes["first_response_at"] = {"before": None, "after": at.isoformat()}
    if current.status == Status.NEW:
        changes["status"] = {"before": current.status, "after": Status.OPEN}
        current.status = Status.OPEN
        fields.append("status")
    current.updated_at = at
    current.save(update_fields=fields)
    return _event(
        ticket=current, kind=EventKind.REPLY, actor=actor, body=body, changes=changes, at=at
    )


@transaction.atomic
def ticket_call_record(
    *,
    ticket: Ticket,
    actor: User | None,
    number: str,
    notes: str,
    duration_seconds: int | None,
    call_id: int,
) -> TimelineEvent:
    """A phone call about this ticket, as a timeline entry (the intake app owns the call)."""
    current = _touch(ticket)
    return _event(
        ticket=current,
        kind=EventKind.CALL,
        actor=actor,
        body=notes,
        data={"number": number, "duration_seconds": duration_seconds, "call_id": call_id},
    )


def ticket_system_event_add(
    *,
    ticket: Ticket,
    actor_label: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    is_internal: bool = True,
    new_ticket: bool = False,
    pk: int | None = None,
) -> TimelineEvent:
    """Something a system did or saw on the ticket (an alert repeated, a mail bounced):
    recorded on the timeline without changing any field.

    ``new_ticket``: the ticket was opened in the caller's transaction (a monitoring incident
    and its escalation), which holds the new row: nothing to lock, and no savepoint or
    ``updated_at`` bump to pay for. ``pk``: an id drawn beforehand (``core.rows.ids_next``).
    """
    if new_ticket and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("new_ticket=True runs in the transaction that opened the ticket")
    with contextlib.nullcontext() if new_ticket else transaction.atomic():
        current = ticket if new_ticket else _touch(ticket)
        return _event(
            ticket=current,
            kind=EventKind.SYSTEM,
            actor=None,
            actor_label=actor_label,
            body=body,
            is_internal=is_internal,
            data=data,
            pk=pk,
        )


# No savepoint: nothing here can refuse the message, so only a database error can end it,
# and that aborts the caller's transaction anyway (mail threads replies inside its own,
# where a savepoint is two more statements per reply).
@transaction.atomic(savepoint=False)
def ticket_customer_message_add(
    *, ticket: Ticket, actor_label: str, body: str, data: dict[str, Any] | None = None
) -> TimelineEvent:
    """A message from the customer (an email answer): appended to the timeline; a ticket
    waiting on the customer goes back to 'in progress'."""
    current = _lock(ticket)
    at = now()
    changes: dict[str, Any] = {}
    fields = ["updated_at"]
    if current.status == Status.PENDING_CUSTOMER:
        changes["status"] = {"before": current.status, "after": Status.OPEN}
        current.status = Status.OPEN
        fields.append("status")
    current.updated_at = at
    current.save(update_fields=fields)
    return _event(
        ticket=current,
        kind=EventKind.CUSTOMER_MESSAGE,
        actor=None,
        actor_label=actor_label,
        body=body,
        changes=changes,
        data=data,
        at=at,
    )


@transaction.atomic
def ticket_related_set(*, ticket: Ticket, related_to: Ticket, actor_label: str = "") -> Ticket:
    """Link a follow-up ticket to the earlier one it continues (a mail on a closed thread)."""
    if related_to.pk == ticket.pk:
        raise InvalidInput(_("A ticket cannot follow up itself."), field="related_to")
    current = _lock(ticket)
    if current.related_to_id == related_to.pk:
        return current
    changes = {"related_to": {"before": _label(current.related_to), "after": _label(related_to)}}
    current.related_to = related_to
    current.updated_at = now()
    current.save(update_fields=["related_to", "updated_at"])
    _event(
        ticket=current,
        kind=EventKind.FIELD_CHANGED,
        actor=None,
        actor_label=actor_label,
        changes=changes,
    )
    return current
