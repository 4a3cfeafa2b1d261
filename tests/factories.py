"""Test data built through the services, so tests exercise the same paths as the product."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import User

from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tenancy.models import Contact, Contract, Organisation, Team
from opsdesk.tenancy.services import (
    contact_create,
    contract_create,
    organisation_create,
    staff_create,
    team_member_add,
)
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_create

_seq = itertools.count(1)


def make_org(
    name: str = "", *, domains: tuple[str, ...] = (), phones: tuple[str, ...] = ()
) -> Organisation:
    n = next(_seq)
    return organisation_create(
        code=f"org-{n}", name=name or f"Customer {n}", domains=domains, phones=phones
    )


def make_contact(
    org: Organisation | None, *, phones: tuple[str, ...] = (), emails: tuple[str, ...] = ()
) -> Contact:
    n = next(_seq)
    return contact_create(
        organisation=org,
        name=f"Contact {n}",
        phones=phones,
        emails=emails or (f"c{n}@example.com",),
    )


def make_contract(org: Organisation, lines: tuple[str, ...] = ("iaas",)) -> Contract:
    n = next(_seq)
    return contract_create(
        organisation=org, code=f"ct-{n}", name=f"Contract {n}", service_lines=lines
    )


def make_staff(
    *,
    team: Team | None = None,
    role: str = MemberRole.AGENT,
    staff_role: str = StaffRole.STAFF,
    password: str = "pw-Strong-123",
) -> User:
    n = next(_seq)
    user = staff_create(
        username=f"staff{n}", display_name=f"Staff {n}", password=password, role=staff_role
    )
    if team is not None:
        team_member_add(team=team, user=user, role=role)
    return user


def team(slug: str) -> Team:
    return Team.objects.get(slug=slug)


def make_ticket(org: Organisation | None = None, *, actor: User | None = None, **kwargs) -> Ticket:
    org = org or make_org()
    kwargs.setdefault("subject", "Server unreachable")
    return ticket_create(actor=actor, organisation=org, **kwargs)
