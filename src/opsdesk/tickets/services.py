"""Every write to a ticket: one atomic function that also appends its timeline event.

See docs/subsystems/tickets.md.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Model
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.sla.services import ticket_sla_refresh
from opsdesk.tenancy.enums import ServiceLine
from opsdesk.tenancy.models import Contact, Contract, Organisation, Team
from opsdesk.tenancy.selectors import is_staff_member
from opsdesk.tickets.enums import (
    STATUS_TRANSITIONS,
    Channel,
    EventKind,
    Priority,
    Severity,
    Status,
    TicketKind,
)
from opsdesk.tickets.models import Attachment, ReferenceSequence, Ticket, TimelineEvent
from opsdesk.tickets.routing import route_resolve

REFERENCE_PREFIX = {TicketKind.CSR: "CSR", TicketKind.INCIDENT: "INC"}

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
        profile = getattr(value, "staff_profile", None)
        return {"id": value.pk, "label": profile.display_name if profile else value.get_username()}
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
) -> TimelineEvent:
    event = TimelineEvent.objects.create(
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
    if kind == EventKind.CREATED or _SLA_FIELDS.intersection(changes or {}):
        ticket_sla_refresh(ticket=ticket)
    return event


def reference_next(*, kind: str, at: datetime) -> str:
    """Next public reference, e.g. CSR-2026-000123; the year is the support centre's local year.

    The counter row is bumped with one UPDATE inside the caller's transaction, which holds
    the row lock (PostgreSQL) or the write lock (SQLite) until commit, so references never
    repeat.
    """
    prefix = REFERENCE_PREFIX[TicketKind(kind)]
    year = at.astimezone(ZoneInfo(settings.TIME_ZONE)).year
    updated = ReferenceSequence.objects.filter(prefix=prefix, year=year).update(
        last_value=F("last_value") + 1
    )
    if not updated:
        ReferenceSequence.objects.get_or_create(prefix=prefix, year=year)
        ReferenceSequence.objects.filter(prefix=prefix, year=year).update(
            last_value=F("last_value") + 1
        )
    value = ReferenceSequence.objects.get(prefix=prefix, year=year).last_value
    return f"{prefix}-{year}-{value:06d}"


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
    if service_line and service_line not in ServiceLine.values:
        raise InvalidInput(
            _("Unknown service line %(value)r.") % {"value": service_line}, field="service_line"
        )


def _validate_choice(value: str, allowed: list[str], field: str, *, blank: bool = False) -> None:
    if blank and value == "":
        return
    if value not in allowed:
        raise InvalidInput(
            _("Unknown %(field)s %(value)r. Allowed: %(allowed)s.")
            % {"field": field, "value": value, "allowed": ", ".join(allowed)},
            field=field,
        )


def _check_assignee(assignee: User | None) -> None:
    if assignee is not None and not is_staff_member(user=assignee):
        raise InvalidInput(_("Tickets can only be assigned to active staff."), field="assignee")


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    organisation: Organisation,
    subject: str,
    kind: str = TicketKind.CSR,
    channel: str = Channel.AGENT,
    description: str = "",
    contact: Contact | None = None,
    contract: Contract | None = None,
    service_line: str = "",
    priority: str = Priority.NORMAL,
    severity: str = "",
    team: Team | None = None,
    technical_team: Team | None = None,
    assignee: User | None = None,
    auto_assign: bool = True,
    actor_label: str = "",
) -> Ticket:
    """Open a ticket, route it by service line and contract, and record who opened it.

    An explicit team or assignee overrides routing; ``auto_assign=False`` leaves the ticket
    unassigned in its team's queue.
    """
    subject = subject.strip()
    if not subject:
        raise InvalidInput(_("A ticket needs a subject."), field="subject")
    _validate_choice(kind, TicketKind.values, "kind")
    _validate_choice(channel, Channel.values, "channel")
    _validate_choice(priority, Priority.values, "priority")
    _validate_choice(severity, Severity.values, "severity", blank=True)
    if contract is None and contact is None and not organisation.is_active:
        raise InvalidInput(_("The organisation is not active."), field="organisation")
    if contract is not None and not service_line and contract.service_lines:
        service_line = contract.service_lines[0]
    _validate_links(
        organisation=organisation, contact=contact, contract=contract, service_line=service_line
    )
    _check_assignee(assignee)
    if kind == TicketKind.INCIDENT and not severity:
        severity = Severity.SIMPLE

    route = route_resolve(
        service_line=service_line,
        contract=contract,
        auto_assign=auto_assign and assignee is None and team is None,
    )
    at = now()
    ticket = Ticket.objects.create(
        reference=reference_next(kind=kind, at=at),
        kind=kind,
        channel=channel,
        status=Status.NEW,
        priority=priority,
        severity=severity,
        subject=subject,
        description=description,
        organisation=organisation,
        contact=contact,
        contract=contract,
        service_line=service_line,
        team=team or route.team,
        technical_team=technical_team or route.technical_team,
        assignee=assignee or route.assignee,
        created_at=at,
        updated_at=at,
    )
    snapshot = {
        name: {"before": None, "after": _label(getattr(ticket, name))}
        for name in (
            "kind",
            "channel",
            "status",
            "priority",
            "severity",
            "subject",
            "organisation",
            "contact",
            "contract",
            "service_line",
            "team",
            "technical_team",
            "assignee",
        )
        if getattr(ticket, name) not in (None, "")
    }
    _event(
        ticket=ticket,
        kind=EventKind.CREATED,
        actor=actor,
        actor_label=actor_label,
        changes=snapshot,
        body=description,
        data={"routed": route.team is not None and team is None},
        at=at,
    )
    return ticket


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: User | None, changes: dict[str, Any]) -> Ticket:
    """Change descriptive fields; one timeline event lists every field with before and after."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Cannot change %(fields)s here.") % {"fields": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    current = _lock(ticket)
    if "subject" in changes and not str(changes["subject"]).strip():
        raise InvalidInput(_("A ticket needs a subject."), field="subject")
    if "kind" in changes:
        _validate_choice(changes["kind"], TicketKind.values, "kind")
    if "priority" in changes:
        _validate_choice(changes["priority"], Priority.values, "priority")
    if "severity" in changes:
        _validate_choice(changes["severity"], Severity.values, "severity", blank=True)
    _validate_links(
        organisation=current.organisation,
        contact=changes.get("contact", current.contact),
        contract=changes.get("contract", current.contract),
        service_line=changes.get("service_line", current.service_line),
    )
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        before = getattr(current, name)
        if before != value:
            diff[name] = {"before": _label(before), "after": _label(value)}
            setattr(current, name, value)
    if not diff:
        return current
    current.updated_at = now()
    current.save(update_fields=[*diff.keys(), "updated_at"])
    _event(ticket=current, kind=EventKind.FIELD_CHANGED, actor=actor, changes=diff)
    return current


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, actor: User | None, assignee: User | None, team: Team | None = None
) -> Ticket:
    """Give the ticket to a person (or nobody), optionally moving it to another team."""
    _check_assignee(assignee)
    current = _lock(ticket)
    diff: dict[str, Any] = {}
    if current.assignee_id != (assignee.pk if assignee else None):
        diff["assignee"] = {"before": _label(current.assignee), "after": _label(assignee)}
        current.assignee = assignee
    if team is not None and current.team_id != team.pk:
        diff["team"] = {"before": _label(current.team), "after": _label(team)}
        current.team = team
    if not diff:
        return current
    current.updated_at = now()
    current.save(update_fields=[*diff.keys(), "updated_at"])
    _event(ticket=current, kind=EventKind.ASSIGNED, actor=actor, changes=diff)
    return current


@transaction.atomic
def ticket_status_change(
    *, ticket: Ticket, actor: User | None, status: str, comment: str = "", actor_label: str = ""
) -> Ticket:
    """Move the ticket through the workflow (enums.STATUS_TRANSITIONS)."""
    _validate_choice(status, Status.values, "status")
    current = _lock(ticket)
    if current.status == status:
        return current
    if status not in STATUS_TRANSITIONS[Status(current.status)]:
        raise InvalidInput(
            _("A ticket cannot go from %(before)s to %(after)s.")
            % {"before": current.get_status_display(), "after": Status(status).label},
            field="status",
        )
    at = now()
    changes: dict[str, Any] = {"status": {"before": current.status, "after": status}}
    fields = ["status", "updated_at"]
    if status == Status.RESOLVED:
        current.resolved_at = at
        fields.append("resolved_at")
    elif status == Status.CLOSED:
        current.closed_at = at
        fields.append("closed_at")
    elif current.status == Status.RESOLVED:
        changes["resolved_at"] = {"before": _label(current.resolved_at), "after": None}
        current.resolved_at = None
        fields.append("resolved_at")
    current.status = status
    current.updated_at = at
    current.save(update_fields=fields)
    _event(
        ticket=current,
        kind=EventKind.STATUS_CHANGED,
        actor=actor,
        actor_label=actor_label,
        changes=changes,
        body=comment,
        at=at,
    )
    return current


@transaction.atomic
def ticket_note_add(*, ticket: Ticket, actor: User | None, body: str) -> TimelineEvent:
    """An internal note: staff only, never sent to the customer."""
    if not body.strip():
        raise InvalidInput(_("A note cannot be empty."), field="body")
    current = _lock(ticket)
    current.updated_at = now()
    current.save(update_fields=["updated_at"])
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
    current = _lock(ticket)
    current.updated_at = now()
    current.save(update_fields=["updated_at"])
    return _event(
        ticket=current,
        kind=EventKind.CALL,
        actor=actor,
        body=notes,
        data={"number": number, "duration_seconds": duration_seconds, "call_id": call_id},
    )


@transaction.atomic
def ticket_system_event_add(
    *,
    ticket: Ticket,
    actor_label: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    is_internal: bool = True,
) -> TimelineEvent:
    """Something a system did or saw on the ticket (an alert repeated, a mail bounced):
    recorded on the timeline without changing any field."""
    current = _lock(ticket)
    current.updated_at = now()
    current.save(update_fields=["updated_at"])
    return _event(
        ticket=current,
        kind=EventKind.SYSTEM,
        actor=None,
        actor_label=actor_label,
        body=body,
        is_internal=is_internal,
        data=data,
    )


def _safe_filename(name: str) -> str:
    """The last path component, without control characters; never empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return cleaned[:255] or "attachment"


@transaction.atomic
def ticket_attachment_add(
    *,
    ticket: Ticket,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    event: TimelineEvent | None = None,
    content_id: str = "",
    is_inline: bool = False,
    max_bytes: int | None = None,
) -> Attachment:
    """Store a file on the ticket (content-addressed on disk, so a file sent twice is stored
    once). ``max_bytes`` lets a channel enforce its size limit with a clear error."""
    if event is not None and event.ticket_id != ticket.pk:
        raise InvalidInput(_("The event belongs to another ticket."), field="event")
    if max_bytes is not None and len(content) > max_bytes:
        raise InvalidInput(
            _("The file %(name)s is larger than the limit of %(limit)d bytes.")
            % {"name": filename, "limit": max_bytes},
            field="file",
        )
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        ticket=ticket,
        event=event,
        filename=_safe_filename(filename),
        content_type=(content_type or "application/octet-stream")[:150],
        size=len(content),
        sha256=digest,
        content_id=content_id[:255],
        is_inline=is_inline,
        created_at=now(),
    )
    existing = Attachment.objects.filter(sha256=digest).exclude(file="").first()
    if existing is not None and existing.file.storage.exists(existing.file.name):
        attachment.file.name = existing.file.name
        attachment.save()
    else:
        attachment.file.save(digest, ContentFile(content), save=True)
    return attachment


# --- Appended for the email channel (docs/subsystems/email.md) ----------------------------


@transaction.atomic
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
