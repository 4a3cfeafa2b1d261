"""Shared pieces of the ticket services: the timeline event writer, references, checks.

See docs/subsystems/tickets.md."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Model, TextChoices
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.core.people import display_name
from opsdesk.core.rows import RowReader, row_insert
from opsdesk.sla.services import ticket_sla_refresh
from opsdesk.tenancy.enums import ServiceLine
from opsdesk.tenancy.models import Contact, Contract, Organisation
from opsdesk.tenancy.selectors import is_staff_member
from opsdesk.tickets.enums import (
    EventKind,
)
from opsdesk.tickets.models import Ticket, TimelineEvent

# Fields ticket_update may change; status and assignee have services of their own because
# they carry workflow rules.
UPDATABLE_FIELDS = (
    "subject",
    "description",
    "kind",
    "priority",
    "severity",
    "service_line",
    "contact",
    "contract",
    "team",
    "technical_team",
)


def _label(value: Any) -> Any:
    """A timeline-friendly snapshot of a field value: ids plus a readable label for objects."""
    if isinstance(value, User):
        return {"id": value.pk, "label": display_name(value)}
    if isinstance(value, Model):
        return {"id": value.pk, "label": str(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# A write that touches one of these (or opens the ticket) can move an SLA clock.
_SLA_FIELDS = frozenset(
    {"status", "first_response_at", "resolved_at", "priority", "severity", "kind", "contract"}
)


def _event(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    actor_label: str = "",
    changes: dict[str, Any] | None = None,
    body: str = "",
    is_internal: bool = False,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    sla_refresh: bool = True,
    pk: int | None = None,
) -> TimelineEvent:
    """Append to the timeline, and refresh the SLA deadline when the write can move a clock
    (``sla_refresh=False``: the caller has done it, as ticket_create does before its INSERT).
    ``pk``: an id drawn beforehand (``core.rows.ids_next``)."""
    event = TimelineEvent(
        pk=pk,
        ticket=ticket,
        kind=kind,
        created_at=at or now(),
        actor=actor,
        actor_label=actor_label,
        changes=changes or {},
        body=body,
        is_internal=is_internal,
        data=data or {},
    )
    # Every ticket write appends here: the INSERT is written out (core.rows), which also
    # keeps the timeline append-only (it can only insert).
    row_insert(event)
    if sla_refresh and (kind == EventKind.CREATED or _SLA_FIELDS.intersection(changes or {})):
        ticket_sla_refresh(ticket=ticket)
    return event


def _validate_links(
    *,
    organisation: Organisation,
    contact: Contact | None,
    contract: Contract | None,
    service_line: str,
) -> None:
    if contact is not None and contact.organisation_id not in (None, organisation.pk):
        raise InvalidInput(_("The contact belongs to another organisation."), field="contact")
    if contract is not None:
        if contract.organisation_id != organisation.pk:
            raise InvalidInput(_("The contract belongs to another organisation."), field="contract")
        if service_line and service_line not in contract.service_lines:
            raise InvalidInput(
                _("The contract %(contract)s does not cover the service line %(line)s.")
                % {"contract": contract.code, "line": service_line},
                field="service_line",
            )
    if service_line and service_line not in choice_values(ServiceLine):
        raise InvalidInput(
            _("Unknown service line %(value)r.") % {"value": service_line}, field="service_line"
        )


@cache
def choice_values(choices: type[TextChoices]) -> tuple[str, ...]:
    """``choices.values``, built once: Django builds the list, labels included, on every
    access (four times per ticket opened; profiled)."""
    return tuple(choices.values)


def _validate_choice(
    value: str, choices: type[TextChoices], field: str, *, blank: bool = False
) -> None:
    if blank and value == "":
        return
    allowed = choice_values(choices)
    if value not in allowed:
        raise InvalidInput(
            _("Unknown %(field)s %(value)r. Allowed: %(allowed)s.")
            % {"field": field, "value": value, "allowed": ", ".join(allowed)},
            field=field,
        )


def _check_assignee(assignee: User | None) -> None:
    if assignee is not None and not is_staff_member(user=assignee):
        raise InvalidInput(_("Tickets can only be assigned to active staff."), field="assignee")


_TICKET = RowReader((Ticket, "t"))


def _lock(ticket: Ticket) -> Ticket:
    """The ticket's current row, locked until the caller's transaction ends (PostgreSQL; on
    SQLite the transaction's write lock does it). Written out (core.rows): every ticket write
    starts here, and select_for_update().get() cost several times the statement to build."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {_TICKET.columns()} FROM {Ticket._meta.db_table} t WHERE t.id = %s{lock}"  # noqa: S608 - names from the model
    row = _TICKET.fetch_one(sql, [ticket.pk])
    if row is None or row[0] is None:
        raise Ticket.DoesNotExist("Ticket matching query does not exist.")
    current: Ticket = row[0]  # type: ignore[assignment]
    return current


def _touch(ticket: Ticket) -> Ticket:
    """The ticket locked (``_lock``) with ``updated_at`` moved to now: a write that adds to
    the timeline without changing any other field."""
    current = _lock(ticket)
    current.updated_at = now()
    current.save(update_fields=["updated_at"])
    return current
