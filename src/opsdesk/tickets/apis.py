"""Tickets API (/api/v1/tickets). Handlers validate, resolve public keys to rows, call the
tickets services and selectors, and serialise. Visibility is access_ticket's and
ticket_queue's alone: a ticket of another team is a 404 and never listed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from opsdesk.api.auth import request_user
from opsdesk.api.lookups import resolve
from opsdesk.api.pagination import check_time_cursor
from opsdesk.api.types import is_clean_text
from opsdesk.core.errors import NotFound
from opsdesk.core.pagination import Page
from opsdesk.intake.email.services import ticket_email_reply_send
from opsdesk.sla.clocks import Clock
from opsdesk.sla.selectors import ticket_clocks
from opsdesk.tenancy.models import Contact, Contract, Organisation, Team
from opsdesk.tenancy.selectors import (
    contact_get,
    contract_get_by_code,
    organisation_get,
    staff_user_get,
    team_get,
)
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.schemas import (
    ClockOut,
    NoteIn,
    TicketCreateIn,
    TicketListQuery,
    TicketOut,
    TicketPageOut,
    TicketUpdateIn,
    TimelineEventOut,
)
from opsdesk.tickets.selectors import TicketFilters, access_ticket, ticket_queue, ticket_timeline
from opsdesk.tickets.services import (
    ticket_assign,
    ticket_create,
    ticket_note_add,
    ticket_status_change,
    ticket_update,
)

router = Router(tags=["tickets"])


def _organisation(code: str) -> Organisation:
    return resolve("organisation", lambda: organisation_get(code=code, details=False))


def _contact(contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    return resolve("contact", lambda: contact_get(contact_id=contact_id))


def _contract(code: str | None) -> Contract | None:
    return None if code is None else resolve("contract", lambda: contract_get_by_code(code=code))


def _team(field: str, slug: str | None) -> Team | None:
    return None if slug is None else resolve(field, lambda: team_get(slug=slug))


def _staff(username: str | None) -> User | None:
    if username is None:
        return None
    return resolve("assignee", lambda: staff_user_get(username=username))


def _ticket(request: HttpRequest, reference: str) -> Ticket:
    if not is_clean_text(reference, max_length=24):
        raise NotFound(_("No such ticket."))
    return access_ticket(actor=request_user(request), reference=reference)


@router.post("", response={201: TicketOut}, url_name="ticket_create")
def ticket_create_api(request: HttpRequest, payload: TicketCreateIn) -> tuple[int, Ticket]:
    ticket = ticket_create(
        actor=request_user(request),
        organisation=_organisation(payload.organisation),
        subject=payload.subject,
        kind=payload.kind,
        channel=payload.channel,
        description=payload.description,
        contact=_contact(payload.contact),
        contract=_contract(payload.contract),
        service_line=payload.service_line,
        priority=payload.priority,
        severity=payload.severity,
        team=_team("team", payload.team),
        technical_team=_team("technical_team", payload.technical_team),
        assignee=_staff(payload.assignee),
        auto_assign=payload.auto_assign,
    )
    return 201, ticket


@router.get("", response=TicketPageOut, url_name="ticket_list")
def ticket_list_api(request: HttpRequest, filters: Query[TicketListQuery]) -> Page[Ticket]:
    organisation = _organisation(filters.organisation) if filters.organisation else None
    team = _team("team", filters.team)
    assignee = _staff(filters.assignee)
    return ticket_queue(
        actor=request_user(request),
        queue=filters.queue,
        filters=TicketFilters(
            status=filters.status or "",
            kind=filters.kind or "",
            priority=filters.priority or "",
            channel=filters.channel or "",
            organisation_id=organisation.pk if organisation else None,
            team_id=team.pk if team else None,
            assignee_id=assignee.pk if assignee else None,
            search=filters.q or "",
            sla=filters.sla or "",
            due_within_minutes=filters.due_within,
        ),
        cursor=check_time_cursor(filters.cursor),
        limit=filters.limit,
        order=filters.sort,
    )


@router.get("/{reference}/sla", response=list[ClockOut], url_name="ticket_sla")
def ticket_sla_api(request: HttpRequest, reference: str) -> list[Clock]:
    """The ticket's SLA clocks, recomputed from its timeline now."""
    return list(ticket_clocks(ticket=_ticket(request, reference)).values())


@router.get("/{reference}", response=TicketOut, url_name="ticket_detail")
def ticket_detail_api(request: HttpRequest, reference: str) -> Ticket:
    return _ticket(request, reference)


def _field_changes(data: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {
        name: data[name]
        for name in ("subject", "description", "kind", "priority", "severity", "service_line")
        if name in data
    }
    if "contact" in data:
        changes["contact"] = _contact(data["contact"])
    if "contract" in data:
        changes["contract"] = _contract(data["contract"])
    for name in ("team", "technical_team"):
        if name in data:
            changes[name] = _team(name, data[name])
    return changes


@router.patch("/{reference}", response=TicketOut, url_name="ticket_update")
def ticket_update_api(request: HttpRequest, reference: str, payload: TicketUpdateIn) -> Ticket:
    """Change fields, status and assignee in one request; all or nothing."""
    actor = request_user(request)
    ticket = _ticket(request, reference)
    data = payload.model_dump(mode="json", exclude_unset=True)
    with transaction.atomic():
        changes = _field_changes(data)
        if changes:
            ticket = ticket_update(ticket=ticket, actor=actor, changes=changes)
        if "assignee" in data:
            ticket = ticket_assign(ticket=ticket, actor=actor, assignee=_staff(data["assignee"]))
        if "status" in data:
            ticket = ticket_status_change(
                ticket=ticket,
                actor=actor,
                status=data["status"],
                comment=data.get("status_comment", ""),
            )
    return ticket


@router.get("/{reference}/timeline", response=list[TimelineEventOut], url_name="ticket_timeline")
def ticket_timeline_api(request: HttpRequest, reference: str) -> list[TimelineEvent]:
    return ticket_timeline(ticket=_ticket(request, reference))


@router.post("/{reference}/notes", response={201: TimelineEventOut}, url_name="ticket_note")
def ticket_note_api(
    request: HttpRequest, reference: str, payload: NoteIn
) -> tuple[int, TimelineEvent]:
    ticket = _ticket(request, reference)
    return 201, ticket_note_add(ticket=ticket, actor=request_user(request), body=payload.body)


@router.post("/{reference}/replies", response={201: TimelineEventOut}, url_name="ticket_reply")
def ticket_reply_api(
    request: HttpRequest, reference: str, payload: NoteIn
) -> tuple[int, TimelineEvent]:
    ticket = _ticket(request, reference)
    return 201, ticket_email_reply_send(
        ticket=ticket, actor=request_user(request), body=payload.body
    )
