from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from opsdesk.tenancy.models import Contact, Contract, Organisation
from tests.factories import make_contact, make_contract, make_org, make_staff, team

PASSWORD = "pw-Strong-123"


@dataclass
class Desk:
    agent: User
    colleague: User
    org: Organisation
    contact: Contact
    contract: Contract


@pytest.fixture
def desk(db) -> Desk:
    ops = team("service-operations")
    agent = make_staff(team=ops)
    colleague = make_staff(team=ops)
    org = make_org("Hanbit Cloud Demo", phones=("02-0000-1000",))
    contact = make_contact(org, phones=("010-0000-0001",))
    contract = make_contract(org, ("iaas",))
    return Desk(agent=agent, colleague=colleague, org=org, contact=contact, contract=contract)


@pytest.fixture
def agent_client(desk: Desk) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(desk.agent)
    return client


def htmx(client: Client, url: str, data: dict) -> object:
    return client.post(url, data, HTTP_HX_REQUEST="true")
