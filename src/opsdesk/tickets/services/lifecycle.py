"""Opening a ticket and changing its fields, assignment and status (docs/subsystems/tickets.md)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.configcache import config_scope
from opsdesk.core.errors import InvalidInput
from opsdesk.core.rows import draws_ahead, inserts_together, row_insert
from opsdesk.sla.services import ticket_sla_open, ticket_sla_timers_start
from opsdesk.tenancy.models import Contact, Contract, Organisation, Team
from opsdesk.tickets.enums import (
    STATUS_TRANSITIONS,
    Channel,
    EventKind,
    Priority,
    Severity,
    Status,
    TicketKind,
)
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.routing import route_resolve
from opsdesk.tickets.services._common import (
    UPDATABLE_FIELDS,
    _check_assignee,
    _event,
    _label,
    _lock,
    _validate_choice,
    _validate_links,
)
from opsdesk.tickets.services.references import reference_and_ids, reference_draw_names


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
    _validate_choice(kind, TicketKind, "kind")
    _validate_choice(channel, Channel, "channel")
    _validate_choice(priority, Priority, "priority")
    _validate_choice(severity, Severity, "severity", blank=True)
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

    # Everything that can refuse the ticket has run: the writes need no savepoint of their
    # own inside a caller's transaction (mail and monitoring open tickets in theirs), where
    # one would cost two statements per ticket; a database error aborts the caller's
    # transaction either way.
    at = now()
    # On PostgreSQL the round-robin pick, when routing makes one, draws the ids and the
    # reference in its own statement (core.rows.draws_ahead): one round trip less.
    draw_names = reference_draw_names(kind=kind, at=at, models=(Ticket, TimelineEvent))
    with _opening_transaction(), config_scope(), draws_ahead(draw_names) as ahead:
        # Routing, the on-call roster and the SLA policy all come from the process cache of
        # configuration: inside config_scope its stamp is checked once for the whole opening.
        route = route_resolve(
            service_line=service_line,
            contract=contract,
            auto_assign=auto_assign and assignee is None and team is None,
        )
        ticket = Ticket(
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
        ticket_sla_open(ticket=ticket)
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
        # The number is drawn right before the INSERT, or with the round-robin pick just
        # before: on PostgreSQL one drawn and not used is a gap (services/references.py),
        # and nothing between can refuse the ticket. The ticket's and its first entry's ids
        # come with it, so that on PostgreSQL the ticket, its SLA timers and that entry go
        # out as one statement.
        ticket.reference, ids = reference_and_ids(
            kind=kind, at=at, models=(Ticket, TimelineEvent), drawn=ahead.values
        )
        ticket.pk, event_id = ids or (None, None)
        with inserts_together():
            row_insert(ticket)  # save(force_insert=True), without building the INSERT each time
            ticket_sla_timers_start(ticket=ticket)
            ticket._created_event = _event(  # type: ignore[attr-defined]  # see ticket_created_event
                ticket=ticket,
                kind=EventKind.CREATED,
                actor=actor,
                actor_label=actor_label,
                changes=snapshot,
                body=description,
                data={"routed": route.team is not None and team is None, "mode": route.mode},
                at=at,
                sla_refresh=False,
                pk=event_id,
            )
        return ticket


def _opening_transaction() -> AbstractContextManager[Any]:
    """The transaction an opening needs. On PostgreSQL, outside a caller's transaction,
    none: the ticket, its timers and its first entry are one INSERT (``inserts_together``),
    atomic on its own, and the round-robin stamp before it is a statement of its own whose
    loss would only move the rotation on by one (routing.round_robin_pick). That saves the
    BEGIN and COMMIT round trips of an API create. Anywhere else, one transaction (SQLite
    writes row by row)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return nullcontext()
    return transaction.atomic(savepoint=False)


def ticket_created_event(ticket: Ticket) -> TimelineEvent | None:
    """The ticket's "created" timeline entry: the one ``ticket_create`` wrote when ``ticket``
    is the instance it returned (no query; channels hang their first attachments on it),
    else read back without its body."""
    created: TimelineEvent | None = getattr(ticket, "_created_event", None)
    if created is not None:
        return created
    return ticket.events.order_by("id").only("id", "ticket_id").first()


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
        _validate_choice(changes["kind"], TicketKind, "kind")
    if "priority" in changes:
        _validate_choice(changes["priority"], Priority, "priority")
    if "severity" in changes:
        _validate_choice(changes["severity"], Severity, "severity", blank=True)
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
    _validate_choice(status, Status, "status")
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
