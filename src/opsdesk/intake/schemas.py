"""Shapes of the phone-intake API (the CTI endpoint)."""

from __future__ import annotations

from ninja import Schema

from opsdesk.api.types import PhoneText
from opsdesk.tickets.enums import Status


class CallIncomingIn(Schema):
    number: PhoneText


class CallerContactOut(Schema):
    id: int
    name: str


class CallerOrganisationOut(Schema):
    code: str
    name: str


class CallerTicketOut(Schema):
    reference: str
    subject: str
    status: Status


class CallIncomingOut(Schema):
    call_id: int
    number: str
    recognised: bool
    contact: CallerContactOut | None
    organisation: CallerOrganisationOut | None
    open_tickets: list[CallerTicketOut]
