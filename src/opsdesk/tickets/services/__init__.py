"""Every write to a ticket: one atomic function that also appends its timeline event.

See docs/subsystems/tickets.md. Split by concern; import from here.
"""

from opsdesk.tickets.services._common import UPDATABLE_FIELDS
from opsdesk.tickets.services.attachments import ticket_attachment_add
from opsdesk.tickets.services.lifecycle import (
    ticket_assign,
    ticket_create,
    ticket_created_event,
    ticket_status_change,
    ticket_update,
)
from opsdesk.tickets.services.messages import (
    ticket_call_record,
    ticket_customer_message_add,
    ticket_note_add,
    ticket_related_set,
    ticket_reply_add,
    ticket_system_event_add,
)
from opsdesk.tickets.services.references import reference_counters_sync, reference_next

__all__ = [
    "UPDATABLE_FIELDS",
    "reference_counters_sync",
    "reference_next",
    "ticket_assign",
    "ticket_attachment_add",
    "ticket_call_record",
    "ticket_create",
    "ticket_created_event",
    "ticket_customer_message_add",
    "ticket_note_add",
    "ticket_related_set",
    "ticket_reply_add",
    "ticket_status_change",
    "ticket_system_event_add",
    "ticket_update",
]
